"""Writes of returns (退换货, SRV-3): open an RMA on a delivered order line, send it for approval,
receive the goods back (入库单), inspect them, remedy (repair / replacement sent out with its 出库单 /
refund / repackaging), close; reject and cancel. `TRANSITIONS` holds which state may follow which;
approval and rejection come only from the approvals engine (`kehu.support.rma_approval`)."""

from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core import events
from kehu.core.numbering import save_numbered
from kehu.core.text import check_text
from kehu.orders.models import OrderLine
from kehu.support import rma_approval
from kehu.support.models_returns import (
    ReturnRemedy,
    ReturnRequest,
    ReturnState,
    ReturnStateChange,
    StockNote,
)
from kehu.support.rma_events import ReturnEvent

S = ReturnState
ZERO = Decimal("0")
CENT = Decimal("0.01")
CHANGE_PERM = "support.change_returnrequest"
# Which state may follow which (DESIGN rule 3: one table). APPROVED and REJECTED follow PENDING only
# through the approval request's decision (ENGINE_ONLY).
TRANSITIONS: dict[str, set[str]] = {
    S.DRAFT: {S.PENDING, S.CANCELLED},
    S.PENDING: {S.APPROVED, S.REJECTED, S.DRAFT, S.CANCELLED},
    S.APPROVED: {S.RECEIVED, S.CANCELLED},
    S.RECEIVED: {S.INSPECTED},
    S.INSPECTED: {S.REMEDIED},
    S.REMEDIED: {S.CLOSED},
    S.REJECTED: {S.DRAFT, S.CANCELLED},
    S.CLOSED: set(),
    S.CANCELLED: set(),
}
ENGINE_ONLY = frozenset({S.APPROVED, S.REJECTED})
# Returns still taking goods off their order line (rejected and cancelled ones give them back).
LIVE_STATES = frozenset(set(S) - {S.REJECTED, S.CANCELLED})
COST_FIELDS = ("freight_cost", "labour_cost", "parts_cost", "replacement_cost")


def check_may_change(actor) -> None:
    if not getattr(actor, "is_authenticated", False) or not actor.has_perm(CHANGE_PERM):
        raise PermissionDenied


def allowed_moves(rma: ReturnRequest) -> list[str]:
    """The states a person may move the RMA to now (the engine's decisions excluded)."""
    return [s for s in S.values if s in TRANSITIONS.get(rma.state, set()) and s not in ENGINE_ONLY]


def _decimal(value, field: str, *, positive: bool = False) -> Decimal:
    try:
        number = Decimal(str(value if value not in (None, "") else "0"))
    except (InvalidOperation, ValueError):
        raise ValidationError({field: [_("Enter a number.")]}) from None
    if not number.is_finite() or number < 0 or (positive and number <= 0):
        raise ValidationError({field: [_("Enter a number above zero.") if positive else _("Enter zero or more.")]})
    if number >= Decimal("1e11"):
        raise ValidationError({field: [_("This number is too large.")]})
    return number


def returnable(order_line: OrderLine, *, exclude: ReturnRequest | None = None) -> tuple[Decimal, Decimal]:
    """(what may still come back on the line, what earlier live returns took)."""
    taken_qs = ReturnRequest.objects.filter(order_line=order_line, state__in=LIVE_STATES)
    if exclude is not None and exclude.pk:
        taken_qs = taken_qs.exclude(pk=exclude.pk)
    taken = taken_qs.aggregate(s=Sum("quantity"))["s"] or ZERO
    return max(order_line.delivered_quantity - taken, ZERO), taken


def _check_quantity(order_line: OrderLine, quantity: Decimal, rma: ReturnRequest | None = None) -> None:
    left, taken = returnable(order_line, exclude=rma)
    if quantity > left:
        raise ValidationError(
            {
                "quantity": [
                    _(
                        "At most %(left)s %(unit)s of this line can be returned: %(delivered)s delivered, "
                        "%(taken)s already on other returns."
                    )
                    % {
                        "left": f"{left.normalize():f}",
                        "unit": order_line.unit,
                        "delivered": f"{order_line.delivered_quantity.normalize():f}",
                        "taken": f"{taken.normalize():f}",
                    }
                ]
            }
        )


def _value(order_line: OrderLine, quantity: Decimal) -> Decimal:
    if not order_line.quantity:
        return ZERO
    return (order_line.amount * quantity / order_line.quantity).quantize(CENT)


def _validate(*, order_line, quantity, reason: str, remedy: str, ticket=None, unit=None, rma=None) -> Decimal:
    quantity = _decimal(quantity, "quantity", positive=True)
    errors = {}
    if not (reason or "").strip():
        errors["reason"] = [_("Say why the goods come back.")]
    if remedy not in ReturnRemedy.values:
        errors["remedy"] = [_("Choose repair, replace, refund or repackage.")]
    if ticket is not None and ticket.customer_id != order_line.customer_id:
        errors["ticket"] = [_("This ticket is of another customer.")]
    if unit is not None and unit.customer_id != order_line.customer_id:
        errors["unit"] = [_("This unit belongs to another customer.")]
    if order_line.delivered_quantity <= 0:
        errors["order_line"] = [_("Nothing of this order line has been delivered yet.")]
    if errors:
        raise ValidationError(errors)
    check_text(reason, field="reason", multiline=True, max_length=4000)
    _check_quantity(order_line, quantity, rma)
    return quantity


def _record(kind, rma: ReturnRequest, *, actor, summary: str = "", notify=(), webhook=None):
    events.record(
        kind,
        actor=actor,
        subject=rma,
        customer_id=rma.customer_id,
        summary=f"{rma.number} {summary}".strip(),
        payload={"rma": rma.pk, "state": rma.state},
        webhook=webhook,
        notify=[p for p in notify if p and p != getattr(actor, "pk", None)],
        link=f"/service/returns/{rma.pk}/",
    )


def _move(rma: ReturnRequest, to: str, *, actor, note: str = "", now=None, engine: bool = False) -> None:
    """The one place a state changes: checked against TRANSITIONS, recorded in the history."""
    now = now or timezone.now()
    if to not in TRANSITIONS.get(rma.state, set()) or (to in ENGINE_ONLY and not engine):
        raise ValidationError(
            _("A return that is %(state)s cannot become %(to)s.")
            % {"state": S(rma.state).label, "to": S(to).label if to in S.values else to}
        )
    ReturnStateChange.objects.create(rma=rma, from_state=rma.state, to_state=to, at=now, actor=actor, note=note[:500])
    rma.state = to
    rma.version += 1
    rma.updated_at = now


def _locked(rma: ReturnRequest, expected_version: int | None = None) -> ReturnRequest:
    fresh = ReturnRequest.objects.select_for_update().select_related("customer", "order_line").get(pk=rma.pk)
    if expected_version is not None and fresh.version != expected_version:
        raise ValidationError(_("Someone else changed this return meanwhile; reload the page and try again."))
    return fresh


@transaction.atomic
def rma_create(
    *,
    actor,
    order_line: OrderLine,
    quantity,
    reason: str,
    remedy: str,
    ticket=None,
    unit=None,
    now=None,
) -> ReturnRequest:
    check_may_change(actor)
    now = now or timezone.now()
    # Lock the line: two returns opened at once cannot both take the last pieces.
    order_line = OrderLine.objects.select_for_update().get(pk=order_line.pk)
    quantity = _validate(
        order_line=order_line, quantity=quantity, reason=reason, remedy=remedy, ticket=ticket, unit=unit
    )
    rma = ReturnRequest(
        customer_id=order_line.customer_id,
        order_line=order_line,
        ticket=ticket,
        unit=unit,
        quantity=quantity,
        amount=_value(order_line, quantity),
        reason=reason.strip(),
        remedy=remedy,
        requested_by=actor,
        created_at=now,
        updated_at=now,
    )
    save_numbered(
        rma, prefix=f"RMA{timezone.localtime(now).year}-", width=5, failure=_("No number is free; try again.")
    )
    ReturnStateChange.objects.create(rma=rma, from_state="", to_state=S.DRAFT, at=now, actor=actor)
    _record(ReturnEvent.RMA_CREATED, rma, actor=actor, summary=f"{order_line.name} × {quantity.normalize():f}")
    return rma


@transaction.atomic
def rma_update(
    *, rma: ReturnRequest, actor, quantity=None, reason=None, remedy=None, expected_version=None
) -> ReturnRequest:
    """Change a draft (or rejected) return's quantity, reason or remedy."""
    check_may_change(actor)
    rma = _locked(rma, expected_version)
    if rma.state not in (S.DRAFT, S.REJECTED):
        raise ValidationError(_("Only a draft or rejected return can be changed."))
    line = OrderLine.objects.select_for_update().get(pk=rma.order_line_id)
    quantity = _validate(
        order_line=line,
        quantity=rma.quantity if quantity is None else quantity,
        reason=rma.reason if reason is None else reason,
        remedy=rma.remedy if remedy is None else remedy,
        rma=rma,
    )
    rma.quantity, rma.amount = quantity, _value(line, quantity)
    rma.reason = (rma.reason if reason is None else reason).strip()
    rma.remedy = rma.remedy if remedy is None else remedy
    rma.version += 1
    rma.updated_at = timezone.now()
    rma.save()
    return rma


@transaction.atomic
def rma_submit(*, rma: ReturnRequest, actor, expected_version=None) -> ReturnRequest:
    """Send for approval; with the flow switched off the return is approved at once."""
    check_may_change(actor)
    rma = _locked(rma, expected_version)
    if rma.state == S.REJECTED:
        _move(rma, S.DRAFT, actor=actor)
    _check_quantity(rma.order_line, rma.quantity, rma)
    _move(rma, S.PENDING, actor=actor)
    rma.save()
    _record(ReturnEvent.RMA_SUBMITTED, rma, actor=actor)
    if rma_approval.required():
        rma_approval.submit(rma=rma, actor=actor)
    else:
        rma_approved(rma=rma, actor=actor)
    rma.refresh_from_db()
    return rma


@transaction.atomic
def rma_approved(*, rma: ReturnRequest, actor) -> ReturnRequest:
    """The approval request's final approval (the engine's hook)."""
    rma = _locked(rma)
    if rma.state != S.PENDING:
        return rma
    _move(rma, S.APPROVED, actor=actor, engine=True)
    rma.approved_at = timezone.now()
    rma.save()
    _record(
        ReturnEvent.RMA_APPROVED,
        rma,
        actor=actor,
        notify=[rma.requested_by_id],
        webhook={
            "rma_id": rma.pk,
            "number": rma.number,
            "customer_id": rma.customer_id,
            "order_line_id": rma.order_line_id,
            "quantity": str(rma.quantity),
            "remedy": rma.remedy,
            "amount": str(rma.amount),
        },
    )
    return rma


@transaction.atomic
def rma_rejected(*, rma: ReturnRequest, actor, comment: str = "", withdrawn: bool = False) -> ReturnRequest:
    """The request was rejected (→ rejected) or withdrawn by its requester (→ back to draft)."""
    rma = _locked(rma)
    if rma.state != S.PENDING:
        return rma
    _move(rma, S.DRAFT if withdrawn else S.REJECTED, actor=actor, note=comment, engine=True)
    rma.save()
    if not withdrawn:
        _record(ReturnEvent.RMA_REJECTED, rma, actor=actor, summary=comment, notify=[rma.requested_by_id])
    return rma


def _costs(rma: ReturnRequest, data: dict) -> None:
    for name in COST_FIELDS:
        if data.get(name) not in (None, ""):
            setattr(rma, name, _decimal(data[name], name))


@transaction.atomic
def rma_receive(
    *,
    rma: ReturnRequest,
    actor,
    received_quantity,
    received_on: date | None = None,
    note: str = "",
    freight_cost=None,
    expected_version=None,
) -> ReturnRequest:
    """The goods are back (入库): how many, when, who; a stock note (入库单) is written."""
    check_may_change(actor)
    rma = _locked(rma, expected_version)
    quantity = _decimal(received_quantity, "received_quantity", positive=True)
    if quantity > rma.quantity:
        raise ValidationError(
            {
                "received_quantity": [
                    _("At most %(n)s were approved to come back.") % {"n": f"{rma.quantity.normalize():f}"}
                ]
            }
        )
    day = received_on or timezone.localdate()
    if day > timezone.localdate():
        raise ValidationError({"received_on": [_("The date cannot be in the future.")]})
    check_text(note, field="note", max_length=500)
    _move(rma, S.RECEIVED, actor=actor, note=note)
    rma.received_quantity, rma.received_on, rma.received_by = quantity, day, actor
    _costs(rma, {"freight_cost": freight_cost})
    rma.save()
    _stock_note(rma, StockNote.Kind.IN, day=day, quantity=quantity, note=note, actor=actor)
    _record(ReturnEvent.RMA_MOVED, rma, actor=actor, summary=str(S.RECEIVED.label), notify=[rma.requested_by_id])
    return rma


def _stock_note(rma, kind, *, day, quantity, note, actor) -> StockNote:
    prefix = "RK" if kind == StockNote.Kind.IN else "CK"
    stock = StockNote(rma=rma, kind=kind, day=day, quantity=quantity, note=note[:500], created_by=actor)
    return save_numbered(stock, prefix=f"{prefix}{day.year}-", width=5, failure=_("No number is free; try again."))


@transaction.atomic
def rma_inspect(*, rma: ReturnRequest, actor, finding: str, responsibility: str, expected_version=None):
    from kehu.support.models_returns import Responsibility

    check_may_change(actor)
    rma = _locked(rma, expected_version)
    errors = {}
    if not (finding or "").strip():
        errors["finding"] = [_("Say what the inspection found.")]
    if responsibility not in Responsibility.values:
        errors["responsibility"] = [_("Choose who is responsible.")]
    if errors:
        raise ValidationError(errors)
    check_text(finding, field="finding", multiline=True, max_length=4000)
    _move(rma, S.INSPECTED, actor=actor)
    rma.finding, rma.responsibility = finding.strip(), responsibility
    rma.inspected_at, rma.inspected_by = timezone.now(), actor
    rma.save()
    _record(ReturnEvent.RMA_MOVED, rma, actor=actor, summary=str(S.INSPECTED.label), notify=[rma.requested_by_id])
    return rma


@transaction.atomic
def rma_remedy(
    *,
    rma: ReturnRequest,
    actor,
    note: str = "",
    refund_amount=None,
    replacement_shipped_on: date | None = None,
    expected_version=None,
    **costs,
) -> ReturnRequest:
    """Repair done / replacement shipped (出库单 written) / refund amount / repackaged."""
    check_may_change(actor)
    rma = _locked(rma, expected_version)
    check_text(note, field="note", multiline=True, max_length=4000)
    _move(rma, S.REMEDIED, actor=actor, note=note[:500])
    _costs(rma, costs)
    if rma.remedy == ReturnRemedy.REFUND:
        rma.refund_amount = _decimal(refund_amount, "refund_amount", positive=True)
    if rma.remedy == ReturnRemedy.REPLACE:
        if replacement_shipped_on is None:
            raise ValidationError({"replacement_shipped_on": [_("Say when the replacement was shipped.")]})
        if replacement_shipped_on > timezone.localdate():
            raise ValidationError({"replacement_shipped_on": [_("The date cannot be in the future.")]})
        rma.replacement_shipped_on = replacement_shipped_on
    if rma.remedy in (ReturnRemedy.REPAIR, ReturnRemedy.REPACKAGE) and not note.strip():
        raise ValidationError({"note": [_("Say what was done.")]})
    rma.remedy_note = note.strip()
    rma.remedied_at = timezone.now()
    rma.save()
    if rma.remedy == ReturnRemedy.REPLACE:
        _stock_note(
            rma,
            StockNote.Kind.OUT,
            day=replacement_shipped_on,
            quantity=rma.received_quantity or rma.quantity,
            note=note,
            actor=actor,
        )
    _record(ReturnEvent.RMA_MOVED, rma, actor=actor, summary=str(S.REMEDIED.label), notify=[rma.requested_by_id])
    return rma


@transaction.atomic
def rma_costs_update(*, rma: ReturnRequest, actor, expected_version=None, **costs) -> ReturnRequest:
    """Freight, repair labour and parts, the replacement's cost: kept up to date until closed."""
    check_may_change(actor)
    rma = _locked(rma, expected_version)
    if rma.state in (S.CLOSED, S.CANCELLED, S.REJECTED):
        raise ValidationError(_("The costs of a closed, rejected or cancelled return are final."))
    _costs(rma, costs)
    rma.version += 1
    rma.save()
    return rma


@transaction.atomic
def rma_close(*, rma: ReturnRequest, actor, note: str = "", expected_version=None) -> ReturnRequest:
    check_may_change(actor)
    rma = _locked(rma, expected_version)
    _move(rma, S.CLOSED, actor=actor, note=note)
    rma.closed_at = timezone.now()
    rma.save()
    _record(ReturnEvent.RMA_MOVED, rma, actor=actor, summary=str(S.CLOSED.label), notify=[rma.requested_by_id])
    return rma


@transaction.atomic
def rma_cancel(*, rma: ReturnRequest, actor, note: str = "", expected_version=None) -> ReturnRequest:
    check_may_change(actor)
    rma = _locked(rma, expected_version)
    if S.CANCELLED not in TRANSITIONS.get(rma.state, set()):
        _move(rma, S.CANCELLED, actor=actor)  # raises the refusal
    if rma.state == S.PENDING:
        rma_approval.withdraw(rma=rma, actor=actor)  # the engine's hook puts it back to draft
        rma = _locked(rma)
    _move(rma, S.CANCELLED, actor=actor, note=note)
    rma.save()
    _record(ReturnEvent.RMA_MOVED, rma, actor=actor, summary=str(S.CANCELLED.label), notify=[rma.requested_by_id])
    return rma


def rma_transition(*, rma: ReturnRequest, actor, to: str, **data) -> ReturnRequest:
    """One door for the API and the pages: move the RMA to `to` with that step's data."""
    steps = {
        S.PENDING: rma_submit,
        S.RECEIVED: rma_receive,
        S.INSPECTED: rma_inspect,
        S.REMEDIED: rma_remedy,
        S.CLOSED: rma_close,
        S.CANCELLED: rma_cancel,
    }
    if to not in steps:
        if to in ENGINE_ONLY:
            raise ValidationError(_("Approve or reject the return in its approval request."))
        raise ValidationError(_("Unknown state."))
    return steps[to](rma=rma, actor=actor, **data)
