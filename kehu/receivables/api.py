"""Payment plans (回款计划) and payments (回款) under /api/v1/receivables.

Amounts are decimal strings (CNY, to the fen). Plans are made from terms (instalments by
percentage or by amount: percentages add up to 100, amounts to the total; the last instalment
takes the rounding remainder); a plan "N days after" signing, delivery or the invoice has no
`due_on` until that happens. A payment is allocated oldest due first unless `allocations` say
otherwise; what is left stays unallocated. A payment is never deleted: `reverse` adds a reversal
row and takes its allocations back. Errors: 400 with field errors, 403, 404, in your language.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from kehu.contracts.selectors import contract_qs_visible_to
from kehu.core.api import Day, Id, Keep, LongText, Page, Text
from kehu.core.pagination import Limit, Offset, page_of
from kehu.customers.selectors import customer_qs_visible_to
from kehu.orders.selectors import order_qs_visible_to
from kehu.receivables import selectors, services
from kehu.receivables.models import PaymentMethod, PaymentState, PlanBasis, PlanState

router = Router(tags=["receivables"])

Money = Annotated[Decimal, Field(gt=0, max_digits=16, decimal_places=2)]
Share = Annotated[Decimal, Field(gt=0, max_digits=16, decimal_places=2)]
Version = Annotated[int, Field(ge=0, le=2**31)]
Days = Annotated[int, Field(ge=0, le=3650)]


class PaymentPlanOut(Schema):
    id: int
    customer_id: int
    customer_name: str
    contract_id: int | None
    order_id: int | None
    owner_id: int
    sequence: int
    basis: str
    days_after: int | None
    percent: Decimal | None
    amount: Decimal
    due_on: date | None
    received_amount: Decimal
    outstanding: Decimal
    state: str
    state_label: str
    notes: str
    version: int
    updated_at: datetime

    @staticmethod
    def resolve_customer_name(obj):
        return obj.customer.name

    @staticmethod
    def resolve_state_label(obj):
        return str(obj.get_state_display())


class PaymentPlanPage(Page):
    items: list[PaymentPlanOut]


class PaymentPlanQuery(Schema):
    state: Literal["", *PlanState.values] = ""
    due_from: Day | None = None
    due_to: Day | None = None
    customer_id: Id | None = None
    owner_id: Id | None = None
    order_id: Id | None = None
    contract_id: Id | None = None
    limit: Limit = 25
    offset: Offset = 0


class InstalmentIn(Schema):
    percent: Share | None = Field(None, description="A share of the total; give every instalment a percent…")
    amount: Money | None = Field(None, description="…or every instalment an amount.")
    basis: Literal[*PlanBasis.values] = PlanBasis.FIXED
    days_after: Days = 0
    due_on: Day | None = Field(None, description="Required when basis is `fixed`.")
    notes: Text(200) = ""


class PlansFromTermsIn(Schema):
    order_id: Id | None = Field(None, description="The order whose total is planned; or give `contract_id`.")
    contract_id: Id | None = None
    instalments: list[InstalmentIn] = Field(min_length=1, max_length=24)
    replace: bool = Field(False, description="Void the live plans nothing was received on first.")


class PaymentPlanPatch(Schema):
    version: Version | None = Field(None, description="The version you read; a stale one answers 409.")
    amount: Money | None = None
    basis: Literal[*PlanBasis.values] = Keep()
    days_after: Days | None = None
    due_on: Day | None = None
    notes: Text(200) | None = None


class PlanVoidIn(Schema):
    reason: Text(200) = ""


class AllocationOut(Schema):
    id: int
    payment_id: int
    plan_id: int
    amount: Decimal
    undoes_id: int | None
    is_automatic: bool
    created_at: datetime


class PaymentOut(Schema):
    id: int
    number: str
    customer_id: int
    customer_name: str
    owner_id: int
    state: str
    state_label: str
    received_on: date
    amount: Decimal
    is_refund: bool
    method: str
    bank_account: str
    payer_name: str
    reference: str
    allocated_amount: Decimal
    unallocated: Decimal
    notes: str
    reverses_id: int | None
    reversal_reason: str
    created_at: datetime

    @staticmethod
    def resolve_customer_name(obj):
        return obj.customer.name

    @staticmethod
    def resolve_state_label(obj):
        return str(obj.get_state_display())

    @staticmethod
    def resolve_unallocated(obj):
        return obj.unallocated if obj.state == PaymentState.CONFIRMED and not obj.reverses_id else Decimal("0.00")


class PaymentDetailOut(PaymentOut):
    allocations: list[AllocationOut]

    @staticmethod
    def resolve_allocations(obj):
        return selectors.payment_allocations(obj)


class PaymentPage(Page):
    items: list[PaymentOut]


class PaymentQuery(Schema):
    state: Literal["", *PaymentState.values] = ""
    received_from: Day | None = None
    received_to: Day | None = None
    customer_id: Id | None = None
    owner_id: Id | None = None
    unallocated: bool = False
    limit: Limit = 25
    offset: Offset = 0


class AllocationIn(Schema):
    plan_id: Id
    amount: Money


class PaymentIn(Schema):
    customer_id: Id
    amount: Money
    received_on: Day | None = Field(None, description="Default: today; never in the future.")
    method: Literal[*PaymentMethod.values] = PaymentMethod.TRANSFER
    bank_account: Text(60) = ""
    payer_name: Text(200) = ""
    reference: Text(60) = ""
    notes: LongText(2000) = ""
    is_refund: bool = Field(False, description="Money paid back out of the customer's unallocated money.")
    allocations: list[AllocationIn] | None = Field(None, max_length=100, description="Default: oldest due first.")
    auto_allocate: bool = True


class PaymentAllocateIn(Schema):
    allocations: list[AllocationIn] | None = Field(None, max_length=100, description="Omit: oldest due first.")


class PaymentReverseIn(Schema):
    reason: Text(500) = Field(min_length=1)


def _use(user) -> None:
    if not selectors.may_use_receivables(user):
        raise PermissionDenied


def _record(user) -> None:
    if not services.may_record(user):
        raise PermissionDenied


@router.get("/plans", response=PaymentPlanPage)
def plan_list(request, query: Query[PaymentPlanQuery]):
    """Payment plans of the customers you may see, earliest due first."""
    _use(request.user)
    filters = selectors.PlanFilters(
        state=query.state,
        due_from=query.due_from,
        due_to=query.due_to,
        customer=query.customer_id,
        owner=query.owner_id,
        order=query.order_id,
        contract=query.contract_id,
    )
    qs = selectors.plans_filtered(request.user, filters)
    return page_of(qs, offset=query.offset, limit=query.limit).as_dict()


@router.post("/plans", response={201: list[PaymentPlanOut]})
def plans_create(request, payload: PlansFromTermsIn):
    """Instalments from an order's (or a contract's) terms."""
    _record(request.user)
    order = contract = None
    if (payload.order_id is None) == (payload.contract_id is None):
        raise ValidationError({"order_id": [_("Give an order or a contract.")]})
    if payload.order_id is not None:
        order = order_qs_visible_to(request.user).filter(pk=payload.order_id).first()
        if order is None:
            raise ValidationError({"order_id": [_("No such order in your scope.")]})
    else:
        contract = contract_qs_visible_to(request.user).filter(pk=payload.contract_id).first()
        if contract is None:
            raise ValidationError({"contract_id": [_("No such contract in your scope.")]})
    terms = [t.dict() for t in payload.instalments]
    plans = services.plans_from_terms(
        actor=request.user, order=order, contract=contract, terms=terms, replace=payload.replace
    )
    return Status(201, [selectors.plan_get(request.user, p.pk) for p in plans])


@router.get("/plans/{plan_id}", response=PaymentPlanOut)
def plan_read(request, plan_id: Id):
    _use(request.user)
    return selectors.plan_get(request.user, plan_id)


@router.patch("/plans/{plan_id}", response=PaymentPlanOut)
def plan_update(request, plan_id: Id, payload: PaymentPlanPatch):
    """Change an instalment's amount (not below what was received), due date or basis, notes."""
    _use(request.user)
    plan = selectors.plan_get(request.user, plan_id)
    _record(request.user)
    changes = payload.dict(exclude_unset=True)
    version = changes.pop("version", None)
    services.plan_update(plan=plan, actor=request.user, version=version, **changes)
    return selectors.plan_get(request.user, plan_id)


@router.post("/plans/{plan_id}/void", response=PaymentPlanOut)
def plan_void(request, plan_id: Id, payload: PlanVoidIn):
    """Void an instalment nothing was received on."""
    _use(request.user)
    plan = selectors.plan_get(request.user, plan_id)
    _record(request.user)
    services.plan_void(plan=plan, actor=request.user, reason=payload.reason)
    return selectors.plan_get(request.user, plan_id)


@router.get("/payments", response=PaymentPage)
def payment_list(request, query: Query[PaymentQuery]):
    """Payments of the customers you may see, newest first (refunds and reversals included)."""
    _use(request.user)
    filters = selectors.PaymentFilters(
        state=query.state,
        received_from=query.received_from,
        received_to=query.received_to,
        customer=query.customer_id,
        owner=query.owner_id,
        unallocated=query.unallocated,
    )
    return page_of(selectors.payments_filtered(request.user, filters), offset=query.offset, limit=query.limit).as_dict()


@router.post("/payments", response={201: PaymentDetailOut})
def payment_record(request, payload: PaymentIn):
    """Record money received (or a refund); it may wait for approval (state `pending`)."""
    _record(request.user)
    customer = customer_qs_visible_to(request.user).filter(pk=payload.customer_id).first()
    if customer is None:
        raise ValidationError({"customer_id": [_("No such customer in your scope.")]})
    data = payload.dict()
    allocations = data.pop("allocations")
    data.pop("customer_id")
    payment = services.payment_record(
        actor=request.user,
        customer=customer,
        allocations=[(a["plan_id"], a["amount"]) for a in allocations] if allocations else None,
        **data,
    )
    return Status(201, selectors.payment_get(request.user, payment.pk))


@router.get("/payments/{payment_id}", response=PaymentDetailOut)
def payment_read(request, payment_id: Id):
    _use(request.user)
    return selectors.payment_get(request.user, payment_id)


@router.post("/payments/{payment_id}/allocate", response=PaymentDetailOut)
def payment_allocate(request, payment_id: Id, payload: PaymentAllocateIn):
    """Allocate the unallocated part: by hand, or oldest due first when `allocations` is omitted."""
    _use(request.user)
    payment = selectors.payment_get(request.user, payment_id)
    _record(request.user)
    pairs = [(a.plan_id, a.amount) for a in payload.allocations] if payload.allocations is not None else None
    services.payment_allocate(payment=payment, actor=request.user, allocations=pairs)
    return selectors.payment_get(request.user, payment_id)


@router.post("/payments/{payment_id}/reverse", response={201: PaymentDetailOut})
def payment_reverse(request, payment_id: Id, payload: PaymentReverseIn):
    """Reverse a payment: answers the new reversal row; the original stays, state `reversed`."""
    _use(request.user)
    payment = selectors.payment_get(request.user, payment_id)
    _record(request.user)
    reversal = services.payment_reverse(payment=payment, actor=request.user, reason=payload.reason)
    return Status(201, selectors.payment_get(request.user, reversal.pk))
