"""Every write to activities; each one lands on the customer's timeline."""

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.activities import plausibility
from kehu.activities.events import ActivityEvent
from kehu.activities.models import Activity, ActivityKind
from kehu.activities.selectors import OPEN_WORK
from kehu.core import events
from kehu.core.audit import diff, snapshot
from kehu.core.mail import outbox_add
from kehu.core.models import AuditAction
from kehu.core.text import changed, check_text, full_clean
from kehu.core.versioning import update_versioned
from kehu.customers.models import Customer, TimelineEntry
from kehu.users.models import User
from kehu.users.roles import DataScope
from kehu.users.scopes import is_in_team_of, scope_for

ACTIVITY = "activities.activity"
ACTIVITY_FIELDS = ["kind", "subject", "content", "occurred_at", "duration_minutes", "due_on", "contact"]


def _clean(activity: Activity, *, changed=None) -> None:
    """The activity's own rules and the model's, with the text rule (on the `changed` fields when given)."""
    activity.subject = (activity.subject or "").strip()
    errors = {}
    if not activity.subject:
        errors["subject"] = _("Say in a few words what happened or what was promised.")
    if activity.kind == ActivityKind.COMMITMENT and activity.due_on is None:
        errors["due_on"] = _("A commitment needs a due date.")
    if activity.contact is not None and activity.contact.customer_id != activity.customer_id:
        errors["contact"] = _("This contact belongs to another customer.")
    if activity.duration_minutes is not None and activity.duration_minutes > 24 * 60:
        errors["duration_minutes"] = _("A duration cannot be longer than a day.")
    if errors:
        raise ValidationError(errors)
    full_clean(activity, exclude=["customer", "contact", "owner", "deleted_by"], text_fields=changed)


def _payload(activity: Activity) -> dict:
    payload = {"content": activity.content[:500]}
    if activity.duration_minutes:
        payload["duration_minutes"] = activity.duration_minutes
    if activity.due_on:
        payload["due_on"] = activity.due_on.isoformat()
    if activity.contact_id:
        payload["contact"] = activity.contact.name
    return payload


@transaction.atomic
def activity_log(*, customer: Customer, actor: User, **fields) -> Activity:
    """Log a visit, call, meeting, email, note or commitment on a customer's timeline."""
    if not actor.has_perm("activities.add_activity"):
        raise PermissionDenied
    activity = Activity(customer=customer, owner=actor, **fields)
    _clean(activity)
    activity.save()
    Customer.objects.filter(pk=customer.pk).update(updated_at=timezone.now())
    events.record(
        activity.kind,
        customer_id=customer.pk,
        actor=actor,
        summary=activity.subject,
        subject=activity,
        payload=_payload(activity),
        occurred_at=activity.occurred_at,
        audit=AuditAction.CREATE,
    )
    return activity


def _check_may_change(actor: User, activity: Activity) -> None:
    if activity.owner_id != actor.pk and not actor.has_perm("activities.change_activity"):
        raise PermissionDenied


@transaction.atomic
def activity_update(*, activity: Activity, actor: User, expected_version: int, **fields) -> Activity:
    _check_may_change(actor, activity)
    before = snapshot(activity, ACTIVITY_FIELDS)
    changing = changed(activity, fields)
    for name, value in fields.items():
        if name not in ACTIVITY_FIELDS:
            raise ValidationError({name: _("This field cannot be changed.")})
        setattr(activity, name, value)
    _clean(activity, changed=changing)
    changes = diff(before, snapshot(activity, ACTIVITY_FIELDS))
    if not changes:
        return activity
    written = list(fields)
    if "due_on" in changes:
        activity.overdue_told_on = None  # a new due date: its owner hears again if it passes
        written.append("overdue_told_on")
    update_versioned(activity, expected_version=expected_version, fields=written)
    TimelineEntry.objects.filter(subject_type=activity._meta.label_lower, subject_id=activity.pk).exclude(
        kind__in=[ActivityEvent.COMMITMENT_DONE, ActivityEvent.CHECK_IN]
    ).update(
        kind=activity.kind, summary=activity.subject[:300], payload=_payload(activity), occurred_at=activity.occurred_at
    )
    events.record(
        ActivityEvent.ACTIVITY_CHANGED, actor=actor, subject=activity, audit=AuditAction.UPDATE, changes=changes
    )
    return activity


@transaction.atomic
def commitment_mark_done(*, activity: Activity, actor: User) -> Activity:
    _check_may_change(actor, activity)
    if activity.kind != ActivityKind.COMMITMENT:
        raise ValidationError(_("Only commitments can be marked as done."))
    if activity.is_done:
        return activity
    now = timezone.now()
    Activity.objects.filter(pk=activity.pk).update(is_done=True, done_at=now, updated_at=now)
    activity.is_done, activity.done_at = True, now
    events.record(
        ActivityEvent.COMMITMENT_DONE,
        customer_id=activity.customer_id,
        actor=actor,
        summary=activity.subject,
        subject=activity,
        audit=AuditAction.UPDATE,
        changes={"is_done": [False, True]},
    )
    return activity


@transaction.atomic
def commitment_mark_undone(*, activity: Activity, actor: User) -> Activity:
    """Reopen a commitment marked as kept by mistake: it is open (and maybe overdue) again.

    The "kept" entry leaves the customer's timeline; the audit log keeps both changes."""
    _check_may_change(actor, activity)
    if activity.kind != ActivityKind.COMMITMENT:
        raise ValidationError(_("Only commitments can be reopened."))
    if not activity.is_done:
        return activity
    now = timezone.now()
    Activity.objects.filter(pk=activity.pk).update(is_done=False, done_at=None, overdue_told_on=None, updated_at=now)
    activity.is_done, activity.done_at = False, None
    TimelineEntry.objects.filter(
        subject_type=activity._meta.label_lower, subject_id=activity.pk, kind=ActivityEvent.COMMITMENT_DONE
    ).delete()
    events.record(
        ActivityEvent.ACTIVITY_CHANGED,
        actor=actor,
        subject=activity,
        audit=AuditAction.UPDATE,
        changes={"is_done": [True, False]},
    )
    return activity


@transaction.atomic
def activity_delete(*, activity: Activity, actor: User) -> None:
    if activity.owner_id != actor.pk and not actor.has_perm("activities.delete_activity"):
        raise PermissionDenied
    now = timezone.now()
    Activity.objects.filter(pk=activity.pk).update(deleted_at=now, deleted_by=actor)
    activity.deleted_at = now
    TimelineEntry.objects.filter(subject_type=activity._meta.label_lower, subject_id=activity.pk).delete()
    events.record(ActivityEvent.ACTIVITY_DELETED, actor=actor, subject=activity, audit=AuditAction.DELETE)


@transaction.atomic
def visit_plan(
    *, customer: Customer, actor: User, planned_for, subject: str, purpose: str = "", contact=None
) -> Activity:
    """Plan a visit (拜访计划): a visit with a planned time, not yet done. It shows on the rep's week."""
    if not actor.has_perm("activities.add_activity"):
        raise PermissionDenied
    if planned_for is None:
        raise ValidationError({"planned_for": _("Say when the visit is planned.")})
    activity = Activity(
        customer=customer,
        owner=actor,
        kind=ActivityKind.VISIT,
        subject=subject,
        purpose=(purpose or "").strip(),
        contact=contact,
        planned_for=planned_for,
        occurred_at=planned_for,
    )
    _clean(activity)
    activity.save()
    events.record(ActivityEvent.VISIT_PLANNED, actor=actor, subject=activity, audit=AuditAction.CREATE)
    return activity


def _check_planned_visit(activity: Activity) -> None:
    if activity.kind != ActivityKind.VISIT or activity.planned_for is None:
        raise ValidationError(_("Only planned visits can be checked in or logged here."))
    if activity.is_done:
        raise ValidationError(_("This visit has already been logged."))


def _coordinate(value, limit: int):
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value)).quantize(Decimal("0.000001"))
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite() or abs(number) > limit:
        return None
    return number


@transaction.atomic
def visit_check_in(*, activity: Activity, actor: User, latitude=None, longitude=None, accuracy=None) -> Activity:
    """Check in on a planned visit (签到): the time always; the position when the phone gave one."""
    _check_may_change(actor, activity)
    _check_planned_visit(activity)
    lat, lng = _coordinate(latitude, 90), _coordinate(longitude, 180)
    if lat is None or lng is None:
        lat = lng = None
    try:
        acc = int(float(accuracy)) if accuracy not in (None, "") and lat is not None else None
    except (TypeError, ValueError, OverflowError):
        acc = None
    if acc is not None and not 0 <= acc <= 1_000_000:
        acc = None
    now = timezone.now()
    found = plausibility.assess(
        activity.customer,
        latitude=lat,
        longitude=lng,
        accuracy=acc,
        planned_for=activity.planned_for,
        checked_in_at=now,
    )
    values = {
        "checked_in_at": now,
        "check_in_latitude": lat,
        "check_in_longitude": lng,
        "check_in_accuracy_m": acc,
        "check_in_distance_m": found.distance_m,
        "check_in_basis": found.basis,
        "check_in_place": found.place,
        "check_in_days_off": found.days_off,
        "check_in_warnings": ",".join(found.warnings),
    }
    for name, value in values.items():
        setattr(activity, name, value)
    Activity.objects.filter(pk=activity.pk).update(**values, updated_at=now)
    payload = {}
    if lat is not None:
        payload = {"latitude": str(lat), "longitude": str(lng), "accuracy_m": acc}
    if found.distance_m is not None:
        payload.update(distance_m=found.distance_m, basis=found.basis, place=found.place)
    if found.warnings:
        payload["warnings"] = found.warnings
    events.record(
        ActivityEvent.CHECK_IN,
        customer_id=activity.customer_id,
        actor=actor,
        summary=activity.subject,
        subject=activity,
        payload=payload,
        occurred_at=now,
        audit=AuditAction.UPDATE,
        changes={
            "checked_in_at": [None, str(now)],
            **({"check_in_distance_m": [None, found.distance_m]} if found.distance_m is not None else {}),
            **({"check_in_warnings": [None, values["check_in_warnings"]]} if found.warnings else {}),
        },
    )
    return activity


@transaction.atomic
def visit_log_result(
    *,
    activity: Activity,
    actor: User,
    duration_minutes=None,
    content: str = "",
    outcome: str = "",
    next_step: str = "",
    purpose: str | None = None,
) -> Activity:
    """Log how a planned visit went: duration, content, outcome, next step. It lands on the timeline."""
    _check_may_change(actor, activity)
    _check_planned_visit(activity)
    now = timezone.now()
    activity.duration_minutes = duration_minutes
    activity.content = content or ""
    activity.outcome = (outcome or "").strip()
    activity.next_step = (next_step or "").strip()
    if purpose is not None:
        activity.purpose = purpose.strip()
    activity.occurred_at = activity.checked_in_at or now
    activity.is_done, activity.done_at = True, now
    _clean(activity, changed={"content", "outcome", "next_step"} | ({"purpose"} if purpose is not None else set()))
    activity.version += 1
    activity.save()
    payload = _payload(activity)
    for name in ("purpose", "outcome", "next_step"):
        if getattr(activity, name):
            payload[name] = getattr(activity, name)[:500]
    Customer.objects.filter(pk=activity.customer_id).update(updated_at=now)
    events.record(
        ActivityKind.VISIT,
        customer_id=activity.customer_id,
        actor=actor,
        summary=activity.subject,
        subject=activity,
        payload=payload,
        occurred_at=activity.occurred_at,
        audit=AuditAction.UPDATE,
        changes={"is_done": [False, True]},
    )
    return activity


MAIL_MAX_RECIPIENTS = 10


def _clean_addresses(to) -> list[str]:
    addresses = []
    for value in to or []:
        address = str(value).strip()
        if address and address.lower() not in {a.lower() for a in addresses}:
            addresses.append(address)
    if not addresses:
        raise ValidationError({"to": [_("Give at least one e-mail address.")]})
    if len(addresses) > MAIL_MAX_RECIPIENTS:
        raise ValidationError({"to": [_("Send to at most %(n)d addresses at once.") % {"n": MAIL_MAX_RECIPIENTS}]})
    for address in addresses:
        try:
            validate_email(address)
        except ValidationError:
            raise ValidationError(
                {"to": [_("“%(address)s” is not an e-mail address.") % {"address": address}]}
            ) from None
    return addresses


@transaction.atomic
def email_send(*, customer: Customer, actor: User, to, subject: str, body: str, contact=None) -> Activity:
    """Write to a customer from Kehu (INT-2): the mail goes through the outbox with the rep as
    Reply-To, and lands on the customer's timeline as an e-mail activity naming who it went to, so
    whoever takes over the customer later can read what was written. The caller has checked that
    the actor sees the customer."""
    if not actor.has_perm("activities.add_activity"):
        raise PermissionDenied
    if customer.deleted_at is not None:
        raise ValidationError({"customer": [_("This customer is in the recycle bin.")]})
    errors = {}
    subject, body = (subject or "").strip(), (body or "").strip()
    if not subject:
        errors["subject"] = [_("Give the mail a subject.")]
    if not body:
        errors["body"] = [_("Write the message.")]
    for name, value, multiline, limit in (("subject", subject, False, 200), ("body", body, True, 10_000)):
        try:
            check_text(value, field=name, multiline=multiline, max_length=limit)
        except ValidationError as exc:
            errors.setdefault(name, exc.message_dict[name])
    try:
        addresses = _clean_addresses(to)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if contact is not None and contact.customer_id != customer.pk:
        errors["contact"] = [_("This contact belongs to another customer.")]
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    mail = outbox_add(subject=subject, body=body, to=addresses, template="customer_mail", reply_to=actor.email)
    activity = Activity(
        customer=customer, owner=actor, kind=ActivityKind.EMAIL, subject=subject, content=body, contact=contact
    )
    activity.occurred_at = now
    _clean(activity)
    activity.save()
    Customer.objects.filter(pk=customer.pk).update(updated_at=now)
    events.record(
        ActivityKind.EMAIL,
        customer_id=customer.pk,
        actor=actor,
        summary=f"{subject} → {', '.join(addresses)}",
        subject=activity,
        payload={**_payload(activity), "to": addresses, "mail": mail.pk},
        occurred_at=now,
        audit=AuditAction.CREATE,
        changes={"to": [None, ", ".join(addresses)], "mail": [None, mail.pk]},
    )
    return activity


def commitments_overdue_tell(*, today=None, batch: int = 2000) -> int:
    """Tell each owner, once, about their commitments that fell overdue (承诺逾期): one notice per
    owner and run, however many there are. Returns the number of owners told."""
    today = today or timezone.localdate()
    told = 0
    while True:
        rows = list(
            Activity.objects.filter(
                kind=ActivityKind.COMMITMENT,
                is_done=False,
                deleted_at__isnull=True,
                due_on__lt=today,
                overdue_told_on__isnull=True,
            )
            .order_by("owner_id", "due_on", "id")
            .values_list("pk", "owner_id", "subject")[:batch]
        )
        if not rows:
            return told
        by_owner: dict[int, list[str]] = {}
        for _pk, owner_id, subject in rows:
            by_owner.setdefault(owner_id, []).append(subject)
        with transaction.atomic():
            Activity.objects.filter(pk__in=[r[0] for r in rows]).update(overdue_told_on=today)
            events.record_many(
                [
                    events.build(
                        ActivityEvent.COMMITMENTS_OVERDUE,
                        summary="; ".join(subjects[:3]) + (" …" if len(subjects) > 3 else ""),
                        payload={"count": len(subjects)},
                        notify=[owner_id],
                        link=reverse("activities:task-list"),
                    )
                    for owner_id, subjects in by_owner.items()
                ]
            )
        told += len(by_owner)


# ---- open work (承诺 and planned visits) changing hands ---------------------------------------------

# Holding open work on a customer in the public pool needs a way to see the pool. The pool app sits
# above this one, so its permissions are named here rather than imported.
POOL_PERMS = ("pool.claim_customer", "pool.assign_customer", "pool.manage_pools")
WORK_AUDIT_BATCH = 1000


@dataclass
class WorkMoved:
    """What moved: counts of commitments and planned visits, per customer and in all."""

    commitments: int = 0
    visits: int = 0
    per_customer: dict = field(default_factory=dict)  # customer id → [commitments, visits]

    def add(self, other: "WorkMoved") -> "WorkMoved":
        self.commitments += other.commitments
        self.visits += other.visits
        for pk, (c, v) in other.per_customer.items():
            counts = self.per_customer.setdefault(pk, [0, 0])
            counts[0] += c
            counts[1] += v
        return self


def may_hold_work(user: User | None, owner: User | None) -> bool:
    """Whether `user` can keep open work on a customer owned by `owner` (None: in the public pool):
    active, allowed to see activities, and able to see the customer."""
    if user is None or not user.is_active or not user.has_perm("activities.view_activity"):
        return False
    if owner is None:
        return scope_for(user).kind == DataScope.ALL or any(user.has_perm(p) for p in POOL_PERMS)
    return is_in_team_of(user, owner)


def _move(rows: list[tuple], to_user: User, actor: User | None, reason: str, now) -> WorkMoved:
    """Give the open work in `rows` ((pk, kind, owner id, customer id, subject), none of them held by
    `to_user`) to `to_user`: one UPDATE and one audit insert per batch, whatever the number of rows."""
    moved = WorkMoved()
    if not rows:
        return moved
    names = {u.pk: str(u) for u in User.objects.filter(pk__in={r[2] for r in rows})}
    for start in range(0, len(rows), WORK_AUDIT_BATCH):
        part = rows[start : start + WORK_AUDIT_BATCH]
        Activity.objects.filter(pk__in=[r[0] for r in part]).update(
            owner=to_user, updated_at=now, version=F("version") + 1
        )
        events.record_many(
            [
                events.build(
                    ActivityEvent.WORK_MOVED,
                    actor=actor,
                    subject=Activity(pk=pk, subject=subject),
                    occurred_at=now,
                    audit=AuditAction.UPDATE,
                    changes={"owner": [names.get(owner_id), str(to_user)], "reason": [None, reason[:200]]},
                )
                for pk, _kind, owner_id, _customer_id, subject in part
            ]
        )
    for _pk, kind, _owner_id, customer_id, _subject in rows:
        counts = moved.per_customer.setdefault(customer_id, [0, 0])
        if kind == ActivityKind.COMMITMENT:
            moved.commitments += 1
            counts[0] += 1
        else:
            moved.visits += 1
            counts[1] += 1
    return moved


def _open_rows(qs) -> list[tuple]:
    return list(
        qs.filter(OPEN_WORK, deleted_at__isnull=True)
        .order_by("pk")
        .values_list("pk", "kind", "owner_id", "customer_id", "subject")
    )


def open_work_move(*, customer_ids, to_user: User, actor: User | None, reason: str, now=None) -> WorkMoved:
    """Give every open commitment and planned visit of these customers to `to_user` (handover, claim,
    assignment, release, recycle). Set-based; the caller holds the transaction and checks that
    `to_user` may hold the work."""
    now = now or timezone.now()
    ids = list(customer_ids)
    if not ids:
        return WorkMoved()
    rows = _open_rows(Activity.objects.filter(customer_id__in=ids).exclude(owner=to_user))
    return _move(rows, to_user, actor, reason, now)


def open_work_rehome(*, customer_ids, actor: User | None, reason: str) -> WorkMoved:
    """After customers changed hands outside the pool (the owner field, a merge): open work whose
    holder can no longer see the customer, or has left, goes to the customer's owner, or to the
    person who made the change when the customer has no active owner. Work still in good hands stays."""
    now = timezone.now()
    ids = list(customer_ids)
    rows = list(
        Activity.objects.filter(OPEN_WORK, customer_id__in=ids, deleted_at__isnull=True)
        .order_by("pk")
        .values_list("pk", "kind", "owner_id", "customer_id", "subject", "customer__owner_id")
    )
    if not rows:
        return WorkMoved()
    people = User.objects.in_bulk({r[2] for r in rows} | {r[5] for r in rows if r[5]})
    groups: dict[int, list[tuple]] = {}
    for pk, kind, holder_id, customer_id, subject, owner_id in rows:
        owner = people.get(owner_id)
        if may_hold_work(people.get(holder_id), owner):
            continue
        target = owner if owner is not None and may_hold_work(owner, owner) else actor
        if target is None or target.pk == holder_id:
            continue
        groups.setdefault(target.pk, []).append((pk, kind, holder_id, customer_id, subject))
    moved = WorkMoved()
    targets = {u.pk: u for u in (*people.values(), *([actor] if actor else []))}
    for target_id, part in groups.items():
        moved.add(_move(part, targets[target_id], actor, reason, now))
    return moved


def open_work_of_departed(*, user: User, actor: User | None) -> WorkMoved:
    """A deactivated user's open work goes to the customer's owner when someone else owns it, else to
    the user's manager when they can see the customer, else to the person who deactivated the user.
    The customers themselves stay with the user until a manager hands them over (交接)."""
    now = timezone.now()
    rows = list(
        Activity.objects.filter(OPEN_WORK, owner=user, deleted_at__isnull=True)
        .order_by("pk")
        .values_list("pk", "kind", "owner_id", "customer_id", "subject", "customer__owner_id")
    )
    if not rows:
        return WorkMoved()
    owners = User.objects.in_bulk({r[5] for r in rows if r[5]})
    manager = user.manager if user.manager_id else None
    reason = _("%(user)s was deactivated") % {"user": user}
    groups: dict[int, list[tuple]] = {}
    people = {}
    for pk, kind, holder_id, customer_id, subject, owner_id in rows:
        owner = owners.get(owner_id)
        if owner is not None and owner.pk != user.pk and may_hold_work(owner, owner):
            target = owner
        elif may_hold_work(manager, owner):
            target = manager
        else:
            target = actor
        if target is None:
            continue
        people[target.pk] = target
        groups.setdefault(target.pk, []).append((pk, kind, holder_id, customer_id, subject))
    moved = WorkMoved()
    for target_id, part in groups.items():
        moved.add(_move(part, people[target_id], actor, reason, now))
    return moved
