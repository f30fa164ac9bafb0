"""Periodic work of the activities app."""

from datetime import timedelta

from django.tasks import task

from kehu.activities.services import commitments_overdue_tell
from kehu.core.schedule import periodic


@periodic(every=timedelta(hours=1))
@task
def tell_overdue_commitments() -> int:
    """Hourly, so a commitment due yesterday is announced early in the morning; each only once."""
    return commitments_overdue_tell()
