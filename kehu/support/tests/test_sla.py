"""The SLA clock of a ticket on a controlled clock: a weekend, the lunch break, a paused state, a
breach and its escalation (once), the warning before it (once), a holiday added later and the
clock recomputed."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from kehu.collection.models import CalendarDay
from kehu.core.lookups import OPEN_TICKET, ask
from kehu.customers.services import customer_create
from kehu.notifications.models import Notification
from kehu.support import services
from kehu.support.models import Priority, SlaPolicy, TicketCategory, TicketState

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
S = TicketState


def at(day: int, month: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SH)


@pytest.fixture
def ticket(team):
    repairs = TicketCategory.objects.create(name="维修")
    SlaPolicy.objects.create(category=None, priority=Priority.NORMAL, first_response_minutes=60, resolution_minutes=960)
    SlaPolicy.objects.create(
        category=repairs, priority=Priority.NORMAL, first_response_minutes=120, resolution_minutes=480
    )
    customer = customer_create(actor=team.rep1, owner=team.rep1, name="宁波精工机床有限公司")
    # Friday 25 September 16:00: 90 minutes of Friday left, the weekend, then Monday.
    return services.ticket_open(
        actor=team.rep1,
        customer=customer,
        subject="主轴异响",
        category=repairs,
        priority=Priority.NORMAL,
        owner=team.rep1,
        now=at(25, 9, 16),
    )


def test_the_category_policy_sets_both_clocks_across_the_weekend_and_lunch(ticket):
    assert (ticket.policy.first_response_minutes, ticket.policy.resolution_minutes) == (120, 480)
    assert ticket.number.startswith("TK2026-")
    assert ticket.response_due_at == at(28, 9, 9)  # 90 min on Friday + 30 on Monday
    assert ticket.resolution_due_at == at(28, 9, 16)  # 90 + 210 before lunch + 180 after


def test_a_waiting_state_pauses_the_resolution_clock(ticket, team):
    t = services.ticket_transition(ticket=ticket, actor=team.rep1, to=S.IN_PROGRESS, now=at(28, 9, 8, 45))
    assert t.first_responded_at == at(28, 9, 8, 45) and t.response_due_at == at(28, 9, 9)
    assert not t.response_breached
    t = services.ticket_transition(ticket=t, actor=team.rep1, to=S.WAITING_PARTS, now=at(28, 9, 10))
    assert t.resolution_due_at is None  # paused: 90 (Fri) + 90 (Mon) minutes used
    services.sla_refresh(t, now=at(28, 9, 15))
    assert t.resolution_due_at is None and not t.resolution_breached
    t = services.ticket_transition(ticket=t, actor=team.rep1, to=S.IN_PROGRESS, now=at(29, 9, 9))
    assert t.resolution_due_at == at(29, 9, 15)  # 300 min left from Tue 09:00: 180 + 120 after lunch


def test_breach_escalates_to_the_manager_once_and_warns_before(ticket, team, django_capture_on_commit_callbacks):
    ticket = services.ticket_transition(ticket=ticket, actor=team.rep1, to=S.IN_PROGRESS, now=at(28, 9, 8, 45))
    expected = [(14, 0, 0, 0), (15, 10, 1, 0), (15, 20, 0, 0), (16, 1, 0, 1), (17, 0, 0, 0)]  # warned/breached once
    for hour, minute, warned, breached in expected:
        with django_capture_on_commit_callbacks(execute=True):
            counts = services.sla_scan(now=at(28, 9, hour, minute))
        assert counts == {"scanned": 1, "warned": warned, "breached": breached}, (hour, minute)
    ticket.refresh_from_db()
    assert ticket.resolution_breached and ticket.resolution_due_at == at(28, 9, 16)
    told = Notification.objects.filter(kind="ticket_sla_breached").values_list("recipient__username", flat=True)
    assert sorted(told) == sorted({team.rep1.manager.username, "rep1"})
    assert list(
        Notification.objects.filter(kind="ticket_sla_warning").values_list("recipient__username", flat=True)
    ) == ["rep1"]


def test_a_holiday_added_later_moves_the_deadline_when_recomputed(ticket, team):
    services.ticket_transition(ticket=ticket, actor=team.rep1, to=S.IN_PROGRESS, now=at(28, 9, 8, 45))
    CalendarDay.objects.create(day="2026-09-28", is_working_day=False, name="临时放假")
    services.sla_scan(now=at(28, 9, 12))
    ticket.refresh_from_db()
    # Monday no longer counts: 90 min on Friday, then Tuesday 08:30 + 390 min.
    assert ticket.resolution_due_at == at(29, 9, 16)
    assert ticket.response_due_at == at(29, 9, 9)  # the response itself came on the holiday, in time


def test_transitions_follow_the_table(ticket, team):
    from django.core.exceptions import ValidationError

    t = services.ticket_transition(ticket=ticket, actor=team.rep1, to=S.RESOLVED, now=at(28, 9, 9))
    assert t.resolved_at == at(28, 9, 9) and t.resolution_due_at == at(28, 9, 16) and not t.resolution_breached
    t = services.ticket_transition(ticket=t, actor=team.rep1, to=S.CLOSED, now=at(28, 9, 10))
    with pytest.raises(ValidationError):
        services.ticket_transition(ticket=t, actor=team.rep1, to=S.IN_PROGRESS, now=at(28, 9, 11))
    changes = list(t.state_changes.values_list("from_state", "to_state"))
    assert changes == [("", "new"), ("new", "resolved"), ("resolved", "closed")]


def test_a_reopened_ticket_runs_on_from_where_it_stopped(ticket, team):
    t = services.ticket_transition(ticket=ticket, actor=team.rep1, to=S.RESOLVED, now=at(28, 9, 9, 30))
    t = services.ticket_transition(ticket=t, actor=team.rep1, to=S.IN_PROGRESS, now=at(29, 9, 8, 30))
    # 90 (Fri) + 60 (Mon 08:30–09:30) used; 330 left from Tue 08:30: 210 + 120 after lunch.
    assert t.resolution_due_at == at(29, 9, 15) and t.resolved_at is None


def test_without_a_category_the_priority_default_applies_and_open_tickets_are_answered(ticket, team):
    other = services.ticket_open(
        actor=team.rep1, customer=ticket.customer, subject="咨询", now=at(28, 9, 9), owner=team.rep1
    )
    assert (other.policy.category_id, other.response_due_at) == (None, at(28, 9, 10))
    assert ask(OPEN_TICKET, [ticket.customer_id]) == {ticket.customer_id}
    for t in (ticket, other):
        services.ticket_transition(ticket=t, actor=team.rep1, to=S.CANCELLED, now=at(28, 9, 10))
    assert ask(OPEN_TICKET, [ticket.customer_id]) == set()


def test_no_first_response_in_time_is_a_breach_even_when_resolution_is_not(ticket, team):
    services.sla_refresh(ticket, now=at(28, 9, 9, 1))
    assert ticket.response_breached and not ticket.resolution_breached
    t = services.ticket_respond(ticket=ticket, actor=team.rep1, now=at(28, 9, 9, 30))
    assert (t.first_responded_at, t.response_due_at, t.response_breached) == (at(28, 9, 9, 30), at(28, 9, 9), True)


def test_who_sees_a_ticket(ticket, team, django_user_model):
    from kehu.support.selectors import ticket_qs_visible_to
    from kehu.users.roles import Role

    engineer = django_user_model.objects.create_user("engineer9", role=Role.SERVICE_ENGINEER)
    service = django_user_model.objects.create_user("service9", role=Role.SERVICE_MANAGER)

    def sees(user):
        return ticket_qs_visible_to(user).filter(pk=ticket.pk).exists()

    assert [sees(u) for u in (team.rep1, team.manager1, team.rep3, engineer, service)] == [
        True,
        True,
        False,
        False,
        True,
    ]
    ticket.engineer = engineer
    ticket.save(update_fields=["engineer"])
    assert sees(engineer)


def test_the_scan_reads_histories_in_batches_and_writes_only_what_changed(ticket, team):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for n in range(5):
        services.ticket_open(
            actor=team.rep1, customer=ticket.customer, subject=f"咨询{n}", now=at(28, 9, 9), owner=team.rep1
        )
    services.sla_scan(now=at(28, 9, 9, 5))
    with CaptureQueriesContext(connection) as ctx:
        assert services.sla_scan(now=at(28, 9, 9, 6)) == {"scanned": 6, "warned": 0, "breached": 0}
    sent = [q["sql"].split()[0] for q in ctx.captured_queries]
    # Nothing changed since: the settings (hours, warning lead), the policies, the ids, one history
    # query, one ticket query, the calendar's year — no writes, no transactions, whatever the number
    # of tickets.
    assert sent == ["SELECT"] * 7
