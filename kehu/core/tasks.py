"""Periodic upkeep of the database itself."""

from datetime import timedelta

from django.tasks import task

from kehu.core.schedule import periodic


@periodic(every=timedelta(days=1))
@task()
def refresh_database_statistics() -> int:
    """Fresh planner statistics as the tables grow (see kehu.core.dbstats)."""
    from kehu.core.dbstats import refresh_statistics

    return len(refresh_statistics())


@periodic(every=timedelta(minutes=1))
@task(queue_name="email")
def retry_due_mail() -> int:
    """Failed mails whose next attempt is due (and any whose delivery task was lost)."""
    from kehu.core.mail import deliver_due

    return deliver_due()


@periodic(every=timedelta(days=1))
@task()
def purge_sent_mail() -> int:
    """Sent mails past their keeping time (see kehu.core.mail.SENT_KEPT_FOR)."""
    from kehu.core.mail import outbox_purge

    return outbox_purge()
