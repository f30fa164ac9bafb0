"""The setup's services: categories, SLA policies, service hours — validation, permission, audit,
and the recompute of open tickets they queue (run for real by the immediate task backend)."""

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kehu.collection.services import calendar_day_delete, calendar_day_set
from kehu.core.models import AuditEntry
from kehu.support import services as tickets
from kehu.support import setup_services as setup
from kehu.support.models import ServiceSettings, SlaPolicy, Ticket, TicketCategory
from kehu.support.tests.setup_fixtures import customer  # noqa: F401

SH = ZoneInfo("Asia/Shanghai")
MONDAY_9 = datetime(2026, 11, 30, 9, 0, tzinfo=SH)


def test_categories_are_added_renamed_and_switched_off_with_audit(team):
    category = setup.category_create(actor=team.service1, name=" 维修 ")
    assert category.name == "维修" and category.is_active
    setup.category_update(actor=team.service1, category=category, name="维修服务", is_active=False)
    category.refresh_from_db()
    assert (category.name, category.is_active) == ("维修服务", False)
    audit = AuditEntry.objects.filter(target_type="support.ticketcategory", target_id=category.pk).order_by("pk")
    assert [a.action for a in audit] == ["create", "update"]
    assert audit[1].changes == {"name": ["维修", "维修服务"], "is_active": [True, False]}


def test_a_category_name_is_required_and_unique(team):
    setup.category_create(actor=team.service1, name="咨询")
    with pytest.raises(ValidationError) as e:
        setup.category_create(actor=team.service1, name="咨询")
    assert e.value.message_dict == {"name": ["A category with this name exists already."]}
    with pytest.raises(ValidationError) as e:
        setup.category_create(actor=team.service1, name="  ")
    assert e.value.message_dict == {"name": ["Give the category a name."]}


@pytest.mark.parametrize("username", ["rep1", "manager1", "gm"])
def test_only_who_manages_service_changes_the_setup(team, username):
    user = getattr(team, username)
    category = TicketCategory.objects.create(name="咨询")
    with pytest.raises(PermissionDenied):
        setup.category_create(actor=user, name="投诉转办")
    with pytest.raises(PermissionDenied):
        setup.category_update(actor=user, category=category, name="x")
    with pytest.raises(PermissionDenied):
        setup.policy_save(
            actor=user, category=None, priority="urgent", first_response_minutes=30, resolution_minutes=60
        )
    with pytest.raises(PermissionDenied):
        setup.service_hours_update(actor=user, day_starts=time(9, 0))
    assert list(TicketCategory.objects.values_list("name", flat=True)) == ["咨询"]
    assert SlaPolicy.objects.count() == 0
    assert ServiceSettings.load().day_starts == time(8, 30)
    assert AuditEntry.objects.filter(target_type__startswith="support.").count() == 0


def test_policy_targets_are_checked(team):
    def save(first, resolution, **kw):
        return setup.policy_save(
            actor=team.admin,
            category=kw.get("category"),
            priority=kw.get("priority", "urgent"),
            first_response_minutes=first,
            resolution_minutes=resolution,
        )

    with pytest.raises(ValidationError) as e:
        save(0, 60)
    assert e.value.message_dict == {"first_response_minutes": ["Enter a time longer than zero."]}
    with pytest.raises(ValidationError) as e:
        save(120, 60)
    assert e.value.message_dict == {
        "resolution_minutes": ["The resolution target cannot be shorter than the first response target."]
    }
    save(30, 240)
    with pytest.raises(ValidationError) as e:
        save(60, 480)
    assert e.value.message_dict == {
        "priority": ["There is a default policy for this priority already: change that one."]
    }
    repair = TicketCategory.objects.create(name="维修")
    save(15, 120, category=repair)
    with pytest.raises(ValidationError) as e:
        save(15, 120, category=repair)
    assert e.value.message_dict == {
        "priority": ["There is a policy for this category and priority already: change that one."]
    }
    assert SlaPolicy.objects.count() == 2


def test_service_hours_are_validated_by_the_model(team):
    with pytest.raises(ValidationError) as e:
        setup.service_hours_update(actor=team.service1, lunch_starts=time(8, 0))
    assert e.value.messages == [
        "The working day must start before the lunch break, which must end before the day ends."
    ]
    assert ServiceSettings.load().lunch_starts == time(12, 0)
    hours = setup.service_hours_update(
        actor=team.service1, day_starts=time(9, 0), lunch_starts=time(12, 0), lunch_ends=time(13, 30)
    )
    assert (hours.day_starts, hours.lunch_ends, hours.updated_by) == (time(9, 0), time(13, 30), team.service1)
    entry = AuditEntry.objects.get(target_type="support.servicesettings")
    assert entry.changes == {"day_starts": ["08:30", "09:00"], "lunch_ends": ["13:00", "13:30"]}


@pytest.fixture
def open_ticket(team, customer, django_capture_on_commit_callbacks):  # noqa: F811
    """An urgent ticket opened Monday 09:00 under a default policy of 30 min / 4 h working time."""
    SlaPolicy.objects.create(priority="urgent", first_response_minutes=30, resolution_minutes=240)
    return tickets.ticket_open(
        actor=team.service1, customer=customer, subject="主轴异响", priority="urgent", now=MONDAY_9
    )


def test_a_policy_change_recomputes_open_tickets_after_the_commit(
    team, open_ticket, django_capture_on_commit_callbacks
):
    assert open_ticket.resolution_due_at == datetime(2026, 11, 30, 14, 0, tzinfo=SH)  # 3 h before lunch, 1 after
    policy = SlaPolicy.objects.get()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        setup.policy_save(
            actor=team.service1,
            policy=policy,
            category=None,
            priority="urgent",
            first_response_minutes=30,
            resolution_minutes=120,
        )
    # Nothing is recomputed inside the request's transaction: the task runs after the commit.
    assert Ticket.objects.get().resolution_due_at == datetime(2026, 11, 30, 14, 0, tzinfo=SH)
    for callback in callbacks:
        callback()
    ticket = Ticket.objects.get()
    assert ticket.resolution_due_at == datetime(2026, 11, 30, 11, 0, tzinfo=SH)


def test_a_new_category_policy_takes_over_and_a_removed_one_falls_back(
    team,
    customer,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    default = SlaPolicy.objects.create(priority="urgent", first_response_minutes=30, resolution_minutes=240)
    repair = TicketCategory.objects.create(name="维修")
    ticket = tickets.ticket_open(
        actor=team.service1, customer=customer, subject="漏油", priority="urgent", category=repair, now=MONDAY_9
    )
    assert ticket.policy == default
    with django_capture_on_commit_callbacks(execute=True):
        strict = setup.policy_save(
            actor=team.service1, category=repair, priority="urgent", first_response_minutes=15, resolution_minutes=60
        )
    ticket.refresh_from_db()
    assert ticket.policy == strict
    assert ticket.resolution_due_at == datetime(2026, 11, 30, 10, 0, tzinfo=SH)
    with django_capture_on_commit_callbacks(execute=True):
        setup.policy_delete(actor=team.service1, policy=strict)
    ticket.refresh_from_db()
    assert ticket.policy == default
    assert ticket.resolution_due_at == datetime(2026, 11, 30, 14, 0, tzinfo=SH)
    with django_capture_on_commit_callbacks(execute=True):
        setup.policy_delete(actor=team.service1, policy=default)
    ticket.refresh_from_db()
    assert (ticket.policy, ticket.resolution_due_at, ticket.response_due_at) == (None, None, None)


def test_changed_hours_recompute_open_tickets(team, open_ticket, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        setup.service_hours_update(actor=team.service1, day_starts=time(9, 0))
    # 09:00–12:00 (3 h) and 13:00–14:00.
    assert Ticket.objects.get().resolution_due_at == datetime(2026, 11, 30, 14, 0, tzinfo=SH)
    with django_capture_on_commit_callbacks(execute=True):
        setup.service_hours_update(actor=team.service1, lunch_starts=time(11, 0), lunch_ends=time(13, 0))
    # 09:00–11:00 (2 h), 13:00–15:00.
    assert Ticket.objects.get().resolution_due_at == datetime(2026, 11, 30, 15, 0, tzinfo=SH)


def test_a_calendar_change_recomputes_open_tickets_through_the_event_door(
    team, open_ticket, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    # The ticket was opened on Monday; the holiday is recorded while it is open (its clock is
    # replayed as of Monday 10:00, the moment of the scan, by the test's clock).
    timezone_now = timezone.now
    timezone.now = lambda: datetime(2026, 11, 30, 10, 0, tzinfo=SH)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            entry = calendar_day_set(
                actor=team.admin, day=datetime(2026, 11, 30).date(), is_working_day=False, name="假日"
            )
        # Monday is a holiday now: 4 working hours from Tuesday 08:30 → 13:30 (lunch in between).
        assert Ticket.objects.get().resolution_due_at == datetime(2026, 12, 1, 13, 30, tzinfo=SH)
        with django_capture_on_commit_callbacks(execute=True):
            calendar_day_delete(actor=team.admin, entry=entry)
        assert Ticket.objects.get().resolution_due_at == datetime(2026, 11, 30, 14, 0, tzinfo=SH)
    finally:
        timezone.now = timezone_now
