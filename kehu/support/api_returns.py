"""Returns (RMA, SRV-3) in the REST API, under /api/v1/service/rmas."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from kehu.core.api import Day, Id, LongText, Page, Text
from kehu.core.pagination import Limit, Offset, page_of
from kehu.support import rma_selectors, rma_services
from kehu.support.models_returns import Responsibility, ReturnRemedy, ReturnState
from kehu.support.selectors import ticket_qs_visible_to, unit_qs_visible_to

router = Router(tags=["service"])
Quantity = Annotated[Decimal, Field(gt=0, le=Decimal("99999999999"), max_digits=14, decimal_places=3)]
Money = Annotated[Decimal, Field(ge=0, le=Decimal("9999999999"), max_digits=12, decimal_places=2)]


class RmaOut(Schema):
    id: int
    number: str
    customer_id: int
    order_line_id: int
    order_id: int = Field(alias="order_line.order_id")
    ticket_id: int | None
    unit_id: int | None
    quantity: Decimal
    amount: Decimal
    reason: str
    remedy: str
    state: str
    requested_by_id: int
    approved_at: datetime | None
    received_on: date | None
    received_quantity: Decimal | None
    finding: str
    responsibility: str
    remedy_note: str
    refund_amount: Decimal
    replacement_shipped_on: date | None
    freight_cost: Decimal
    labour_cost: Decimal
    parts_cost: Decimal
    replacement_cost: Decimal
    total_cost: Decimal
    created_at: datetime
    version: int


class RmaStateChangeOut(Schema):
    from_state: str
    to_state: str
    at: datetime
    actor_id: int | None
    note: str


class StockNoteOut(Schema):
    id: int
    number: str
    kind: str
    day: date
    quantity: Decimal
    note: str


class RmaDetailOut(RmaOut):
    history: list[RmaStateChangeOut]
    stock_notes: list[StockNoteOut]
    transitions: list[str] = Field(description="The states you may move the return to now.")


class RmaPage(Page):
    items: list[RmaOut]


class RmaQuery(Schema):
    state: Literal["open", "closed", "all"] = "open"
    customer_id: Id | None = None
    limit: Limit = 50
    offset: Offset = 0


class RmaIn(Schema):
    order_line_id: Id
    quantity: Quantity
    reason: LongText(4000)
    remedy: ReturnRemedy
    ticket_id: Id | None = None
    unit_id: Id | None = None


class RmaPatch(Schema):
    quantity: Quantity | None = None
    reason: LongText(4000) | None = None
    remedy: ReturnRemedy | None = None
    version: int | None = Field(None, ge=0, le=2**31)


class RmaTransitionIn(Schema):
    to: Literal["pending", "received", "inspected", "remedied", "closed", "cancelled"]
    version: int | None = Field(None, ge=0, le=2**31, description="The version you saw; refused if it changed.")
    received_quantity: Quantity | None = None
    received_on: Day | None = None
    finding: LongText(4000) = ""
    responsibility: Responsibility | None = None
    note: Text(500) = ""
    refund_amount: Money | None = None
    replacement_shipped_on: Day | None = None
    freight_cost: Money | None = None
    labour_cost: Money | None = None
    parts_cost: Money | None = None
    replacement_cost: Money | None = None


def _use(user, perm="support.view_returnrequest"):
    if not user.has_perm(perm):
        raise PermissionDenied


def _detail(user, pk) -> object:
    rma = rma_selectors.rma_get(user, pk)
    rma.history = rma_selectors.rma_history(rma)
    rma.stock_notes = list(rma.notes.order_by("day", "pk"))
    rma.transitions = rma_services.allowed_moves(rma) if user.has_perm(rma_services.CHANGE_PERM) else []
    return rma


@router.get("/rmas", response=RmaPage)
def rma_list(request, query: Query[RmaQuery]):
    """Returns of the customers you see, newest first."""
    _use(request.user)
    qs = rma_selectors.rma_list(request.user, state_group=query.state, customer_id=query.customer_id)
    return page_of(qs, offset=query.offset, limit=query.limit).as_dict()


@router.post("/rmas", response={201: RmaDetailOut})
def rma_create(request, payload: RmaIn):
    """Open a return (draft) on a delivered order line; at most what was delivered less earlier returns."""
    user = request.user
    _use(user, "support.add_returnrequest")
    line = rma_selectors.returnable_lines(user).filter(pk=payload.order_line_id).first()
    if line is None:
        raise ValidationError({"order_line_id": [_("No delivered order line of a customer you see has this id.")]})
    ticket = unit = None
    if payload.ticket_id is not None:
        ticket = ticket_qs_visible_to(user).filter(pk=payload.ticket_id).first()
        if ticket is None:
            raise ValidationError({"ticket_id": [_("No such ticket.")]})
    if payload.unit_id is not None:
        unit = unit_qs_visible_to(user).filter(pk=payload.unit_id).first()
        if unit is None:
            raise ValidationError({"unit_id": [_("No such installed unit.")]})
    rma = rma_services.rma_create(
        actor=user,
        order_line=line,
        quantity=payload.quantity,
        reason=payload.reason,
        remedy=payload.remedy,
        ticket=ticket,
        unit=unit,
    )
    return Status(201, _detail(user, rma.pk))


@router.get("/rmas/{rma_id}", response=RmaDetailOut)
def rma_read(request, rma_id: Id):
    _use(request.user)
    return _detail(request.user, rma_id)


@router.patch("/rmas/{rma_id}", response=RmaDetailOut)
def rma_update(request, rma_id: Id, payload: RmaPatch):
    """Change a draft or rejected return's quantity, reason or remedy."""
    _use(request.user, rma_services.CHANGE_PERM)
    rma = rma_selectors.rma_get(request.user, rma_id)
    rma_services.rma_update(
        rma=rma,
        actor=request.user,
        quantity=payload.quantity,
        reason=payload.reason,
        remedy=payload.remedy,
        expected_version=payload.version,
    )
    return _detail(request.user, rma_id)


@router.post("/rmas/{rma_id}/transition", response=RmaDetailOut)
def rma_transition(request, rma_id: Id, payload: RmaTransitionIn):
    """Move the return: pending (send for approval), received, inspected, remedied, closed, cancelled.
    Approval and rejection are decided in the approval request (/api/v1/approvals)."""
    _use(request.user, rma_services.CHANGE_PERM)
    rma = rma_selectors.rma_get(request.user, rma_id)
    fields = {
        ReturnState.RECEIVED: ("received_quantity", "received_on", "note", "freight_cost"),
        ReturnState.INSPECTED: ("finding", "responsibility"),
        ReturnState.REMEDIED: (
            "note",
            "refund_amount",
            "replacement_shipped_on",
            "labour_cost",
            "parts_cost",
            "replacement_cost",
            "freight_cost",
        ),
        ReturnState.CLOSED: ("note",),
        ReturnState.CANCELLED: ("note",),
    }.get(payload.to, ())
    data = {name: getattr(payload, name) for name in fields if getattr(payload, name) is not None}
    if payload.to == ReturnState.RECEIVED and "received_quantity" not in data:
        raise ValidationError({"received_quantity": [_("Say how many came back.")]})
    if payload.to == ReturnState.INSPECTED and "responsibility" not in data:
        data["responsibility"] = ""
    rma_services.rma_transition(rma=rma, actor=request.user, to=payload.to, expected_version=payload.version, **data)
    return _detail(request.user, rma_id)
