"""Writes of complaints (投诉, SRV-2): registration, the one transition table, each step's completion
(the handling notice, the investigation, CAPA, the feedback, the follow-up call), a step's owner and
deadline, corrections of the registration, and the scan that tells people of overdue steps.

A step's deadline is counted in working days of the company calendar from the day the step begins
(the day the previous one was done), unless someone set it by hand."""

from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core import events
from kehu.core.exceptions import ConcurrentEditError
from kehu.core.numbering import save_numbered
from kehu.support.complaint_events import ComplaintEvent
from kehu.support.complaint_selectors import add_working_days
from kehu.support.models_complaints import (
    COMPLAINT_OPEN_STATES,
    Complaint,
    ComplaintCategory,
    ComplaintCause,
    ComplaintResponsibility,
    ComplaintSeverity,
    ComplaintState,
    ComplaintStep,
    ComplaintStepKind,
)
from kehu.support.workhours import WorkCalendar

C = ComplaintState
K = ComplaintStepKind
# DESIGN rule 3: which state may follow which, in one place.
COMPLAINT_TRANSITIONS: dict[str, set[str]] = {
    C.REGISTERED: {C.NOTICE_ISSUED, C.REJECTED, C.WITHDRAWN},
    C.NOTICE_ISSUED: {C.INVESTIGATING, C.WITHDRAWN},
    C.INVESTIGATING: {C.ACTION, C.WITHDRAWN},
    C.ACTION: {C.FEEDBACK, C.WITHDRAWN},
    C.FEEDBACK: {C.FOLLOW_UP, C.WITHDRAWN},
    C.FOLLOW_UP: {C.CLOSED},
    C.CLOSED: set(),
    C.REJECTED: set(),
    C.WITHDRAWN: set(),
}
# The steps in order, their default length in working days, and the state each one's completion leads to.
STEP_ORDER = [K.NOTICE, K.INVESTIGATION, K.ACTION, K.FEEDBACK, K.FOLLOW_UP]
DEFAULT_DAYS = {K.NOTICE: 1, K.INVESTIGATION: 3, K.ACTION: 5, K.FEEDBACK: 2, K.FOLLOW_UP: 5}
STEP_LEADS_TO = {
    K.NOTICE: C.NOTICE_ISSUED,
    K.INVESTIGATION: C.ACTION,
    K.ACTION: C.FEEDBACK,
    K.FEEDBACK: C.FOLLOW_UP,
    K.FOLLOW_UP: C.CLOSED,
}
# The step open while the complaint is in a state.
STEP_OF_STATE = {
    C.REGISTERED: K.NOTICE,
    C.NOTICE_ISSUED: K.INVESTIGATION,
    C.INVESTIGATING: K.INVESTIGATION,
    C.ACTION: K.ACTION,
    C.FEEDBACK: K.FEEDBACK,
    C.FOLLOW_UP: K.FOLLOW_UP,
}
TEXT_MAX = 4000


def _local_day(moment: datetime) -> date:
    return timezone.localtime(moment).date()


def _link(complaint: Complaint) -> str:
    return reverse("support:complaint-detail", args=[complaint.pk])


# Who may do what (the caller has already checked that the user sees the complaint).


def may_manage(user, complaint: Complaint | None = None) -> bool:
    """Owners, deadlines, corrections, rejection, any step: support.manage_complaint, or
    support.change_complaint for the complaint's own manager."""
    if not user.is_authenticated:
        return False
    if user.has_perm("support.manage_complaint"):
        return True
    return bool(complaint and user.has_perm("support.change_complaint") and complaint.owner_id == user.pk)


def may_complete(user, complaint: Complaint, step: ComplaintStep | None) -> bool:
    """A step is done by whoever manages the complaint, or by the person it was given to."""
    if step is None or not complaint.is_open or step.completed_at is not None:
        return False
    return may_manage(user, complaint) or (user.is_authenticated and step.owner_id == user.pk)


def _locked(complaint: Complaint, expected_version: int | None) -> Complaint:
    fresh = Complaint.objects.select_for_update().get(pk=complaint.pk)
    if expected_version is not None and fresh.version != expected_version:
        raise ConcurrentEditError(
            _("Someone else changed this complaint (now %(state)s) after you opened it. Look again, then retry.")
            % {"state": ComplaintState(fresh.state).label}
        )
    return fresh


def current_step(complaint: Complaint) -> ComplaintStep | None:
    kind = STEP_OF_STATE.get(complaint.state)
    return complaint.steps.filter(kind=kind).first() if kind else None


def _text(value, name: str, errors: dict, *, required: bool = False, message: str = "") -> str:
    value = (value or "").strip()
    if required and not value:
        errors[name] = [message or _("This field is required.")]
    elif len(value) > TEXT_MAX:
        errors[name] = [_("Keep it under %(n)d characters.") % {"n": TEXT_MAX}]
    return value


# Registration.


@transaction.atomic
def complaint_register(
    *,
    actor,
    customer,
    customer_words: str,
    category: str,
    severity: str = ComplaintSeverity.MAJOR,
    contact=None,
    order=None,
    order_line=None,
    order_number: str = "",
    specification=None,
    part_number: str = "",
    quantity: Decimal | None = None,
    shipped_on: date | None = None,
    ticket=None,
    unit=None,
    owner=None,
    now: datetime | None = None,
) -> Complaint:
    """Register a complaint: numbered TS-<year>-<6 digits>, its five steps planned from today in
    working days, the first (the handling notice) begun and given to the complaint's manager."""
    now = now or timezone.now()
    errors: dict = {}
    words = _text(customer_words, "customer_words", errors, required=True, message=_("Write what the customer said."))
    if category not in ComplaintCategory.values:
        errors["category"] = [_("Choose what the complaint is about.")]
    if severity not in ComplaintSeverity.values:
        errors["severity"] = [_("Choose a severity.")]
    if contact is not None and contact.customer_id != customer.pk:
        errors["contact"] = [_("This contact belongs to another customer.")]
    if order is not None and order.customer_id != customer.pk:
        errors["order"] = [_("This order belongs to another customer.")]
    if order_line is not None:
        if order is None:
            order = order_line.order
        if order_line.order_id != order.pk:
            errors["order_line"] = [_("This line is not on the order.")]
        elif order.customer_id != customer.pk:
            errors["order_line"] = [_("This order belongs to another customer.")]
        specification = specification or order_line.specification
    if ticket is not None and ticket.customer_id != customer.pk:
        errors["ticket"] = [_("This ticket belongs to another customer.")]
    if unit is not None and unit.customer_id != customer.pk:
        errors["unit"] = [_("This unit belongs to another customer.")]
    if quantity is not None and quantity <= 0:
        errors["quantity"] = [_("The quantity must be more than zero.")]
    if shipped_on is not None and shipped_on > _local_day(now):
        errors["shipped_on"] = [_("The ship date cannot lie in the future.")]
    if errors:
        raise ValidationError(errors)
    product = specification.product if specification is not None else (unit.product if unit else None)
    if specification is None and unit is not None:
        specification = unit.specification
    part = (part_number or "").strip()[:60] or (specification.code if specification else "")
    owner = owner or actor
    complaint = Complaint(
        customer=customer,
        contact=contact,
        order=order,
        order_line=order_line,
        order_number=(order.number if order else (order_number or "").strip())[:40],
        product=product,
        specification=specification,
        part_number=part,
        quantity=quantity,
        shipped_on=shipped_on,
        customer_words=words,
        category=category,
        severity=severity,
        ticket=ticket,
        unit=unit,
        owner=owner,
        registered_on=_local_day(now),
        created_at=now,
        updated_at=now,
    )
    save_numbered(
        complaint,
        prefix=f"TS-{_local_day(now).year}-",
        width=6,
        failure=_("No complaint number is free; try again."),
    )
    calendar = WorkCalendar.load()
    day = complaint.registered_on
    steps = []
    for position, kind in enumerate(STEP_ORDER, start=1):
        day = add_working_days(calendar, day, DEFAULT_DAYS[kind])
        steps.append(
            ComplaintStep(
                complaint=complaint,
                kind=kind,
                position=position,
                owner=owner if kind in (K.NOTICE, K.FEEDBACK, K.FOLLOW_UP) else None,
                working_days=DEFAULT_DAYS[kind],
                due_on=day,
                started_at=now if kind == K.NOTICE else None,
            )
        )
    ComplaintStep.objects.bulk_create(steps)
    complaint.due_on = steps[0].due_on
    Complaint.objects.filter(pk=complaint.pk).update(due_on=complaint.due_on)
    events.record(
        ComplaintEvent.COMPLAINT_REGISTERED,
        occurred_at=now,
        actor=actor,
        subject=complaint,
        customer_id=customer.pk,
        summary=f"{complaint.number} {words[:200]}",
        payload={"category": category, "severity": severity},
        webhook={
            "complaint_id": complaint.pk,
            "number": complaint.number,
            "customer_id": customer.pk,
            "category": category,
            "severity": severity,
            "part_number": complaint.part_number,
        },
        notify=[owner.pk] if owner.pk != getattr(actor, "pk", None) else [],
        link=_link(complaint),
    )
    return complaint


# The transition table's one door.


@transaction.atomic
def complaint_transition(
    *,
    complaint: Complaint,
    actor,
    to: str,
    note: str = "",
    expected_version: int | None = None,
    now: datetime | None = None,
    quiet: bool = False,
) -> Complaint:
    """Move the complaint along COMPLAINT_TRANSITIONS. Rejecting or withdrawing needs a reason and the
    right to manage it; entering a step's state begins that step (its deadline counted from today).
    `quiet`: the move follows a step's completion, whose timeline entry says it already."""
    now = now or timezone.now()
    fresh = _locked(complaint, expected_version)
    if to not in COMPLAINT_TRANSITIONS.get(fresh.state, set()):
        raise ValidationError(
            _("A complaint that is %(from)s cannot become %(to)s.")
            % {"from": ComplaintState(fresh.state).label, "to": ComplaintState(to).label if to in C.values else to}
        )
    if to in (C.REJECTED, C.WITHDRAWN) and not note.strip():
        raise ValidationError({"note": [_("Say why.")]})
    was = fresh.state
    fresh.state = to
    fresh.version += 1
    fresh.updated_at = now
    told: list[int] = []
    if to in COMPLAINT_OPEN_STATES:
        kind = STEP_OF_STATE[to]
        step = fresh.steps.get(kind=kind)
        if step.started_at is None:
            calendar = WorkCalendar.load()
            step.started_at = now
            if not step.due_fixed:
                step.due_on = add_working_days(calendar, _local_day(now), step.working_days)
            step.save(update_fields=["started_at", "due_on"])
            # The steps after it are planned again from its deadline (those set by hand stay).
            day = step.due_on
            for later in fresh.steps.filter(position__gt=step.position, started_at__isnull=True).order_by("position"):
                day = later.due_on if later.due_fixed else add_working_days(calendar, day, later.working_days)
                if later.due_on != day:
                    later.due_on = day
                    later.save(update_fields=["due_on"])
            if step.owner_id and step.owner_id != getattr(actor, "pk", None):
                told.append(step.owner_id)
        fresh.due_on = step.due_on
    else:
        fresh.due_on = None
        fresh.closed_at = now
        fresh.close_reason = note.strip()[:500] if to != C.CLOSED else fresh.close_reason
    fresh.save(update_fields=["state", "version", "updated_at", "due_on", "closed_at", "close_reason"])
    label = f"{fresh.number}: {ComplaintState(was).label} → {ComplaintState(to).label}"
    if to == C.CLOSED:
        events.record(
            ComplaintEvent.COMPLAINT_CLOSED,
            occurred_at=now,
            actor=actor,
            subject=fresh,
            customer_id=fresh.customer_id,
            summary=label,
            payload={"from": was, "to": to, "satisfaction": fresh.satisfaction},
            webhook={
                "complaint_id": fresh.pk,
                "number": fresh.number,
                "customer_id": fresh.customer_id,
                "cause": fresh.cause,
                "responsibility": fresh.responsibility,
                "satisfaction": fresh.satisfaction,
            },
            notify=[fresh.owner_id] if fresh.owner_id != getattr(actor, "pk", None) else [],
            link=_link(fresh),
        )
    else:
        events.record(
            ComplaintEvent.COMPLAINT_MOVED,
            occurred_at=now,
            actor=actor,
            subject=fresh,
            customer_id=None if quiet else fresh.customer_id,
            summary=f"{label} {note}".strip()[:300],
            payload={"from": was, "to": to},
        )
    if told:
        events.record(
            ComplaintEvent.COMPLAINT_STEP_ASSIGNED,
            occurred_at=now,
            actor=actor,
            subject=fresh,
            summary=f"{fresh.number} {K(STEP_OF_STATE[to]).label}",
            notify=told,
            link=_link(fresh),
        )
    return fresh


@transaction.atomic
def complaint_move(
    *,
    complaint: Complaint,
    actor,
    to: str,
    note: str = "",
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Complaint:
    """A transition by a person: the department starting its investigation (the step's owner or a
    manager), rejecting or withdrawing (a manager). Steps are completed with `complaint_step_complete`."""
    if to == C.INVESTIGATING:
        if not may_complete(actor, complaint, current_step(complaint)):
            raise PermissionDenied
    elif to in (C.REJECTED, C.WITHDRAWN):
        if not may_manage(actor, complaint):
            raise PermissionDenied
    else:
        raise ValidationError(_("Complete the open step to move the complaint on."))
    return complaint_transition(
        complaint=complaint, actor=actor, to=to, note=note, expected_version=expected_version, now=now
    )


# Completing a step.


def _notice(fresh: Complaint, data: dict, errors: dict) -> list[str]:
    department = data.get("department")
    if department is None:
        errors["department"] = [_("Name the department responsible.")]
    fresh.department = department
    fresh.notice_text = _text(data.get("notice_text"), "notice_text", errors)
    fresh.notice_deadline = data.get("notice_deadline")
    return ["department", "notice_text", "notice_deadline", "notice_issued_at"]


def _investigation(fresh: Complaint, data: dict, errors: dict) -> list[str]:
    cause, responsibility = data.get("cause") or "", data.get("responsibility") or ""
    if cause not in ComplaintCause.values:
        errors["cause"] = [_("Choose the cause found.")]
    if responsibility not in ComplaintResponsibility.values:
        errors["responsibility"] = [_("Choose who is responsible.")]
    fresh.cause, fresh.responsibility = cause, responsibility
    fresh.findings = _text(
        data.get("findings"), "findings", errors, required=True, message=_("Write what the investigation found.")
    )
    return ["cause", "responsibility", "findings"]


def _action(fresh: Complaint, data: dict, errors: dict) -> list[str]:
    fresh.corrective_action = _text(
        data.get("corrective_action"),
        "corrective_action",
        errors,
        required=True,
        message=_("Write the corrective action."),
    )
    fresh.preventive_action = _text(data.get("preventive_action"), "preventive_action", errors)
    return ["corrective_action", "preventive_action"]


def _feedback(fresh: Complaint, data: dict, errors: dict, today: date) -> list[str]:
    fresh.feedback_text = _text(
        data.get("feedback_text"),
        "feedback_text",
        errors,
        required=True,
        message=_("Write what the customer was told."),
    )
    told_on = data.get("feedback_on") or today
    if told_on > today:
        errors["feedback_on"] = [_("This day lies in the future.")]
    fresh.feedback_on = told_on
    return ["feedback_text", "feedback_on"]


def _follow_up(fresh: Complaint, data: dict, errors: dict) -> list[str]:
    satisfaction = data.get("satisfaction")
    if satisfaction not in (1, 2, 3, 4, 5):
        errors["satisfaction"] = [_("Rate the customer's satisfaction from 1 to 5.")]
    fresh.satisfaction = satisfaction if satisfaction in (1, 2, 3, 4, 5) else None
    fresh.follow_up_comment = _text(data.get("follow_up_comment"), "follow_up_comment", errors)
    return ["satisfaction", "follow_up_comment"]


@transaction.atomic
def complaint_step_complete(
    *,
    complaint: Complaint,
    actor,
    kind: str,
    data: dict,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Complaint:
    """Record the open step's result (`data` holds its fields), mark it done (on time when done by its
    due day) and move the complaint to the next state, which begins the next step."""
    now = now or timezone.now()
    fresh = _locked(complaint, expected_version)
    step = current_step(fresh)
    if step is None or step.kind != kind:
        raise ValidationError(
            _("This step is not open: the complaint is %(state)s.") % {"state": ComplaintState(fresh.state).label},
            code="transition",
        )
    if not may_complete(actor, fresh, step):
        raise PermissionDenied
    today = _local_day(now)
    errors: dict = {}
    if kind == K.NOTICE:
        fields = _notice(fresh, data, errors)
        fresh.notice_issued_at = now
    elif kind == K.INVESTIGATION:
        fields = _investigation(fresh, data, errors)
    elif kind == K.ACTION:
        fields = _action(fresh, data, errors)
    elif kind == K.FEEDBACK:
        fields = _feedback(fresh, data, errors, today)
    else:
        fields = _follow_up(fresh, data, errors)
    if errors:
        raise ValidationError(errors)
    fresh.save(update_fields=fields)
    step.completed_at = now
    step.completed_by = actor
    step.is_late = today > step.due_on
    step.save(update_fields=["completed_at", "completed_by", "is_late"])
    if kind == K.NOTICE:
        # The department's head takes the investigation and the action unless someone was named.
        head_id = fresh.department.head_id if fresh.department else None
        fresh.steps.filter(kind__in=[K.INVESTIGATION, K.ACTION], owner__isnull=True).update(
            owner_id=head_id or fresh.owner_id
        )
    events.record(
        ComplaintEvent.COMPLAINT_STEP_DONE,
        occurred_at=now,
        actor=actor,
        subject=fresh,
        customer_id=fresh.customer_id,
        summary=f"{fresh.number} {K(kind).label}" + (f" ({_('late')})" if step.is_late else ""),
        payload={"step": kind, "late": step.is_late},
    )
    target = STEP_LEADS_TO[kind]
    if kind == K.INVESTIGATION and fresh.state == C.NOTICE_ISSUED:
        fresh = complaint_transition(complaint=fresh, actor=actor, to=C.INVESTIGATING, now=now, quiet=True)
    return complaint_transition(complaint=fresh, actor=actor, to=target, now=now, quiet=True)


# A step's owner and deadline; corrections of the registration.


@transaction.atomic
def complaint_step_plan(
    *,
    complaint: Complaint,
    actor,
    kind: str,
    owner=None,
    due_on: date | None = None,
    working_days: int | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> ComplaintStep:
    """Give a step not yet done to someone and/or change its deadline (a day, or its length in working
    days from the day it begins). The new owner is told; a later deadline may be told overdue again."""
    now = now or timezone.now()
    if not may_manage(actor, complaint):
        raise PermissionDenied
    fresh = _locked(complaint, expected_version)
    step = fresh.steps.filter(kind=kind).first()
    if step is None:
        raise ValidationError(_("No such step."))
    if step.completed_at is not None or not fresh.is_open:
        raise ValidationError(_("This step is already done."), code="transition")
    errors = {}
    if owner is not None and not (owner.is_active and owner.has_perm("support.view_complaint")):
        errors["owner"] = [_("%(name)s cannot see complaints.") % {"name": owner}]
    if due_on is not None and due_on < fresh.registered_on:
        errors["due_on"] = [_("The deadline cannot lie before the registration.")]
    if working_days is not None and not 0 <= working_days <= 365:
        errors["working_days"] = [_("Between 0 and 365 working days.")]
    if errors:
        raise ValidationError(errors)
    told = []
    fields = []
    if owner is not None and owner.pk != step.owner_id:
        step.owner = owner
        fields.append("owner")
        if owner.pk != actor.pk:
            told.append(owner.pk)
    if due_on is not None:
        step.due_fixed = True
        fields.append("due_fixed")
    if working_days is not None and working_days != step.working_days:
        step.working_days = working_days
        fields.append("working_days")
        if step.started_at is not None and due_on is None:
            step.due_fixed = False
            fields.append("due_fixed")
            due_on = add_working_days(WorkCalendar.load(), _local_day(step.started_at), working_days)
    if due_on is not None and due_on != step.due_on:
        if due_on > step.due_on:
            step.overdue_told_at = None
            fields.append("overdue_told_at")
        step.due_on = due_on
        fields.append("due_on")
    if not fields:
        return step
    step.save(update_fields=fields)
    fresh.version += 1
    fresh.updated_at = now
    if STEP_OF_STATE.get(fresh.state) == step.kind:
        fresh.due_on = step.due_on
    fresh.save(update_fields=["version", "updated_at", "due_on"])
    events.record(
        ComplaintEvent.COMPLAINT_STEP_ASSIGNED,
        occurred_at=now,
        actor=actor,
        subject=fresh,
        summary=f"{fresh.number} {K(kind).label} · {step.due_on.isoformat()}",
        payload={"step": kind, "owner_id": step.owner_id, "due_on": step.due_on.isoformat()},
        notify=told,
        link=_link(fresh),
    )
    return step


EDITABLE = ("customer_words", "category", "severity", "part_number", "quantity", "shipped_on", "order_number", "owner")


@transaction.atomic
def complaint_update(
    *, complaint: Complaint, actor, expected_version: int | None = None, now: datetime | None = None, **changes
) -> Complaint:
    """Correct what was registered (the customer's words, category, severity, part, quantity, ship
    date, order number) or hand the complaint to another manager."""
    now = now or timezone.now()
    if not may_manage(actor, complaint):
        raise PermissionDenied
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationError(_("These fields cannot be changed: %(names)s") % {"names": ", ".join(sorted(unknown))})
    fresh = _locked(complaint, expected_version)
    errors: dict = {}
    if "customer_words" in changes:
        changes["customer_words"] = _text(
            changes["customer_words"],
            "customer_words",
            errors,
            required=True,
            message=_("Write what the customer said."),
        )
    if "category" in changes and changes["category"] not in ComplaintCategory.values:
        errors["category"] = [_("Choose what the complaint is about.")]
    if "severity" in changes and changes["severity"] not in ComplaintSeverity.values:
        errors["severity"] = [_("Choose a severity.")]
    if changes.get("quantity") is not None and changes["quantity"] <= 0:
        errors["quantity"] = [_("The quantity must be more than zero.")]
    if changes.get("shipped_on") is not None and changes["shipped_on"] > _local_day(now):
        errors["shipped_on"] = [_("The ship date cannot lie in the future.")]
    owner = changes.get("owner")
    if owner is not None and not (owner.is_active and owner.has_perm("support.change_complaint")):
        errors["owner"] = [_("%(name)s cannot handle complaints.") % {"name": owner}]
    if "owner" in changes and owner is None:
        changes.pop("owner")
    if errors:
        raise ValidationError(errors)
    diff = {}
    for name, value in changes.items():
        if name in ("part_number", "order_number"):
            value = (value or "").strip()[: 60 if name == "part_number" else 40]
        before = getattr(fresh, name)
        if before != value:
            diff[name] = [str(getattr(before, "pk", before) or ""), str(getattr(value, "pk", value) or "")]
            setattr(fresh, name, value)
    if not diff:
        return fresh
    fresh.version += 1
    fresh.updated_at = now
    fresh.save(update_fields=[*changes.keys(), "version", "updated_at"])
    events.record(
        ComplaintEvent.COMPLAINT_CHANGED,
        occurred_at=now,
        actor=actor,
        subject=fresh,
        customer_id=fresh.customer_id,
        summary=fresh.number,
        changes=diff,
        notify=[owner.pk] if owner is not None and "owner" in diff and owner.pk != actor.pk else [],
        link=_link(fresh),
    )
    return fresh


# The periodic scan.


def complaint_overdue_scan(*, now: datetime | None = None) -> dict[str, int]:
    """Every open step past its due day: its owner and the complaint's manager are told once (the
    step remembers it). Idempotent. Returns counts."""
    now = now or timezone.now()
    today = _local_day(now)
    counts = {"overdue": 0, "told": 0}
    steps = (
        ComplaintStep.objects.filter(
            completed_at__isnull=True,
            started_at__isnull=False,
            due_on__lt=today,
            complaint__state__in=COMPLAINT_OPEN_STATES,
        )
        .select_related("complaint")
        .order_by("pk")
    )
    for step in steps:
        counts["overdue"] += 1
        if step.overdue_told_at is not None:
            continue
        complaint = step.complaint
        with transaction.atomic():
            if not ComplaintStep.objects.filter(pk=step.pk, overdue_told_at__isnull=True).update(overdue_told_at=now):
                continue
            counts["told"] += 1
            events.record(
                ComplaintEvent.COMPLAINT_STEP_OVERDUE,
                occurred_at=now,
                subject=complaint,
                customer_id=complaint.customer_id,
                summary=f"{complaint.number} {K(step.kind).label} · {step.due_on.isoformat()}",
                payload={"step": step.kind, "due_on": step.due_on.isoformat()},
                notify=[step.owner_id, complaint.owner_id],
                link=_link(complaint),
            )
    return counts
