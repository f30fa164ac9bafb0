"""Notifications (INT-2): a person's own notifications, their unread count and their choices."""

from datetime import datetime
from typing import Annotated

from django.http import Http404
from ninja import Field, Query, Router, Schema

from kehu.core.api import Id
from kehu.notifications import selectors, services
from kehu.notifications.models import Notification

router = Router(tags=["notifications"])


class NotificationOut(Schema):
    id: int
    kind: str
    kind_label: str
    summary: str
    link: str
    actor_id: int | None
    created_at: datetime
    read_at: datetime | None


class NotificationPage(Schema):
    items: list[NotificationOut]
    next_before: int | None = Field(description="Pass as `before` for the next (older) page; null at the end.")


class ListQuery(Schema):
    unread: bool = False
    before: Id | None = None
    limit: Annotated[int, Field(ge=1, le=100)] = 25


class UnreadCount(Schema):
    count: int
    count_is_capped: bool = Field(description=f"True when there are {selectors.UNREAD_CAP} or more.")


class ReadAllIn(Schema):
    up_to_id: Id | None = Field(None, description="Only notifications up to this id (what the client showed).")


class ReadAllOut(Schema):
    updated: int


class PreferenceOut(Schema):
    kind: str
    label: str
    in_app: bool
    email: bool
    digest: bool


class PreferenceIn(Schema):
    kind: Annotated[str, Field(min_length=1, max_length=60)]
    in_app: bool | None = None
    email: bool | None = None
    digest: bool | None = None


class PreferencesIn(Schema):
    preferences: Annotated[list[PreferenceIn], Field(max_length=500)]


@router.get("", response=NotificationPage)
def notification_list(request, query: Query[ListQuery]):
    """Your notifications, newest first; keyset pages with `before`."""
    rows, next_before = selectors.notification_page(
        request.user, before=query.before, unread=query.unread, size=query.limit
    )
    return {"items": rows, "next_before": next_before}


@router.get("/unread-count", response=UnreadCount)
def unread_count(request):
    count = selectors.unread_count(request.user)
    return {"count": count, "count_is_capped": count >= selectors.UNREAD_CAP}


@router.post("/read-all", response=ReadAllOut)
def read_all(request, payload: ReadAllIn | None = None):
    up_to = payload.up_to_id if payload else None
    return {"updated": services.notification_mark_all_read(actor=request.user, up_to_id=up_to)}


@router.post("/{notification_id}/read", response=NotificationOut)
def read(request, notification_id: Id):
    """Mark one of your notifications read; another person's answers 404."""
    try:
        note = selectors.notification_qs_visible_to(request.user).get(pk=notification_id)
    except Notification.DoesNotExist:
        raise Http404 from None
    return services.notification_mark_read(notification=note, actor=request.user)


@router.get("/preferences", response=list[PreferenceOut])
def preferences_get(request):
    """For each kind of event you may be told of: in the app, by e-mail, in the daily digest."""
    return services.preferences_of(request.user)


@router.put("/preferences", response=list[PreferenceOut])
def preferences_put(request, payload: PreferencesIn):
    """Change some kinds' channels; a channel left out (or null) keeps its value. An unknown kind: 400."""
    choices: dict[str, dict] = {}
    for row in payload.preferences:
        channels = {c: getattr(row, c) for c in ("in_app", "email", "digest") if getattr(row, c) is not None}
        choices.setdefault(row.kind, {}).update(channels)
    services.preferences_set(user=request.user, actor=request.user, choices=choices)
    return services.preferences_of(request.user)
