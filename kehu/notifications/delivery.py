"""From events to the people and teams told of them (INT-2, INT-5).

`notify_events` is the event door's after-commit sink: for each event of a kind people may be told
of (`notify=True`) with recipients, it writes — in bulk, a fixed number of queries per batch however
many recipients — the in-app notifications, the e-mails (through the outbox, in each recipient's
language), the items for the daily digest, and the items for the teams' robots (the recipients'
departments and the departments above them). Each person's choices per kind are in `Preference`;
without a row: in the app only. The actor is never told of their own event.
"""

import logging
from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from kehu.core import events
from kehu.core.mail import deliver_mail, render_email
from kehu.core.models import OutboxMail
from kehu.notifications.links import absolute, base_url
from kehu.notifications.models import DigestItem, Notification, Preference, Robot, RobotItem
from kehu.users.models import User

log = logging.getLogger(__name__)
BATCH = 1000
DEFAULTS = {"in_app": True, "email": False, "digest": False}
CHANNELS = tuple(DEFAULTS)
DIGEST_HOUR = 8  # local time: the digest of the day before goes out from then on
DIGEST_KEPT_FOR = timedelta(days=30)


def choices_of(user_ids, kinds) -> dict[tuple[int, str], dict]:
    """{(user id, kind): {"in_app": .., "email": .., "digest": ..}} for the rows that exist."""
    rows = Preference.objects.filter(user_id__in=list(user_ids), kind__in=list(kinds)).values(
        "user_id", "kind", *CHANNELS
    )
    return {(r["user_id"], r["kind"]): {c: r[c] for c in CHANNELS} for r in rows}


def _ancestors(path: str) -> list[int]:
    return [int(part) for part in (path or "").strip("/").split("/") if part.isdigit()]


def notify_events(batch: list[events.Event]) -> None:
    """The event door's after-commit sink (registered in NotificationsConfig.ready). The change it
    follows is committed already: a failure here is logged, never turned into the caller's error,
    and does not keep the other after-commit sinks (webhooks) from running."""
    try:
        deliver(batch)
    except Exception:
        log.exception("Notifications for %d event(s) could not be written", len(batch))


def deliver(batch: list[events.Event], *, now=None) -> dict:
    """Tell the recipients of `batch`; returns how many of each were made. `now` sets the robots'
    clock (tests); otherwise the robots' task reads the time when it runs."""
    wanted = [e for e in batch if e.kind.notify and e.recipients]
    if not wanted:
        return {"in_app": 0, "email": 0, "digest": 0, "robot": 0}
    user_ids = {uid for e in wanted for uid in e.recipients}
    users = {
        u.pk: u
        for u in User.objects.filter(pk__in=list(user_ids), is_active=True)
        .select_related("department")
        .only("id", "email", "language", "department__path")
    }
    choices = choices_of(users, {e.kind.code for e in wanted})
    notes, digests, mails, items = [], [], [], []
    departments_of_event: list[set[int]] = []
    for event in wanted:
        departments: set[int] = set()
        for uid in event.recipients:
            user = users.get(uid)
            if user is None:
                continue
            if user.department_id:
                departments.update(_ancestors(user.department.path) or [user.department_id])
            if uid == event.actor_id:
                continue  # nobody is told of what they did themselves
            choice = choices.get((uid, event.kind.code), DEFAULTS)
            fields = {"kind": event.kind.code, "summary": event.summary[:300], "link": event.link[:300]}
            if choice["in_app"]:
                notes.append(
                    Notification(recipient_id=uid, actor_id=event.actor_id, created_at=event.occurred_at, **fields)
                )
            if choice["digest"]:
                digests.append(DigestItem(recipient_id=uid, created_at=event.occurred_at, **fields))
            if choice["email"] and user.email and event.kind.email:
                mails.append((event, user))
        departments_of_event.append(departments)
    robots = list(
        Robot.objects.filter(is_active=True, department_id__in={d for ds in departments_of_event for d in ds})
    )
    for event, departments in zip(wanted, departments_of_event, strict=True):
        for robot in robots:
            if robot.department_id in departments and event.kind.code in (robot.kinds or []):
                items.append(
                    RobotItem(
                        robot=robot,
                        kind=event.kind.code,
                        summary=event.summary[:300],
                        link=event.link[:300],
                        actor_name=str(event.actor)[:150] if event.actor is not None else "",
                        created_at=event.occurred_at,
                    )
                )
    with transaction.atomic():
        Notification.objects.bulk_create(notes, batch_size=BATCH)
        DigestItem.objects.bulk_create(digests, batch_size=BATCH)
        RobotItem.objects.bulk_create(items, batch_size=BATCH)
        outbox = _mails(mails)
        robot_ids = sorted({i.robot_id for i in items})
        transaction.on_commit(lambda: _after(outbox, robot_ids, now))
    return {"in_app": len(notes), "email": len(outbox), "digest": len(digests), "robot": len(items)}


def _mails(wanted: list[tuple[events.Event, User]]) -> list[int]:
    """Outbox rows for each (event, recipient), rendered once per event and language."""
    if not wanted:
        return []
    rendered: dict[tuple[int, str], tuple[str, str]] = {}
    rows = []
    now = timezone.now()
    for event, user in wanted:
        language = user.language or settings.LANGUAGE_CODE
        key = (id(event), language)
        if key not in rendered:
            context = {
                "kind": event.kind.label,
                "event": event,
                "actor": event.actor,
                "link": absolute(event.link),
                "preferences": f"{base_url()}/notifications/preferences/",
            }
            rendered[key] = render_email("notifications/email/event", context, language)
        subject, body = rendered[key]
        rows.append(
            OutboxMail(
                to=user.email,
                subject=subject[:300],
                body=body,
                template="notifications/email/event",
                language=user.language or "",
                next_attempt_at=now,
                created_at=now,
                updated_at=now,
            )
        )
    return [m.pk for m in OutboxMail.objects.bulk_create(rows, batch_size=BATCH)]


def _after(mail_ids: list[int], robot_ids: list[int], now) -> None:
    from kehu.notifications.tasks import flush_robot

    for pk in mail_ids:
        deliver_mail.enqueue(pk)
    for robot_id in robot_ids:
        flush_robot.enqueue(robot_id, now.isoformat() if now else None)


def notify(kind, *, recipients, actor=None, summary: str = "", link: str = "") -> None:
    """Tell people of something without a domain event (no timeline entry, audit row or webhook):
    a registered `notify=True` kind, the users (or ids) to tell, a summary and a path into Kehu.
    Delivered once the surrounding transaction commits, through each person's preferences."""
    event = events.build(kind, actor=actor, summary=summary, notify=recipients, link=link)
    transaction.on_commit(lambda: deliver([event]))


def digests_send_due(now=None) -> int:
    """The daily digest: from DIGEST_HOUR local time on, one mail per person with everything waiting
    for them that has not gone out in a digest today. Returns how many mails were queued."""
    now = now or timezone.now()
    local = timezone.localtime(now)
    if local.hour < DIGEST_HOUR:
        return 0
    start_of_day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    done_today = set(
        DigestItem.objects.filter(sent_at__gte=start_of_day).values_list("recipient_id", flat=True).distinct()
    )
    waiting = list(
        DigestItem.objects.filter(sent_at__isnull=True, created_at__lte=now)
        .exclude(recipient_id__in=done_today)
        .order_by("recipient_id", "id")[:50_000]
    )
    if not waiting:
        DigestItem.objects.filter(sent_at__lt=now - DIGEST_KEPT_FOR).delete()
        return 0
    per_user: dict[int, list[DigestItem]] = defaultdict(list)
    for item in waiting:
        per_user[item.recipient_id].append(item)
    users = User.objects.filter(pk__in=list(per_user)).only("id", "email", "language", "is_active").in_bulk()
    from kehu.core.mail import outbox_add

    queued = 0
    with transaction.atomic():
        for uid, user_items in per_user.items():
            user = users.get(uid)
            if user is None or not user.is_active or not user.email:
                continue
            for item in user_items:
                item.url = absolute(item.link)
            subject, body = render_email(
                "notifications/email/digest",
                {"items": user_items, "day": local.date(), "preferences": f"{base_url()}/notifications/preferences/"},
                user.language or settings.LANGUAGE_CODE,
            )
            outbox_add(
                subject=subject,
                body=body,
                to=[user.email],
                template="notifications/email/digest",
                language=user.language or "",
            )
            queued += 1
        DigestItem.objects.filter(pk__in=[i.pk for i in waiting]).update(sent_at=now)
    DigestItem.objects.filter(sent_at__lt=now - DIGEST_KEPT_FOR).delete()
    return queued
