"""The complaint workflow (SRV-2) on a controlled clock: registration numbers and plans its five
steps in working days of the company calendar (a weekend, the National Day holiday and a make-up
working day 调休 in the way), each step begins when the previous one is done and is counted from
that day, records who did it and whether it was late; the transition table refuses the rest; an
overdue step is told to its owner and the complaint's manager once; version checks; the lookup."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kehu.collection.models import CalendarDay
from kehu.core import lookups
from kehu.core.exceptions import ConcurrentEditError
from kehu.customers.models import TimelineEntry
from kehu.notifications.models import Notification
from kehu.support import complaint_selectors as selectors
from kehu.support import complaint_services as services
from kehu.support.models_complaints import Complaint, ComplaintState, ComplaintStep
from kehu.support.tests.complaints_setup import ComplaintDesk, at
from kehu.support.workhours import WorkCalendar

pytestmark = pytest.mark.django_db
C = ComplaintState


@pytest.fixture
def desk(team, customer_of):
    return ComplaintDesk(team, customer_of)


@pytest.fixture
def national_day():
    """2026: 1–7 October off (the weekdays among them recorded), Saturday 10 October a make-up working day."""
    for day in (1, 2, 5, 6, 7):
        CalendarDay.objects.create(day=date(2026, 10, day), is_working_day=False, name="国庆节")
    CalendarDay.objects.create(day=date(2026, 10, 10), is_working_day=True, name="国庆调休")


def steps_of(complaint) -> dict:
    return {
        s.kind: (s.due_on, s.completed_at is not None, s.is_late, s.owner.username if s.owner else None)
        for s in ComplaintStep.objects.filter(complaint=complaint).select_related("owner")
    }


def test_working_days_skip_weekends_and_holidays_and_count_make_up_days(national_day):
    calendar = WorkCalendar.load()
    assert selectors.add_working_days(calendar, date(2026, 9, 25), 1) == date(2026, 9, 28)  # Fri → Mon
    assert selectors.add_working_days(calendar, date(2026, 9, 28), 3) == date(2026, 10, 8)  # over the holiday
    assert selectors.add_working_days(calendar, date(2026, 10, 9), 1) == date(2026, 10, 10)  # the make-up Saturday
    assert selectors.add_working_days(calendar, date(2026, 10, 3), 0) == date(2026, 10, 3)


def test_the_whole_workflow_with_every_steps_deadline(desk, team, national_day, django_capture_on_commit_callbacks):
    complaint = desk.register(
        specification=desk.lathe_a, quantity=Decimal("2"), shipped_on=date(2026, 9, 1), now=at(25, 9, 10)
    )
    assert complaint.number == "TS-2026-000001" and complaint.state == C.REGISTERED
    assert (complaint.part_number, complaint.product_id, complaint.registered_on) == (
        "CK6140-A",
        desk.lathe.pk,
        date(2026, 9, 25),
    )
    # The plan from Friday 25 September: the notice on Monday, then over the National Day holiday.
    assert steps_of(complaint) == {
        "notice": (date(2026, 9, 28), False, False, "complaint1"),
        "investigation": (date(2026, 10, 8), False, False, None),
        "action": (date(2026, 10, 14), False, False, None),
        "feedback": (date(2026, 10, 16), False, False, "complaint1"),
        "follow_up": (date(2026, 10, 23), False, False, "complaint1"),
    }
    assert Complaint.objects.get(pk=complaint.pk).due_on == date(2026, 9, 28)
    # Monday 28 September: the handling notice names the quality department (its head takes the next steps).
    complaint = services.complaint_step_complete(
        complaint=complaint,
        actor=desk.specialist,
        kind="notice",
        data={"department": desk.quality, "notice_text": "请查明异响原因", "notice_deadline": date(2026, 10, 14)},
        expected_version=complaint.version,
        now=at(28, 9, 9),
    )
    assert complaint.state == C.NOTICE_ISSUED and complaint.department == desk.quality
    assert complaint.due_on == date(2026, 10, 8)  # three working days from Monday, over the holiday
    # The department starts investigating; the scan of 9 October finds it overdue and tells once.
    complaint = services.complaint_move(complaint=complaint, actor=desk.inspector, to=C.INVESTIGATING, now=at(29, 9))
    for _run in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            counts = services.complaint_overdue_scan(now=at(8, 10, 23))  # not yet: due that day
        assert counts == {"overdue": 0, "told": 0}
    told = []
    for _run in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            told.append(services.complaint_overdue_scan(now=at(9, 10, 8)))
    assert told == [{"overdue": 1, "told": 1}, {"overdue": 1, "told": 0}]
    overdue = Notification.objects.filter(kind="complaint_step_overdue")
    assert sorted(overdue.values_list("recipient__username", flat=True)) == ["complaint1", "quality1"]
    # Done on 9 October (late); the action is counted from that day: the make-up Saturday counts.
    complaint = services.complaint_step_complete(
        complaint=complaint,
        actor=desk.inspector,
        kind="investigation",
        data={"cause": "manufacturing", "responsibility": "ours", "findings": "主轴轴承装配预紧力不足"},
        now=at(9, 10, 11),
    )
    assert complaint.state == C.ACTION and complaint.due_on == date(2026, 10, 15)
    # The steps not yet begun are planned again from the new deadline.
    planned = steps_of(complaint)
    assert (planned["feedback"][0], planned["follow_up"][0]) == (date(2026, 10, 19), date(2026, 10, 26))
    complaint = services.complaint_step_complete(
        complaint=complaint,
        actor=desk.inspector,
        kind="action",
        data={"corrective_action": "更换轴承并重新调整", "preventive_action": "装配工序增加预紧力检测"},
        now=at(15, 10, 16),
    )
    assert complaint.state == C.FEEDBACK and complaint.due_on == date(2026, 10, 19)  # Fri 16, Mon 19
    complaint = services.complaint_step_complete(
        complaint=complaint,
        actor=desk.specialist,
        kind="feedback",
        data={"feedback_text": "已电话告知客户处理结果", "feedback_on": date(2026, 10, 16)},
        now=at(16, 10, 9),
    )
    assert complaint.state == C.FOLLOW_UP and complaint.due_on == date(2026, 10, 23)
    with django_capture_on_commit_callbacks(execute=True):
        complaint = services.complaint_step_complete(
            complaint=complaint,
            actor=desk.specialist,
            kind="follow_up",
            data={"satisfaction": 4, "follow_up_comment": "满意，希望以后提前检测"},
            now=at(20, 10, 14),
        )
    assert complaint.state == C.CLOSED and complaint.due_on is None and complaint.closed_at == at(20, 10, 14)
    assert steps_of(complaint) == {
        "notice": (date(2026, 9, 28), True, False, "complaint1"),
        "investigation": (date(2026, 10, 8), True, True, "quality1"),
        "action": (date(2026, 10, 15), True, False, "quality1"),
        "feedback": (date(2026, 10, 19), True, False, "complaint1"),
        "follow_up": (date(2026, 10, 23), True, False, "complaint1"),
    }
    done = ComplaintStep.objects.filter(complaint=complaint).order_by("position")
    assert [s.completed_by.username for s in done] == ["complaint1", "quality1", "quality1", "complaint1", "complaint1"]
    assert [s.completed_at for s in done] == [
        at(28, 9, 9),
        at(9, 10, 11),
        at(15, 10, 16),
        at(16, 10, 9),
        at(20, 10, 14),
    ]
    kinds = list(
        TimelineEntry.objects.filter(customer=desk.mine, kind__startswith="complaint").values_list("kind", flat=True)
    )
    assert kinds.count("complaint_step_done") == 5 and "complaint_registered" in kinds and "complaint_closed" in kinds
    # Closed: nothing more moves, nothing is overdue.
    with pytest.raises(ValidationError):
        services.complaint_move(complaint=complaint, actor=desk.specialist, to=C.WITHDRAWN, note="x")
    assert services.complaint_overdue_scan(now=at(30, 11)) == {"overdue": 0, "told": 0}


def test_the_transition_table_refuses_skipping_and_rejection_needs_a_reason(desk):
    complaint = desk.register()
    for to in (C.ACTION, C.CLOSED, C.INVESTIGATING):
        with pytest.raises(ValidationError):
            services.complaint_transition(complaint=complaint, actor=desk.specialist, to=to)
    with pytest.raises(ValidationError) as refused:
        services.complaint_move(complaint=complaint, actor=desk.specialist, to=C.REJECTED, note=" ")
    assert refused.value.message_dict == {"note": ["Say why."]}
    with pytest.raises(ValidationError):  # not the open step
        services.complaint_step_complete(
            complaint=complaint, actor=desk.specialist, kind="investigation", data={"cause": "design"}
        )
    rejected = services.complaint_move(complaint=complaint, actor=desk.specialist, to=C.REJECTED, note="非我司产品")
    assert (rejected.state, rejected.close_reason, rejected.due_on) == (C.REJECTED, "非我司产品", None)
    assert set(services.COMPLAINT_TRANSITIONS) == set(C.values)


def test_step_fields_are_checked_and_nothing_is_half_written(desk):
    complaint = desk.register()
    with pytest.raises(ValidationError) as bad:
        services.complaint_step_complete(complaint=complaint, actor=desk.specialist, kind="notice", data={})
    assert set(bad.value.message_dict) == {"department"}
    fresh = Complaint.objects.get(pk=complaint.pk)
    assert fresh.state == C.REGISTERED and fresh.notice_issued_at is None and fresh.version == complaint.version
    assert not ComplaintStep.objects.filter(complaint=complaint, completed_at__isnull=False).exists()


def test_registration_checks_what_belongs_to_the_customer(desk, team):
    from kehu.customers.services import contact_create

    theirs = contact_create(customer=desk.theirs, actor=team.rep3, name="陈工")
    with pytest.raises(ValidationError) as bad:
        desk.register(contact=theirs, customer_words=" ", category="nonsense", quantity=Decimal("-1"))
    assert set(bad.value.message_dict) == {"contact", "customer_words", "category", "quantity"}
    assert not Complaint.objects.exists()


def test_a_stale_version_is_refused_and_changes_nothing(desk):
    complaint = desk.register()
    services.complaint_step_plan(
        complaint=complaint, actor=desk.specialist, kind="notice", due_on=date(2026, 9, 30), now=at(25, 9, 11)
    )
    with pytest.raises(ConcurrentEditError):
        services.complaint_step_complete(
            complaint=complaint,
            actor=desk.specialist,
            kind="notice",
            data={"department": desk.quality},
            expected_version=complaint.version,
        )
    assert Complaint.objects.get(pk=complaint.pk).state == C.REGISTERED


def test_a_deadline_set_by_hand_is_kept_when_the_step_begins_and_may_be_told_again(
    desk, django_capture_on_commit_callbacks
):
    complaint = desk.register()
    services.complaint_step_plan(
        complaint=complaint,
        actor=desk.specialist,
        kind="investigation",
        owner=desk.inspector,
        due_on=date(2026, 10, 20),
        now=at(25, 9, 11),
    )
    complaint = services.complaint_step_complete(
        complaint=complaint, actor=desk.specialist, kind="notice", data={"department": desk.production}, now=at(28, 9)
    )
    assert complaint.due_on == date(2026, 10, 20)
    assert ComplaintStep.objects.get(complaint=complaint, kind="investigation").owner == desk.inspector
    with django_capture_on_commit_callbacks(execute=True):
        assert services.complaint_overdue_scan(now=at(21, 10)) == {"overdue": 1, "told": 1}
    services.complaint_step_plan(
        complaint=complaint, actor=desk.specialist, kind="investigation", due_on=date(2026, 10, 23), now=at(21, 10)
    )
    assert services.complaint_overdue_scan(now=at(22, 10)) == {"overdue": 0, "told": 0}
    assert services.complaint_overdue_scan(now=at(26, 10)) == {"overdue": 1, "told": 1}


def test_who_may_complete_and_plan(desk, team):
    complaint = desk.register()
    for user in (team.rep1, desk.csr, desk.inspector, team.manager1):
        with pytest.raises(PermissionDenied):
            services.complaint_step_complete(
                complaint=complaint, actor=user, kind="notice", data={"department": desk.quality}
            )
        with pytest.raises(PermissionDenied):
            services.complaint_step_plan(complaint=complaint, actor=user, kind="notice", due_on=date(2026, 12, 1))
    complaint = services.complaint_step_complete(
        complaint=complaint, actor=team.service1, kind="notice", data={"department": desk.quality}, now=at(28, 9)
    )
    # The department head was given the investigation: they may do it (not plan it).
    services.complaint_move(complaint=complaint, actor=desk.inspector, to=C.INVESTIGATING, now=at(28, 9, 11))
    with pytest.raises(PermissionDenied):
        services.complaint_move(complaint=complaint, actor=desk.inspector, to=C.WITHDRAWN, note="x")


def test_the_open_complaint_lookup(desk, team):
    open_one = desk.register()
    other = desk.register(customer=desk.theirs)
    services.complaint_move(complaint=other, actor=desk.specialist, to=C.WITHDRAWN, note="客户撤回")
    ids = [desk.mine.pk, desk.theirs.pk]
    assert selectors.customers_with_open_complaints(ids) == {desk.mine.pk}
    assert lookups.ask(lookups.OPEN_COMPLAINT, ids) == {desk.mine.pk}
    assert lookups.ask(lookups.OPEN_COMPLAINT, []) == set()
    assert open_one.customer_id == desk.mine.pk


def test_registration_and_closing_are_sent_to_webhook_subscribers(desk, team, django_capture_on_commit_callbacks):
    from kehu.webhooks.models import WebhookDelivery
    from kehu.webhooks.services import webhook_subscription_create

    webhook_subscription_create(
        actor=team.admin, url="https://hooks.example.com/kehu", events=["complaint.registered", "complaint.closed"]
    )
    with django_capture_on_commit_callbacks(execute=True):
        complaint = desk.register(part_number="P-7", now=at(25, 9))
    with django_capture_on_commit_callbacks(execute=True):
        for kind, data in (
            ("notice", {"department": desk.quality}),
            ("investigation", {"cause": "transport", "responsibility": "transport", "findings": "运输震动"}),
            ("action", {"corrective_action": "更换包装"}),
            ("feedback", {"feedback_text": "已告知"}),
            ("follow_up", {"satisfaction": 5}),
        ):
            complaint = services.complaint_step_complete(
                complaint=complaint, actor=desk.specialist, kind=kind, data=data, now=at(28, 9)
            )
    sent = list(WebhookDelivery.objects.order_by("pk").values_list("event", "payload"))
    assert [event for event, _payload in sent] == ["complaint.registered", "complaint.closed"]
    registered, closed = (payload for _event, payload in sent)
    assert (registered["number"], registered["part_number"], registered["customer_id"]) == (
        complaint.number,
        "P-7",
        desk.mine.pk,
    )
    assert (closed["cause"], closed["responsibility"], closed["satisfaction"]) == ("transport", "transport", 5)
