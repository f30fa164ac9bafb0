"""The SLA scan is a periodic job every five minutes; the recompute is enqueued after a change. Both
run here through the task backend (the immediate one of the tests), with a moment to run as of."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone

from kehu.core.schedule import discover
from kehu.notifications.models import Notification
from kehu.support import services
from kehu.support.models import SlaPolicy, Ticket
from kehu.support.tasks import sla_recompute_task, sla_scan_task
from kehu.support.tests.setup_fixtures import customer  # noqa: F401

SH = ZoneInfo("Asia/Shanghai")
MONDAY_9 = datetime(2026, 11, 30, 9, 0, tzinfo=SH)


def test_the_scan_is_scheduled_every_five_minutes():
    job = discover()["kehu.support.tasks.sla_scan_task"]
    assert job.every == timedelta(minutes=5)


def test_the_scan_warns_once_then_escalates_once(team, customer, django_capture_on_commit_callbacks):  # noqa: F811
    SlaPolicy.objects.create(priority="high", first_response_minutes=60, resolution_minutes=120)
    ticket = services.ticket_open(
        actor=team.service1, customer=customer, subject="不能开机", priority="high", now=MONDAY_9
    )
    services.ticket_respond(ticket=ticket, actor=team.service1, now=MONDAY_9 + timedelta(minutes=10))
    # Resolution within 2 working hours of Monday 09:00: 11:00.
    ticket.refresh_from_db()
    assert ticket.resolution_due_at == datetime(2026, 11, 30, 11, 0, tzinfo=SH)
    with django_capture_on_commit_callbacks(execute=True):
        early = sla_scan_task.enqueue(now=datetime(2026, 11, 30, 9, 30, tzinfo=SH).isoformat())
        warn = sla_scan_task.enqueue(now=datetime(2026, 11, 30, 10, 15, tzinfo=SH).isoformat())
        again = sla_scan_task.enqueue(now=datetime(2026, 11, 30, 10, 20, tzinfo=SH).isoformat())
        breach = sla_scan_task.enqueue(now=datetime(2026, 11, 30, 11, 5, tzinfo=SH).isoformat())
        after = sla_scan_task.enqueue(now=datetime(2026, 11, 30, 11, 10, tzinfo=SH).isoformat())
    assert early.return_value == {"scanned": 1, "warned": 0, "breached": 0}
    assert warn.return_value == {"scanned": 1, "warned": 1, "breached": 0}
    assert again.return_value == {"scanned": 1, "warned": 0, "breached": 0}
    assert breach.return_value == {"scanned": 1, "warned": 0, "breached": 1}
    assert after.return_value == {"scanned": 1, "warned": 0, "breached": 0}
    assert Ticket.objects.get().resolution_breached is True
    assert sorted(Notification.objects.values_list("kind", flat=True)) == ["ticket_sla_breached", "ticket_sla_warning"]


def test_the_recompute_task_chooses_policies_again_and_scans(team, customer):  # noqa: F811
    ticket = services.ticket_open(actor=team.service1, customer=customer, subject="咨询", priority="low", now=MONDAY_9)
    assert ticket.policy is None and ticket.resolution_due_at is None
    policy = SlaPolicy.objects.create(priority="low", first_response_minutes=240, resolution_minutes=2400)
    result = sla_recompute_task.enqueue(now=MONDAY_9.isoformat())
    assert result.return_value == {"scanned": 1, "warned": 0, "breached": 0, "repoliced": 1}
    ticket.refresh_from_db()
    assert ticket.policy == policy
    # 40 working hours from Monday 09:00 (8 h a day): the next Monday 09:00.
    assert ticket.resolution_due_at == datetime(2026, 12, 7, 9, 0, tzinfo=SH)


@pytest.fixture
def database_queue(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "email"]}}


@pytest.mark.django_db(transaction=True)
def test_a_saved_policy_waits_for_the_worker_then_open_tickets_follow(database_queue, team, customer):  # noqa: F811
    """As under `make run`: the save only queues the recompute; the worker runs it."""
    from kehu.support import setup_services as setup

    now = timezone.now()
    ticket = services.ticket_open(actor=team.service1, customer=customer, subject="异响", priority="high", now=now)
    assert ticket.policy is None
    policy = setup.policy_save(
        actor=team.service1, category=None, priority="high", first_response_minutes=60, resolution_minutes=480
    )
    assert Ticket.objects.get().policy_id is None  # not in the request
    call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", verbosity=0)
    ticket.refresh_from_db()
    assert ticket.policy == policy and ticket.resolution_due_at is not None
