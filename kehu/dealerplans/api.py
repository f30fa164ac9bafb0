"""Dealer monthly plans (SAL-6) and the sales record (SAL-5): plans, their targets and promised
support, states, progress against plan, the month's summary and a customer's sales record."""

from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from kehu.catalog.models import Product, Specification
from kehu.core.api import Day, Id, LongText, Moment, Text
from kehu.core.pagination import Limit, Offset
from kehu.customers.selectors import customer_get
from kehu.dealerplans import selectors, services
from kehu.dealerplans.models import PlanState, SupportKind

router = Router(tags=["dealer-plans"])
Quantity = Field(..., ge=0, le=Decimal("99999999999.999"), max_digits=14, decimal_places=3)
Amount = Field(Decimal("0"), ge=0, le=Decimal("99999999999999.99"), max_digits=16, decimal_places=2)


class DealerPlanOut(Schema):
    id: int
    customer_id: int
    customer_name: str
    upper_id: int | None
    month: date
    state: str
    owner_id: int
    target_amount: Decimal
    schedule: str
    notes: str
    updated_at: datetime
    version: int

    @staticmethod
    def resolve_customer_name(obj) -> str:
        return obj.customer.name


class DealerPlanSummaryOut(Schema):
    id: int
    customer_id: int
    customer_name: str
    upper_id: int | None
    month: date
    state: str
    owner_id: int
    target_amount: Decimal
    updated_at: datetime
    version: int

    @staticmethod
    def resolve_customer_name(obj) -> str:
        return obj.customer.name


class DealerPlanPage(Schema):
    items: list[DealerPlanSummaryOut]
    count: int
    count_is_capped: bool
    has_next: bool


class DealerPlanQuery(Schema):
    month: Day | None = Field(None, description="Any day of the month.")
    state: PlanState | None = None
    q: Text(100) = Field("", description="Part of the customer's name.")
    customer_id: Id | None = Field(None, description="Plans of this customer, or of those buying from it.")
    limit: Limit = 25
    offset: Offset = 0


class DealerPlanIn(Schema):
    customer_id: Id
    month: Day = Field(..., description="Any day of the month; stored as its first day.")
    upper_id: Id | None = Field(None, description="For a sub-distributor or retailer: the dealer it buys from.")
    schedule: LongText(5000) = ""
    notes: LongText(5000) = ""
    copy_previous: bool = Field(
        False, description="Copy last month's plan of the customer (targets, schedule, support)."
    )


class DealerPlanPatch(Schema):
    version: int = Field(..., ge=0, le=2**31)
    upper_id: Id | None = None
    schedule: LongText(5000) | None = None
    notes: LongText(5000) | None = None


class DealerPlanTransitionIn(Schema):
    to: PlanState


class DealerPlanCopyIn(Schema):
    month: Day | None = Field(None, description="Any day of the target month; the next month by default.")


class DealerPlanLineOut(Schema):
    id: int
    product_id: int
    specification_id: int | None
    quantity: Decimal
    amount: Decimal


class DealerPlanLineIn(Schema):
    product_id: Id
    specification_id: Id | None = Field(None, description="None: the target counts every specification of the product.")
    quantity: Decimal = Quantity
    amount: Decimal = Amount


class DealerPlanSupportOut(Schema):
    id: int
    kind: str
    description: str
    value: Decimal | None
    is_given: bool


class DealerPlanSupportIn(Schema):
    kind: SupportKind
    description: Text(200)
    value: Decimal | None = Field(None, ge=0, le=Decimal("999999999999.99"), max_digits=14, decimal_places=2)
    is_given: bool = False


class DealerPlanSupportPatch(Schema):
    is_given: bool


class DealerPlanProgressLine(Schema):
    product_id: int
    specification_id: int | None
    label: str
    target_quantity: Decimal
    target_amount: Decimal
    actual_quantity: Decimal
    actual_amount: Decimal
    quantity_percent: Decimal | None
    amount_percent: Decimal | None


class DealerPlanProgressOut(Schema):
    plan_id: int
    source: str = Field(..., description="orders (a dealer) or sell_through (a sub-distributor or retailer)")
    target_amount: Decimal
    actual_amount: Decimal
    amount_percent: Decimal | None
    lines: list[DealerPlanProgressLine]
    outside_plan: list[DealerPlanProgressLine]
    sold_on: list[DealerPlanProgressLine]


class DealerPlanSummaryRow(Schema):
    key: int | str | None
    label: str
    plans: int
    target_amount: Decimal
    actual_amount: Decimal
    sold_on_amount: Decimal
    amount_percent: Decimal | None


class DealerPlanMonthOut(Schema):
    month: date
    total: DealerPlanSummaryRow
    plans: list[DealerPlanSummaryRow]
    reps: list[DealerPlanSummaryRow]
    regions: list[DealerPlanSummaryRow]
    is_capped: bool


class DealerPlanMonthQuery(Schema):
    month: Day | None = Field(None, description="Any day of the month; this month by default.")


class SalesRecordMonthOut(Schema):
    month: date
    plan_quantity: Decimal
    plan_amount: Decimal
    quantity: Decimal
    amount: Decimal
    amount_percent: Decimal | None
    running_plan: Decimal
    running_amount: Decimal
    running_percent: Decimal | None
    sold_on_quantity: Decimal
    sold_on_amount: Decimal


class SalesRecordOut(Schema):
    customer_id: int
    year: int
    product_id: int | None
    source: str
    months: list[SalesRecordMonthOut]


class SalesRecordQuery(Schema):
    year: int | None = Field(None, ge=1901, le=2999, description="This year by default.")
    product_id: Id | None = None


class DealerPlanVisitIn(Schema):
    planned_for: Moment = Field(..., description="A moment in the plan's month.")
    subject: Text(200) = ""
    purpose: Text(200) = ""


class DealerPlanVisitOut(Schema):
    id: int
    customer_id: int
    owner_id: int
    planned_for: datetime
    subject: str


def _plan(request, dealer_plan_id: int):
    return selectors.plan_get(request.user, dealer_plan_id)


def _changeable(request, dealer_plan_id: int):
    plan = _plan(request, dealer_plan_id)
    if not services.may_change(request.user, plan):
        raise PermissionDenied
    return plan


@router.get("/", response=DealerPlanPage)
def plan_list(request, query: Query[DealerPlanQuery]):
    filters = selectors.PlanFilters(
        month=selectors.month_start(query.month) if query.month else None,
        state=query.state or "",
        q=query.q.strip(),
        customer_id=query.customer_id,
    )
    return selectors.plan_page(request.user, filters, offset=query.offset, limit=query.limit).as_dict()


@router.post("/", response={201: DealerPlanOut})
def plan_create(request, payload: DealerPlanIn):
    """A draft plan (its rep is the customer's owner); `copy_previous` copies last month's plan."""
    user = request.user
    if not user.has_perm("dealerplans.change_dealerplan"):
        raise PermissionDenied
    customer = customer_get(user, payload.customer_id)
    upper = customer_get(user, payload.upper_id) if payload.upper_id else None
    month = selectors.month_start(payload.month)
    if payload.copy_previous:
        previous = (
            selectors.plan_qs_visible_to(user)
            .filter(customer_id=customer.pk, month=selectors.previous_month(month))
            .select_related("customer", "upper", "owner")
            .first()
        )
        if previous is None:
            raise ValidationError({"copy_previous": [_("This customer has no plan for last month.")]})
        plan = services.plan_copy(source=previous, actor=user, month=month)
    else:
        plan = services.plan_create(
            customer=customer, month=month, actor=user, upper=upper, schedule=payload.schedule, notes=payload.notes
        )
    return Status(201, plan)


@router.get("/progress", response=DealerPlanMonthOut)
def month_progress(request, query: Query[DealerPlanMonthQuery]):
    """Target and actual amounts of the month's plans in the caller's scope: per plan, rep and region."""
    if not request.user.has_perm("dealerplans.view_dealerplan"):
        raise PermissionDenied
    month = selectors.month_start(query.month or timezone.localdate())
    summary = selectors.month_summary(request.user, month)
    return {
        "month": month,
        "total": _row(summary.total),
        "plans": [_row(row) for _plan, row in summary.plans],
        "reps": [_row(row) for row in summary.reps],
        "regions": [_row(row) for row in summary.regions],
        "is_capped": summary.is_capped,
    }


def _row(row) -> dict:
    return {
        "key": row.key,
        "label": row.label,
        "plans": row.plans,
        "target_amount": row.target_amount,
        "actual_amount": row.actual_amount,
        "sold_on_amount": row.sold_on_amount,
        "amount_percent": row.amount_percent,
    }


@router.get("/sales-records/{customer_id}", response=SalesRecordOut)
def sales_record(request, customer_id: Id, query: Query[SalesRecordQuery]):
    """The customer's sales record (销售记录) of a year: per month the plan, what it bought, the running
    totals from January against the plan, and what it sold on."""
    if not request.user.has_perm("dealerplans.view_dealerplan"):
        raise PermissionDenied
    customer = customer_get(request.user, customer_id)
    product = None
    if query.product_id:
        product = Product.objects.filter(pk=query.product_id).first()
        if product is None:
            raise Http404
    year = query.year or timezone.localdate().year
    record = selectors.sales_record(customer, year=year, product=product)
    return {
        "customer_id": customer.pk,
        "year": year,
        "product_id": product.pk if product else None,
        "source": "sell_through" if record.lower else "orders",
        "months": [
            {
                "month": m.month,
                "plan_quantity": m.plan_quantity,
                "plan_amount": m.plan_amount,
                "quantity": m.quantity,
                "amount": m.amount,
                "amount_percent": m.amount_percent,
                "running_plan": m.running_plan,
                "running_amount": m.running_amount,
                "running_percent": m.running_percent,
                "sold_on_quantity": m.sold_on_quantity,
                "sold_on_amount": m.sold_on_amount,
            }
            for m in record.months
        ],
    }


@router.get("/{dealer_plan_id}", response=DealerPlanOut)
def plan_read(request, dealer_plan_id: Id):
    return _plan(request, dealer_plan_id)


@router.patch("/{dealer_plan_id}", response=DealerPlanOut)
def plan_update(request, dealer_plan_id: Id, payload: DealerPlanPatch):
    """Change a draft's header; `version` is the one read (409 if someone saved since)."""
    plan = _changeable(request, dealer_plan_id)
    fields = {}
    data = payload.dict(exclude_unset=True)
    if "upper_id" in data:
        fields["upper"] = customer_get(request.user, data["upper_id"]) if data["upper_id"] else None
    for name in ("schedule", "notes"):
        if data.get(name) is not None:
            fields[name] = data[name]
    return services.plan_update(plan=plan, actor=request.user, expected_version=payload.version, **fields)


@router.delete("/{dealer_plan_id}", response={204: None})
def plan_delete(request, dealer_plan_id: Id):
    services.plan_delete(plan=_changeable(request, dealer_plan_id), actor=request.user)
    return Status(204, None)


@router.post("/{dealer_plan_id}/restore", response=DealerPlanOut)
def plan_restore(request, dealer_plan_id: Id):
    plan = selectors.plan_deleted_get(request.user, dealer_plan_id)
    return services.plan_restore(plan=plan, actor=request.user)


@router.post("/{dealer_plan_id}/transition", response=DealerPlanOut)
def plan_transition(request, dealer_plan_id: Id, payload: DealerPlanTransitionIn):
    """draft → agreed, agreed → draft or closed, closed → agreed (managers with set_plans)."""
    return services.plan_transition(plan=_plan(request, dealer_plan_id), actor=request.user, to=payload.to)


@router.post("/{dealer_plan_id}/copy", response={201: DealerPlanOut})
def plan_copy(request, dealer_plan_id: Id, payload: DealerPlanCopyIn):
    copy = services.plan_copy(source=_plan(request, dealer_plan_id), actor=request.user, month=payload.month)
    return Status(201, copy)


@router.get("/{dealer_plan_id}/lines", response=list[DealerPlanLineOut])
def line_list(request, dealer_plan_id: Id):
    return selectors.plan_lines(_plan(request, dealer_plan_id))


@router.put("/{dealer_plan_id}/lines", response=DealerPlanLineOut)
def line_put(request, dealer_plan_id: Id, payload: DealerPlanLineIn):
    """Set the target for a product or one of its specifications (a new line, or the existing one changed)."""
    plan = _changeable(request, dealer_plan_id)
    product = Product.objects.filter(pk=payload.product_id).first()
    if product is None:
        raise ValidationError({"product_id": [_("No such product.")]})
    spec = None
    if payload.specification_id:
        spec = Specification.objects.filter(pk=payload.specification_id).first()
        if spec is None:
            raise ValidationError({"specification_id": [_("No such specification.")]})
    return services.plan_line_put(
        plan=plan,
        actor=request.user,
        product=product,
        specification=spec,
        quantity=payload.quantity,
        amount=payload.amount,
    )


@router.delete("/{dealer_plan_id}/lines/{plan_line_id}", response={204: None})
def line_remove(request, dealer_plan_id: Id, plan_line_id: Id):
    plan = _changeable(request, dealer_plan_id)
    if not plan.lines.filter(pk=plan_line_id).exists():
        raise Http404
    services.plan_line_remove(plan=plan, actor=request.user, line_id=plan_line_id)
    return Status(204, None)


@router.get("/{dealer_plan_id}/support", response=list[DealerPlanSupportOut])
def support_list(request, dealer_plan_id: Id):
    return selectors.plan_support(_plan(request, dealer_plan_id))


@router.post("/{dealer_plan_id}/support", response={201: DealerPlanSupportOut})
def support_add(request, dealer_plan_id: Id, payload: DealerPlanSupportIn):
    plan = _changeable(request, dealer_plan_id)
    return Status(201, services.support_add(plan=plan, actor=request.user, **payload.dict()))


@router.patch("/{dealer_plan_id}/support/{support_id}", response=DealerPlanSupportOut)
def support_given(request, dealer_plan_id: Id, support_id: Id, payload: DealerPlanSupportPatch):
    """Mark promised support given or not (a draft or agreed plan)."""
    plan = _changeable(request, dealer_plan_id)
    if not plan.support.filter(pk=support_id).exists():
        raise Http404
    return services.support_set_given(plan=plan, actor=request.user, support_id=support_id, is_given=payload.is_given)


@router.delete("/{dealer_plan_id}/support/{support_id}", response={204: None})
def support_remove(request, dealer_plan_id: Id, support_id: Id):
    plan = _changeable(request, dealer_plan_id)
    if not plan.support.filter(pk=support_id).exists():
        raise Http404
    services.support_remove(plan=plan, actor=request.user, support_id=support_id)
    return Status(204, None)


@router.get("/{dealer_plan_id}/progress", response=DealerPlanProgressOut)
def plan_progress(request, dealer_plan_id: Id):
    """Target, actual and percentage per target; what was bought outside the plan; what a dealer sold on."""
    progress = selectors.plan_progress(_plan(request, dealer_plan_id))

    def rows(items):
        return [
            {
                "product_id": x.product_id,
                "specification_id": x.specification_id,
                "label": x.label,
                "target_quantity": x.target_quantity,
                "target_amount": x.target_amount,
                "actual_quantity": x.actual_quantity,
                "actual_amount": x.actual_amount,
                "quantity_percent": x.quantity_percent,
                "amount_percent": x.amount_percent,
            }
            for x in items
        ]

    return {
        "plan_id": progress.plan.pk,
        "source": progress.source,
        "target_amount": progress.target_amount,
        "actual_amount": progress.actual_amount,
        "amount_percent": progress.amount_percent,
        "lines": rows(progress.lines),
        "outside_plan": rows(progress.other),
        "sold_on": rows(progress.sold_on),
    }


@router.post("/{dealer_plan_id}/visits", response={201: DealerPlanVisitOut})
def visit_create(request, dealer_plan_id: Id, payload: DealerPlanVisitIn):
    """Plan a visit to the plan's customer in the plan's month (it shows on the rep's week plan)."""
    plan = _plan(request, dealer_plan_id)
    visit = services.plan_visit(
        plan=plan, actor=request.user, planned_for=payload.planned_for, subject=payload.subject, purpose=payload.purpose
    )
    return Status(201, visit)
