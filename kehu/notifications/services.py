"""Every write of notifications: reading them, each person's choices, the teams' robots (INT-2, INT-5).

Public functions for other apps: `kehu.notifications.delivery.notify()` tells people of something
without a domain event; otherwise record an event of a `notify=True` kind with `notify=[...]`
recipients and a `link` through `kehu.core.events` — nothing here needs importing.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core import events
from kehu.core.audit import audit_record, diff, snapshot
from kehu.core.models import AuditAction
from kehu.core.text import text_field_errors
from kehu.core.weburl import clean_web_url
from kehu.notifications import robots as robot_engine
from kehu.notifications.delivery import CHANNELS, DEFAULTS
from kehu.notifications.models import Notification, Platform, PostStatus, Preference, Robot, RobotPost
from kehu.users.models import Department, User

MANAGE_ROBOTS = "notifications.manage_robots"
ROBOT_FIELDS = ("name", "platform", "department", "webhook_url", "keyword", "kinds", "is_active")


# --- in-app notifications -------------------------------------------------------------------------


def notification_mark_read(*, notification: Notification, actor: User) -> Notification:
    """Mark one of the actor's own notifications read (reading it twice keeps the first time)."""
    if notification.recipient_id != actor.pk:
        raise PermissionDenied
    if notification.read_at is None:
        now = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now)
        notification.read_at = now
    return notification


def notification_mark_all_read(*, actor: User, up_to_id: int | None = None) -> int:
    """Mark all the actor's unread notifications read (those up to `up_to_id`, when given: what the
    page showed); returns how many."""
    unread = Notification.objects.filter(recipient_id=actor.pk, read_at__isnull=True)
    if up_to_id is not None:
        unread = unread.filter(pk__lte=up_to_id)
    return unread.update(read_at=timezone.now())


# --- preferences ----------------------------------------------------------------------------------


def notify_kinds() -> list[events.EventKind]:
    return sorted(events.kinds(notify=True), key=lambda k: k.code)


def preferences_set(*, user: User, actor: User, choices: dict[str, dict]) -> None:
    """Set a person's channels for the kinds in `choices` ({kind: {"in_app": bool, "email": bool,
    "digest": bool}}; a channel left out keeps its value). Only the person themselves may."""
    if actor.pk != user.pk:
        raise PermissionDenied
    known = {k.code for k in notify_kinds()}
    unknown = sorted(set(choices) - known)
    if unknown:
        raise ValidationError({"kind": [_("Unknown kind of event: %(kinds)s.") % {"kinds": ", ".join(unknown)}]})
    for kind, channels in choices.items():
        if not isinstance(channels, dict) or set(channels) - set(CHANNELS):
            raise ValidationError({kind: [_("Give in_app, email and digest as true or false.")]})
        if any(not isinstance(v, bool) for v in channels.values()):
            raise ValidationError({kind: [_("Give in_app, email and digest as true or false.")]})
    with transaction.atomic():
        existing = {p.kind: p for p in Preference.objects.filter(user=user, kind__in=list(choices))}
        keep, drop = [], []
        for kind, channels in choices.items():
            current = existing.get(kind)
            merged = {c: getattr(current, c) if current else DEFAULTS[c] for c in CHANNELS} | channels
            if merged == DEFAULTS:
                if current:
                    drop.append(current.pk)
            else:
                keep.append(Preference(user=user, kind=kind, **merged))
        Preference.objects.filter(user=user, kind__in=list(choices)).delete()
        Preference.objects.bulk_create(keep)


def preferences_of(user: User) -> list[dict]:
    """Every kind people may be told of, with this person's channels (defaults where unset)."""
    rows = {p.kind: p for p in Preference.objects.filter(user=user)}
    result = []
    for kind in notify_kinds():
        row = rows.get(kind.code)
        channels = {c: getattr(row, c) for c in CHANNELS} if row else dict(DEFAULTS)
        # A kind whose app sends its own mail (the pool's warning, the handover brief) offers no second one.
        result.append({"kind": kind.code, "label": str(kind.label), "mailed": not kind.email, **channels})
    return result


# --- robots ---------------------------------------------------------------------------------------


def _check(actor: User) -> None:
    if not actor.is_authenticated or not actor.has_perm(MANAGE_ROBOTS):
        raise PermissionDenied


def _clean(robot: Robot) -> None:
    errors: dict[str, list[str]] = {}
    robot.name = (robot.name or "").strip()
    robot.keyword = (robot.keyword or "").strip()
    robot.secret = (robot.secret or "").strip()
    if not robot.name:
        errors["name"] = [_("Give the robot a name.")]
    if robot.platform not in Platform.values:
        errors["platform"] = [_("Choose WeCom, DingTalk or Feishu.")]
    try:
        robot.webhook_url = clean_web_url(robot.webhook_url, field="webhook_url", require_scheme=True)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if not robot.webhook_url and "webhook_url" not in errors:
        errors["webhook_url"] = [_("Paste the robot's webhook address from the chat app.")]
    if robot.platform == Platform.WECOM and robot.secret:
        errors["secret"] = [_("WeCom robots are not signed; leave the secret empty.")]
    if not robot.department_id:
        errors["department"] = [_("Choose the team whose events the robot posts.")]
    kinds = robot.kinds
    known = {k.code for k in notify_kinds()}
    if not isinstance(kinds, list) or not kinds or any(k not in known for k in kinds):
        errors["kinds"] = [_("Choose one or more of the known kinds of events.")]
    else:
        robot.kinds = sorted(set(kinds))
    for name, messages in text_field_errors(robot).items():
        errors.setdefault(name, messages)
    if errors:
        raise ValidationError(errors)


def _department(value) -> Department | None:
    if value is None or isinstance(value, Department):
        return value
    return Department.objects.filter(pk=value).first()


@transaction.atomic
def robot_create(
    *,
    actor: User,
    name: str,
    platform: str,
    department,
    webhook_url: str,
    secret: str = "",
    keyword: str = "",
    kinds: list,
    is_active: bool = True,
) -> Robot:
    _check(actor)
    robot = Robot(
        name=name,
        platform=platform,
        department=_department(department),
        webhook_url=webhook_url,
        secret=secret or "",
        keyword=keyword or "",
        kinds=kinds,
        is_active=is_active,
        created_by=actor,
    )
    _clean(robot)
    robot.save()
    audit_record(actor=actor, action=AuditAction.CREATE, instance=robot)
    return robot


@transaction.atomic
def robot_update(*, robot: Robot, actor: User, secret: str | None = None, **fields) -> Robot:
    """Change a robot; an empty or missing `secret` keeps the one it has (it is shown masked)."""
    _check(actor)
    before = snapshot(robot, ROBOT_FIELDS)
    for name, value in fields.items():
        if name not in ROBOT_FIELDS:
            raise ValidationError({name: _("This field cannot be changed.")})
        setattr(robot, name, _department(value) if name == "department" else value)
    secret_changed = bool(secret) and secret != robot.secret
    if secret_changed:
        robot.secret = secret
    if robot.platform == Platform.WECOM and fields.get("platform") == Platform.WECOM and not secret:
        robot.secret = ""
    _clean(robot)
    robot.save()
    changes = diff(before, snapshot(robot, ROBOT_FIELDS))
    if secret_changed:
        changes["secret"] = ["***", "***"]
    if changes:
        audit_record(actor=actor, action=AuditAction.UPDATE, instance=robot, changes=changes)
    return robot


@transaction.atomic
def robot_delete(*, robot: Robot, actor: User) -> None:
    _check(actor)
    audit_record(actor=actor, action=AuditAction.DELETE, instance=robot)
    robot.delete()


def robot_send_test(*, robot: Robot, actor: User) -> RobotPost:
    """Post a test message now (within the robot's rate: a robot at its limit gets it next minute)."""
    _check(actor)
    from django.conf import settings
    from django.utils import translation

    from kehu.notifications.links import base_url

    with translation.override(settings.LANGUAGE_CODE):
        title = robot_engine._titled(robot, _("Test message from Kehu"))
        text = _("This robot is set up: Kehu will post the events of %(team)s here.") % {"team": robot.department}
        label = _("Open in Kehu")
    url = f"{base_url()}/"
    if robot.platform != Platform.FEISHU:
        text = f"### {robot_engine.clean(title)}\n\n{robot_engine.clean(text)}\n\n[{label}]({url})"
    now = timezone.now()
    post = RobotPost.objects.create(
        robot=robot, title=title[:200], text=text, link=url, is_test=True, next_attempt_at=now
    )
    if robot_engine._budget(robot.pk, now) > 0:
        robot_engine.robot_post_send(post.pk, now=now)
        post.refresh_from_db()
    return post


def robot_post_retry(*, post: RobotPost, actor: User) -> RobotPost:
    """ "Send again now": a post given up on (or waiting for its next try) is due at once."""
    _check(actor)
    if not post.may_retry:
        raise ValidationError(_("Only a message that failed can be sent again."))
    now = timezone.now()
    updated = RobotPost.objects.filter(pk=post.pk, status=post.status, attempts=post.attempts).update(
        status=PostStatus.PENDING, next_attempt_at=now
    )
    if not updated:
        raise ValidationError(_("This message changed meanwhile; reload the page and try again."))
    audit_record(
        actor=actor, action=AuditAction.UPDATE, instance=post, changes={"status": [post.status, PostStatus.PENDING]}
    )
    if robot_engine._budget(post.robot_id, now) > 0:
        robot_engine.robot_post_send(post.pk, now=now)
    post.refresh_from_db()
    return post
