"""Every read of notifications."""

from django.db import connection
from django.db.models import QuerySet

from kehu.notifications.models import Notification, Robot, RobotPost

UNREAD_CAP = 100  # the bell counts at most this many ("99+")
PAGE_SIZE = 20


def notification_qs_visible_to(user) -> QuerySet[Notification]:
    """A person sees their own notifications, nobody else's (administrators included)."""
    if not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    return Notification.objects.filter(recipient_id=user.pk)


# The bell runs on every page: plain SQL (portable to SQLite and PostgreSQL) spares the ORM's
# query building, about half of its cost. It reads the partial index of unread rows only.
_UNREAD_SQL = (
    "SELECT COUNT(*) FROM (SELECT 1 FROM notifications_notification"
    " WHERE recipient_id = %s AND read_at IS NULL LIMIT %s) AS unread"
)


def unread_count(user, cap: int = UNREAD_CAP) -> int:
    """Unread notifications, counted up to `cap`: one query over the partial index of unread rows."""
    if not getattr(user, "is_authenticated", False):
        return 0
    with connection.cursor() as cursor:
        cursor.execute(_UNREAD_SQL, [user.pk, cap])
        return cursor.fetchone()[0]


def notification_page(user, *, before: int | None = None, unread: bool = False, size: int = PAGE_SIZE):
    """One page, newest first, and the id to ask `before` for the next page (None at the end)."""
    qs = notification_qs_visible_to(user).select_related("actor")
    if unread:
        qs = qs.filter(read_at__isnull=True)
    if before is not None:
        qs = qs.filter(pk__lt=before)
    rows = list(qs.order_by("-id")[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return rows, (rows[-1].pk if more and rows else None)


def robot_list() -> QuerySet[Robot]:
    return Robot.objects.select_related("department").order_by("department__path", "name", "id")


def robot_posts(robot: Robot, limit: int = 50) -> list[RobotPost]:
    return list(RobotPost.objects.filter(robot=robot).order_by("-id")[:limit])
