from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.urls import reverse

from kehu.collection.models import CalendarDay
from kehu.leads import services
from kehu.leads.models import Lead, LeadEvent, LeadSettings, SlaRule
from kehu.leads.sla import add_working_hours
from kehu.leads.tasks import escalate_overdue_leads

SH = ZoneInfo("Asia/Shanghai")
FRIDAY_4PM = datetime(2026, 11, 27, 16, 0, tzinfo=SH)


@pytest.fixture
def clock(monkeypatch):
    from django.utils import timezone

    def set_to(moment):
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return set_to


def test_working_hours_skip_the_weekend(db):
    # Friday 16:00 + 4 working hours (09:00–18:00): 2 on Friday, 2 on Monday.
    assert add_working_hours(FRIDAY_4PM, 4) == datetime(2026, 11, 30, 11, 0, tzinfo=SH)
    # Before opening on Monday: the clock starts at 09:00.
    assert add_working_hours(datetime(2026, 11, 30, 7, 0, tzinfo=SH), 1) == datetime(2026, 11, 30, 10, 0, tzinfo=SH)
    # Saturday evening: Monday 09:00 + 3.
    assert add_working_hours(datetime(2026, 11, 28, 20, 0, tzinfo=SH), 3) == datetime(2026, 11, 30, 12, 0, tzinfo=SH)


def test_holidays_and_make_up_days_come_from_the_calendar(db):
    CalendarDay.objects.create(day=datetime(2026, 11, 30).date(), is_working_day=False, name="假日")
    assert add_working_hours(FRIDAY_4PM, 4) == datetime(2026, 12, 1, 11, 0, tzinfo=SH)
    CalendarDay.objects.create(day=datetime(2026, 11, 28).date(), is_working_day=True, name="调休")
    assert add_working_hours(FRIDAY_4PM, 4) == datetime(2026, 11, 28, 11, 0, tzinfo=SH)


def test_configurable_hours_and_rule_per_source(db):
    LeadSettings.objects.create(work_start=time(8, 30), work_end=time(17, 30))
    SlaRule.objects.create(source="web_inquiry", hours=2)
    from kehu.leads.sla import sla_due

    assert sla_due("web_inquiry", FRIDAY_4PM) == datetime(2026, 11, 30, 9, 0, tzinfo=SH)
    assert sla_due("manual", FRIDAY_4PM) == datetime(2026, 11, 30, 15, 0, tzinfo=SH)  # default 8 hours


def test_overdue_lead_warns_the_manager_once(team, clock, client, django_capture_on_commit_callbacks):
    SlaRule.objects.create(source="web_inquiry", hours=4)
    clock(FRIDAY_4PM)
    lead = services.lead_create(
        actor=team.rep1, owner=team.rep1, company_name="慢回复公司", phone="1", source="web_inquiry"
    )
    answered = services.lead_create(
        actor=team.rep1, owner=team.rep1, company_name="已回复公司", phone="1", source="web_inquiry"
    )
    assert lead.sla_due_at == datetime(2026, 11, 30, 11, 0, tzinfo=SH)
    # Over the weekend nothing is due.
    assert escalate_overdue_leads.enqueue(now=datetime(2026, 11, 29, 23, 0, tzinfo=SH).isoformat()).return_value == 0
    clock(datetime(2026, 11, 30, 10, 0, tzinfo=SH))
    services.lead_respond(lead=answered, actor=team.rep1)
    later = datetime(2026, 11, 30, 11, 5, tzinfo=SH)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert escalate_overdue_leads.enqueue(now=later.isoformat()).return_value == 1
        assert escalate_overdue_leads.enqueue(now=later.isoformat()).return_value == 0
    assert [m.to for m in mail.outbox] == [[team.manager1.email]]
    assert "慢回复公司" in mail.outbox[0].subject
    assert LeadEvent.objects.filter(lead=lead, kind="escalated").count() == 1
    clock(later)
    client.force_login(team.rep1)
    content = client.get(reverse("leads:lead-list")).content.decode()
    assert f'id="lead-{lead.pk}" class="table-danger lead-overdue"' in content
    assert f'id="lead-{answered.pk}">' in content
    assert Lead.objects.get(pk=lead.pk).sla_escalated_at == later


def test_changing_the_source_moves_the_deadline(team, clock):
    SlaRule.objects.create(source="web_inquiry", hours=2)
    clock(FRIDAY_4PM)
    lead = services.lead_create(actor=team.rep1, owner=team.rep1, company_name="甲", phone="1")
    assert lead.sla_due_at == datetime(2026, 11, 30, 15, 0, tzinfo=SH)  # default 8 working hours
    clock(datetime(2026, 11, 28, 10, 0, tzinfo=SH))
    services.lead_update(lead=lead, actor=team.rep1, expected_version=1, source="web_inquiry")
    assert Lead.objects.get(pk=lead.pk).sla_due_at == datetime(2026, 11, 27, 18, 0, tzinfo=SH)
