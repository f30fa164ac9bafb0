"""The service app's background work: the SLA scan every five minutes (warnings before a breach,
escalation at one) and the recompute of every open ticket after the service levels, the service
hours or the company calendar changed."""

from datetime import datetime, timedelta

from django.tasks import task

from kehu.core.schedule import periodic


@periodic(every=timedelta(minutes=5))
@task()
def sla_scan_task(now: str | None = None) -> dict:
    """Idempotent: a ticket is warned once and escalated once. `now` (ISO 8601) scans as of then."""
    from kehu.support.services import sla_scan

    return sla_scan(now=datetime.fromisoformat(now) if now else None)


@task()
def sla_recompute_task(now: str | None = None) -> dict:
    """Every open ticket's policy chosen again and its clock replayed (then warned / escalated)."""
    from kehu.support.setup_services import sla_recompute

    return sla_recompute(now=datetime.fromisoformat(now) if now else None)


from kehu.support.complaint_tasks import complaint_overdue_task  # noqa: E402,F401 (complaints: overdue steps)
from kehu.support.quality_report import daily_quality_report_task  # noqa: E402,F401 (the daily quality report)


@periodic(every=timedelta(minutes=3))
@task()
def mail_fetch_task() -> dict:
    """The service mailbox read: new mail stored and threaded onto tickets, then marked seen there."""
    from kehu.support.mail_intake import mailbox_fetch

    return mailbox_fetch()
