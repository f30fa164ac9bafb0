"""Overdue steps show on the dashboards of the people responsible for them (CUS-3, WRN-6)."""

from datetime import date, datetime

import pytest
from django.core import mail
from django.utils import timezone

from kehu.collection.models import InfoFormStatus
from kehu.collection.selectors import overdue_for
from kehu.collection.services import infoform_transition
from kehu.collection.tasks import collection_overdue_reminders

pytestmark = pytest.mark.django_db
S = InfoFormStatus
MON = date(2026, 11, 16)


def _at(day):
    return timezone.make_aware(datetime(day.year, day.month, day.day, 10))


@pytest.fixture
def forms(team, info_of, archivist, clock):
    """On Monday 16 Nov: a draft (rep1), a filed form (rep2), an approved form (rep3)."""
    clock(_at(MON))
    draft = info_of(team.rep1, name="甲公司", draft=True, collected_on=MON)
    filed = info_of(team.rep2, name="乙公司", collected_on=MON)
    approved = infoform_transition(
        form=info_of(team.rep3, name="丙公司", collected_on=MON), actor=team.manager2, to=S.APPROVED
    )
    return draft, filed, approved


def test_nothing_is_overdue_on_time(team, forms, clock, archivist):
    clock(_at(date(2026, 11, 17)))
    for user in (team.rep1, team.manager1, archivist):
        assert not overdue_for(user)


def test_overdue_steps_reach_the_responsible_people(team, forms, clock, archivist):
    draft, filed, approved = forms
    clock(_at(date(2026, 11, 19)))  # Thursday: filing due Wed, approval and archiving due Tue
    assert [f.pk for f in overdue_for(team.rep1).filing] == [draft.pk]
    assert overdue_for(team.rep2).filing == []  # rep2 filed in time; the wait is the manager's
    assert [f.pk for f in overdue_for(team.manager1).approval] == [filed.pk]
    assert overdue_for(team.manager2).approval == []  # not manager2's team
    assert [f.pk for f in overdue_for(archivist).archiving] == [approved.pk]
    assert overdue_for(team.rep1).archiving == [] and overdue_for(team.service1).filing == []


def test_dashboards_show_each_person_their_overdue_forms(client, team, forms, clock, archivist):
    clock(_at(date(2026, 11, 19)))
    expected = {team.rep1: "甲公司", team.manager1: "乙公司", archivist: "丙公司"}
    for user, name in expected.items():
        client.force_login(user)
        html = client.get("/").content.decode()
        assert 'id="collection-overdue"' in html and name in html
        for other in set(expected.values()) - {name}:
            assert other not in html
    client.force_login(team.service1)
    assert 'id="collection-overdue"' not in client.get("/").content.decode()


def test_daily_reminder_mails_the_responsible_people(team, forms, clock, archivist, django_capture_on_commit_callbacks):
    clock(_at(date(2026, 11, 19)))
    with django_capture_on_commit_callbacks(execute=True):
        sent = collection_overdue_reminders.call()
    assert sent == 3
    to = sorted(m.to[0] for m in mail.outbox)
    assert to == sorted([team.rep1.email, team.manager1.email, archivist.email])
    assert "乙公司" in next(m.body for m in mail.outbox if m.to == [team.manager1.email])
