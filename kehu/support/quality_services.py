"""Writes of service quality (SRV-5): defect types, inspection records with their defects,
improvement actions (open → done → verified), and the quality settings (the daily report's list,
the anomaly threshold, the figures of service economics)."""

from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core import events
from kehu.core.audit import audit_record
from kehu.core.models import AuditAction
from kehu.core.text import check_text
from kehu.support.models_quality import (
    ActionSource,
    ActionState,
    DefectType,
    ImprovementAction,
    Inspection,
    InspectionDefect,
    QualitySettings,
)
from kehu.support.rma_events import ReturnEvent

A = ActionState
# Which state may follow which.
ACTION_TRANSITIONS = {A.OPEN: {A.DONE}, A.DONE: {A.VERIFIED, A.OPEN}, A.VERIFIED: set()}
MAX_QUANTITY = 10_000_000


def _require(actor, perm: str) -> None:
    if not getattr(actor, "is_authenticated", False) or not actor.has_perm(perm):
        raise PermissionDenied


@transaction.atomic
def defect_type_create(*, name: str, actor) -> DefectType:
    _require(actor, "support.manage_quality")
    name = check_text((name or "").strip(), field="name", max_length=100)
    if not name:
        raise ValidationError({"name": [_("Enter a name.")]})
    if DefectType.objects.filter(name=name).exists():
        raise ValidationError({"name": [_("This defect type exists already.")]})
    return DefectType.objects.create(name=name)


def _count(value, field: str, *, allow_zero: bool = True) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationError({field: [_("Enter a whole number.")]}) from None
    if number < (0 if allow_zero else 1) or number > MAX_QUANTITY:
        raise ValidationError({field: [_("Enter a whole number from %(min)s to %(max)s.") % {
            "min": 0 if allow_zero else 1, "max": MAX_QUANTITY}]})  # fmt: skip
    return number


@transaction.atomic
def inspection_record(
    *,
    actor,
    inspected_on: date,
    product,
    inspected_quantity,
    defects: list[tuple[DefectType, object]] = (),
    specification=None,
    batch: str = "",
    note: str = "",
    inspector=None,
) -> Inspection:
    """One lot inspected: how many, the defects found by type (their sum at most the lot)."""
    _require(actor, "support.add_inspection")
    errors = {}
    if inspected_on is None:
        errors["inspected_on"] = [_("Enter the date.")]
    elif inspected_on > timezone.localdate():
        errors["inspected_on"] = [_("The date cannot be in the future.")]
    if specification is not None and specification.product_id != product.pk:
        errors["specification"] = [_("This specification is of another product.")]
    if errors:
        raise ValidationError(errors)
    quantity = _count(inspected_quantity, "inspected_quantity", allow_zero=False)
    rows: dict[int, tuple[DefectType, int]] = {}
    for defect_type, n in defects:
        n = _count(n, "defects")
        if n:
            known = rows.get(defect_type.pk, (defect_type, 0))[1]
            rows[defect_type.pk] = (defect_type, known + n)
    total = sum(n for _t, n in rows.values())
    if total > quantity:
        raise ValidationError(
            {
                "defects": [
                    _("%(defects)s defects in a lot of %(n)s: no more defects than pieces.")
                    % {"defects": total, "n": quantity}
                ]
            }  # fmt: skip
        )
    inspection = Inspection.objects.create(
        inspected_on=inspected_on,
        product=product,
        specification=specification,
        batch=check_text((batch or "").strip(), field="batch", max_length=60),
        inspected_quantity=quantity,
        defect_quantity=total,
        inspector=inspector or actor,
        note=check_text(note or "", field="note", multiline=True, max_length=4000),
    )
    InspectionDefect.objects.bulk_create(
        InspectionDefect(inspection=inspection, defect_type=t, quantity=n) for t, n in rows.values()
    )
    return inspection


@transaction.atomic
def action_create(
    *, actor, description: str, owner, due_on: date, source: str = ActionSource.OTHER, source_id=None
) -> ImprovementAction:
    _require(actor, "support.add_improvementaction")
    errors = {}
    if not (description or "").strip():
        errors["description"] = [_("Say what will be improved.")]
    if source not in ActionSource.values:
        errors["source"] = [_("Choose where the action comes from.")]
    if due_on is None:
        errors["due_on"] = [_("Enter the deadline.")]
    if owner is None or not owner.is_active:
        errors["owner"] = [_("Choose an active user.")]
    if errors:
        raise ValidationError(errors)
    check_text(description, field="description", multiline=True, max_length=4000)
    action = ImprovementAction.objects.create(
        source=source,
        source_id=source_id or None,
        description=description.strip(),
        owner=owner,
        due_on=due_on,
        created_by=actor,
    )
    events.record(
        ReturnEvent.ACTION_ASSIGNED,
        actor=actor,
        subject=action,
        summary=f"{action.description[:80]} · {due_on:%Y-%m-%d}",
        notify=[owner.pk] if owner.pk != actor.pk else [],
        link="/service/quality/actions/",
    )
    return action


@transaction.atomic
def action_transition(*, action: ImprovementAction, actor, to: str) -> ImprovementAction:
    """The owner or the quality people mark an action done; only the quality people verify it."""
    action = ImprovementAction.objects.select_for_update().get(pk=action.pk)
    may_change = actor.has_perm("support.change_improvementaction")
    if not may_change and not (to == A.DONE and action.owner_id == actor.pk):
        raise PermissionDenied
    if to not in ACTION_TRANSITIONS.get(action.state, set()):
        raise ValidationError(
            _("An action that is %(state)s cannot become %(to)s.")
            % {"state": A(action.state).label, "to": A(to).label if to in A.values else to}
        )
    now = timezone.now()
    action.state = to
    if to == A.DONE:
        action.done_at = now
    elif to == A.VERIFIED:
        action.verified_at, action.verified_by = now, actor
    else:
        action.done_at = None
    action.updated_at = now
    action.save()
    return action


def _decimal(value, field, maximum: Decimal) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError({field: [_("Enter a number.")]}) from None
    if not number.is_finite() or number < 0 or number > maximum:
        raise ValidationError({field: [_("Enter a number from 0 to %(max)s.") % {"max": maximum}]})
    return number


@transaction.atomic
def quality_settings_update(
    *, actor, recipients: str, defect_rate_threshold, report_hour, hourly_rate, retained_months
) -> QualitySettings:
    _require(actor, "support.manage_quality")
    found = QualitySettings.load()
    addresses = [line.strip() for line in (recipients or "").replace(",", "\n").splitlines() if line.strip()]
    bad = []
    for address in addresses:
        try:
            validate_email(address)
        except ValidationError:
            bad.append(address)
    if bad:
        raise ValidationError({"recipients": [_("Not an e-mail address: %(list)s") % {"list": ", ".join(bad)}]})
    if len(addresses) > 50:
        raise ValidationError({"recipients": [_("At most 50 recipients.")]})
    hour = _count(report_hour, "report_hour")
    if hour > 23:
        raise ValidationError({"report_hour": [_("Enter an hour from 0 to 23.")]})
    months = _count(retained_months, "retained_months", allow_zero=False)
    if months > 60:
        raise ValidationError({"retained_months": [_("Enter 1 to 60 months.")]})
    before = {
        "recipients": found.recipients,
        "defect_rate_threshold": str(found.defect_rate_threshold),
        "hourly_rate": str(found.hourly_rate),
    }
    found.recipients = "\n".join(dict.fromkeys(addresses))
    found.defect_rate_threshold = _decimal(defect_rate_threshold, "defect_rate_threshold", Decimal("100"))
    found.hourly_rate = _decimal(hourly_rate, "hourly_rate", Decimal("100000"))
    found.report_hour, found.retained_months = hour, months
    found.updated_by = actor
    found.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=found,
        changes={k: [v, str(getattr(found, k))] for k, v in before.items() if v != str(getattr(found, k))},
    )
    return found
