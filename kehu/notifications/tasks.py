"""Background jobs of notifications: robots' posts (now, and each minute for the rest) and the
daily digest (INT-2, INT-5)."""

from datetime import datetime, timedelta

from django.tasks import task

from kehu.core.schedule import periodic
from kehu.notifications import delivery, robots


@task
def flush_robot(robot_id: int, at: str | None = None):
    """Post what one robot has waiting, within its rate (`at`: the clock to use, for tests)."""
    return robots.robot_flush(robot_id, now=datetime.fromisoformat(at) if at else None)


@periodic(every=timedelta(minutes=1))
@task
def flush_robots():
    """Each minute: posts held back by the rate limit, merged into digests, and due retries."""
    return robots.robots_flush_due()


@periodic(every=timedelta(minutes=15))
@task
def send_digests():
    """The daily digest mails (from 08:00 local time, once a day per person)."""
    return delivery.digests_send_due()
