"""The text rule at the leads' doors: the public inquiry form (which must never answer 500), the
lead form, notes on a lead, and assignment rules."""

import time

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from kehu.leads.forms import inquiry_token
from kehu.leads.models import Lead, LeadEvent


def _inquiry(**extra):
    return {
        "company_name": "杭州明远五金有限公司",
        "contact_name": "李女士",
        "phone": "13800001111",
        "email": "",
        "region": "浙江",
        "message": "想了解报价。",
        "website": "",
        "token": inquiry_token(time.time() - 30),
        **extra,
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [("company_name", "明远\x07五金"), ("contact_name", "李\x1b"), ("message", "报\x85价"), ("region", "浙\x7f江")],
)
def test_the_public_inquiry_form_refuses_control_characters_without_a_500(client, team, field, value):
    response = client.post(reverse("leads:inquiry"), _inquiry(**{field: value}))
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert "U+" in response.context["form"].errors[field][0]
    assert not Lead.objects.exists()


def test_an_inquiry_that_joins_an_existing_lead_follows_the_rule_too(client, team):
    assert client.post(reverse("leads:inquiry"), _inquiry()).status_code == 302
    events = LeadEvent.objects.count()
    response = client.post(reverse("leads:inquiry"), _inquiry(message="再次\x07询价"))
    assert response.status_code == 400
    assert LeadEvent.objects.count() == events


def test_a_message_keeps_its_lines(client, team):
    assert client.post(reverse("leads:inquiry"), _inquiry(message="第一行\r\n第二行")).status_code == 302
    assert Lead.objects.get().message == "第一行\r\n第二行"


def test_the_lead_form_refuses_text_problems_on_the_field(client, team):
    client.force_login(team.rep1)
    response = client.post(
        reverse("leads:lead-create"), {"company_name": "甲公司\x07", "phone": "13800000000", "source": "manual"}
    )
    assert response.status_code in (200, 400)
    assert "company_name" in response.context["form"].errors
    assert not Lead.objects.exists()


def test_notes_and_rules_follow_the_rule(team):
    from kehu.leads.services import assignment_rule_set, lead_create, lead_disqualify, lead_respond

    lead = lead_create(actor=team.rep1, company_name="甲公司", phone="13800000000")
    with pytest.raises(ValidationError) as exc:
        lead_respond(lead=lead, actor=team.rep1, note="回电\x00")
    assert list(exc.value.message_dict) == ["note"]
    with pytest.raises(ValidationError) as exc:
        lead_disqualify(lead=lead, actor=team.rep1, reason="no_need", note="x" * 301)
    assert list(exc.value.message_dict) == ["note"]
    with pytest.raises(ValidationError) as exc:
        assignment_rule_set(actor=team.admin, region="浙\x00江", user=team.rep1)
    assert list(exc.value.message_dict) == ["region"]
    lead.refresh_from_db()
    assert lead.status == "new" and lead.disqualify_note == ""
