"""The text rule at the collection doors: the information form, the reason for a return, the
holiday calendar and region routes."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from kehu.collection.models import CalendarDay, InfoForm
from kehu.collection.models import InfoFormStatus as S
from kehu.collection.services import infoform_create, infoform_transition, region_route_set


def test_the_information_form_follows_the_rule(team):
    with pytest.raises(ValidationError) as exc:
        infoform_create(
            actor=team.rep1,
            name="无锡\x07新光",
            region="江苏",
            source="trade_show",
            collected_on=date.today(),
            content="x" * 10_001,
        )
    assert set(exc.value.message_dict) == {"name", "content"}
    assert not InfoForm.objects.exists()


def test_a_return_reason_and_a_route_follow_the_rule(team, info_of):
    form = info_of(team.rep1)
    with pytest.raises(ValidationError) as exc:
        infoform_transition(form=form, actor=team.manager1, to=S.RETURNED, reason="缺少\x00电话")
    assert list(exc.value.message_dict) == ["reason"]
    assert InfoForm.objects.get(pk=form.pk).status == S.FILED
    with pytest.raises(ValidationError) as exc:
        region_route_set(actor=team.manager1, region="江\x1b苏", rep=team.rep1)
    assert list(exc.value.message_dict) == ["region"]


def test_the_calendar_page_shows_a_refused_name_on_the_form(client, team):
    client.force_login(team.admin)
    response = client.post("/collection/calendar/", {"day": "2026-10-01", "is_working_day": "0", "name": "国庆\x07"})
    assert response.status_code == 200
    assert "name" in response.context["form"].errors
    assert not CalendarDay.objects.exists()
