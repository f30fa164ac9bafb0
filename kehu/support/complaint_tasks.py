"""The complaints' background work: every hour, steps past their due day are told to their owner
and to the complaint's manager, once each step."""

from datetime import datetime, timedelta

from django.tasks import task

from kehu.core.schedule import periodic


@periodic(every=timedelta(hours=1))
@task()
def complaint_overdue_task(now: str | None = None) -> dict:
    """Idempotent: a step is told overdue once. `now` (ISO 8601) scans as of then."""
    from kehu.support.complaint_services import complaint_overdue_scan

    return complaint_overdue_scan(now=datetime.fromisoformat(now) if now else None)
