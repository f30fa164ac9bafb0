"""Every read of the dealer plans (SAL-6) and the sales record (SAL-5).

Actuals are read from `kehu.orders` directly, never copied:
- a dealer's plan: the booked order lines (confirmed or completed orders) of the dealer whose order
  date falls in the plan's month, through the index OrderLine(customer, ordered_on);
- a sub-distributor's (二批) or retailer's plan: the sell-through records of the month in which it is
  the buyer, through SellThrough(buyer, month);
- a dealer's sell-through out: the records in which it is the seller, SellThrough(seller, month).

A target with a specification counts only that specification; a target without one counts every
specification of its product. What the customer bought outside the plan is shown apart.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property

from django.db.models import Max, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.http import Http404

from kehu.catalog.models import Product, Specification
from kehu.core.pagination import PageOf, page_of
from kehu.customers.models import ChannelLevel, Customer
from kehu.dealerplans.models import DealerPlan, DealerPlanLine, PlanSupport
from kehu.orders.models import OrderLine, SellThrough
from kehu.users.models import User
from kehu.users.scopes import scope_q

ZERO = Decimal("0")
LOWER_LEVELS = (ChannelLevel.SUB_DEALER, ChannelLevel.RETAILER)
LIST_COLUMNS = (
    "id",
    "month",
    "state",
    "target_amount",
    "updated_at",
    "version",
    "customer_id",
    "customer__name",
    "customer__region",
    "customer__channel_level",
    "upper_id",
    "upper__name",
    "owner_id",
    "owner__username",
    "owner__first_name",
    "owner__last_name",
)


# --- months -------------------------------------------------------------------------------------


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def previous_month(month: date) -> date:
    return date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)


def parse_month(raw) -> date | None:
    """'2026-05' (or a full date) → 2026-05-01; anything else → None."""
    raw = str(raw or "").strip()[:10]
    try:
        parts = [int(p) for p in raw.split("-")[:2]]
        if len(parts) != 2 or not 1900 < parts[0] < 3000:
            return None
        return date(parts[0], parts[1], 1)
    except (ValueError, TypeError):
        return None


CENT, MILLI = Decimal("0.01"), Decimal("0.001")


def money(value) -> Decimal:
    """A sum read from the database as an amount to the fen (SQLite's sums lose the scale)."""
    return Decimal(value or 0).quantize(CENT)


def qty(value) -> Decimal:
    return Decimal(value or 0).quantize(MILLI)


def percent(actual: Decimal, target: Decimal) -> Decimal | None:
    """Actual as a percentage of target, to one decimal (half up); None without a target."""
    if not target:
        return None
    return (Decimal(actual) * 100 / Decimal(target)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


# --- plans --------------------------------------------------------------------------------------


def plan_qs_visible_to(user: User) -> QuerySet[DealerPlan]:
    """Live plans whose rep, or whose customer's owner, is in the user's data scope."""
    if not user.is_authenticated or not user.is_active or not user.has_perm("dealerplans.view_dealerplan"):
        return DealerPlan.objects.none()
    scoped = scope_q(user)
    if scoped:  # an empty Q is "everything"
        scoped |= scope_q(user, owner="customer__owner")
    return DealerPlan.objects.filter(scoped, deleted_at__isnull=True)


def _get(qs, pk) -> DealerPlan:
    try:
        return qs.select_related("customer", "upper", "owner").get(pk=int(pk))
    except (DealerPlan.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


def plan_get(user: User, pk) -> DealerPlan:
    return _get(plan_qs_visible_to(user), pk)


def plan_deleted_qs(user: User) -> QuerySet[DealerPlan]:
    """Plans in the recycle bin the user could see (restoring needs the change permission)."""
    if not user.is_authenticated or not user.is_active or not user.has_perm("dealerplans.view_dealerplan"):
        return DealerPlan.objects.none()
    scoped = scope_q(user)
    if scoped:
        scoped |= scope_q(user, owner="customer__owner")
    return DealerPlan.objects.filter(scoped, deleted_at__isnull=False)


def plan_deleted_get(user: User, pk) -> DealerPlan:
    return _get(plan_deleted_qs(user), pk)


@dataclass(frozen=True)
class PlanFilters:
    month: date | None = None
    state: str = ""
    q: str = ""
    customer_id: int | None = None
    owner_id: int | None = None


def plan_list(user: User, filters: PlanFilters = PlanFilters()) -> QuerySet[DealerPlan]:
    qs = plan_qs_visible_to(user)
    if filters.month:
        qs = qs.filter(month=filters.month)
    if filters.state:
        qs = qs.filter(state=filters.state)
    if filters.customer_id:
        qs = qs.filter(Q(customer_id=filters.customer_id) | Q(upper_id=filters.customer_id))
    if filters.owner_id:
        qs = qs.filter(owner_id=filters.owner_id)
    if filters.q:
        qs = qs.filter(customer__name__icontains=filters.q)
    return (
        qs.select_related("customer", "upper", "owner").only(*LIST_COLUMNS).order_by("-month", "customer__name", "id")
    )


def plan_page(user: User, filters: PlanFilters, *, offset: int = 0, limit: int = 25) -> PageOf:
    return page_of(plan_list(user, filters), offset=offset, limit=limit)


def plan_bin(user: User, *, offset: int = 0, limit: int = 25) -> PageOf:
    qs = plan_deleted_qs(user).select_related("customer", "upper", "owner", "deleted_by").order_by("-deleted_at", "-id")
    return page_of(qs, offset=offset, limit=limit)


def plan_lines(plan: DealerPlan) -> list[DealerPlanLine]:
    return list(
        plan.lines.select_related("product", "specification")
        .only(
            "id",
            "plan_id",
            "product_id",
            "specification_id",
            "quantity",
            "amount",
            "product__code",
            "product__name",
            "product__unit",
            "specification__code",
            "specification__name",
        )
        .order_by("product__code", "specification__code", "id")
    )


def plan_support(plan: DealerPlan) -> list[PlanSupport]:
    return list(plan.support.order_by("kind", "id"))


def previous_plan(plan: DealerPlan) -> DealerPlan | None:
    return DealerPlan.objects.filter(
        customer_id=plan.customer_id, month=previous_month(plan.month), deleted_at__isnull=True
    ).first()


def is_lower(plan: DealerPlan) -> bool:
    """A sub-distributor's or retailer's plan: its actuals come from sell-through, not orders."""
    return plan.upper_id is not None or plan.customer.channel_level in LOWER_LEVELS


def customer_is_lower(customer: Customer) -> bool:
    return customer.channel_level in LOWER_LEVELS


def planned_customers(user: User, *, limit: int = 300) -> list[Customer]:
    """Customers in the channel (with a channel level) the user may plan for, for the 'new plan' form."""
    from kehu.customers.selectors import customer_qs_visible_to

    return list(
        customer_qs_visible_to(user)
        .exclude(channel_level__in=["", ChannelLevel.END_CUSTOMER])
        .only("id", "name", "channel_level", "region")
        .order_by("name", "id")[:limit]
    )


# --- progress against plan ----------------------------------------------------------------------


@dataclass
class LineProgress:
    product_id: int
    specification_id: int | None
    label: str
    target_quantity: Decimal = ZERO
    target_amount: Decimal = ZERO
    actual_quantity: Decimal = ZERO
    actual_amount: Decimal = ZERO
    line_id: int | None = None

    @cached_property
    def quantity_percent(self) -> Decimal | None:
        return percent(self.actual_quantity, self.target_quantity)

    @cached_property
    def amount_percent(self) -> Decimal | None:
        return percent(self.actual_amount, self.target_amount)

    @cached_property
    def bar_percent(self) -> int:
        """For the progress bar: the quantity's percentage, 0–100."""
        value = self.quantity_percent
        return 0 if value is None else int(min(max(value, 0), 100))


@dataclass
class PlanProgress:
    plan: DealerPlan
    source: str  # "orders" or "sell_through"
    lines: list[LineProgress]
    other: list[LineProgress]  # bought in the month, not in the plan
    sold_on: list[LineProgress] = field(default_factory=list)  # the dealer's sell-through out
    bought: Decimal = ZERO  # everything bought in the month, each purchase once

    @property
    def target_amount(self) -> Decimal:
        return sum((line.target_amount for line in self.lines), ZERO)

    @property
    def planned_amount(self) -> Decimal:
        """Bought against the plan's lines (a product line and a specification line of the same product
        both count the specification's purchases: this is their sum as shown)."""
        return sum((line.actual_amount for line in self.lines), ZERO)

    @property
    def actual_amount(self) -> Decimal:
        """Everything bought in the month, against the plan and outside it, each purchase once (a
        purchase under both a product line and its specification's line is counted once here)."""
        return self.bought

    @property
    def amount_percent(self) -> Decimal | None:
        return percent(self.actual_amount, self.target_amount)

    @property
    def sold_on_amount(self) -> Decimal:
        return sum((line.actual_amount for line in self.sold_on), ZERO)


def _bought_rows(customer_id: int, month: date, lower: bool) -> list[dict]:
    """What the customer bought in the month, per product and specification (one query)."""
    if lower:
        qs = SellThrough.objects.filter(buyer_id=customer_id, month=month)
        name = Max("product__name")
        spec_name = Max("specification__name")
    else:
        qs = OrderLine.objects.filter(
            customer_id=customer_id, is_booked=True, ordered_on__gte=month, ordered_on__lt=next_month(month)
        )
        name, spec_name = Max("name"), Max("specification_name")
    rows = list(
        qs.values("product_id", "specification_id")
        .annotate(quantity=Sum("quantity"), amount=Sum("amount"), name=name, spec_name=spec_name)
        .order_by()
    )
    for row in rows:
        row["quantity"], row["amount"] = qty(row["quantity"]), money(row["amount"])
    return rows


def _label(name: str, spec_name: str | None) -> str:
    return f"{name} · {spec_name}" if spec_name else name


def plan_progress(plan: DealerPlan) -> PlanProgress:
    """Target, actual and percentage per line of the plan (two queries; three for a dealer, whose
    sell-through out is read too)."""
    lower = is_lower(plan)
    lines = plan_lines(plan)
    rows = _bought_rows(plan.customer_id, plan.month, lower)
    by_spec: dict[int, list[dict]] = defaultdict(list)
    by_product: dict[int, list[dict]] = defaultdict(list)
    for row in rows:
        by_product[row["product_id"]].append(row)
        if row["specification_id"] is not None:
            by_spec[row["specification_id"]].append(row)
    spec_targets = {line.specification_id for line in lines if line.specification_id}
    product_targets = {line.product_id for line in lines if not line.specification_id}
    progress = []
    for line in lines:
        matched = by_spec[line.specification_id] if line.specification_id else by_product[line.product_id]
        progress.append(
            LineProgress(
                product_id=line.product_id,
                specification_id=line.specification_id,
                label=_label(line.product.name, line.specification.name if line.specification_id else ""),
                target_quantity=line.quantity,
                target_amount=line.amount,
                actual_quantity=sum((r["quantity"] or ZERO for r in matched), ZERO),
                actual_amount=sum((r["amount"] or ZERO for r in matched), ZERO),
                line_id=line.pk,
            )
        )
    other = [
        LineProgress(
            product_id=r["product_id"],
            specification_id=r["specification_id"],
            label=_label(r["name"] or "", r["spec_name"]),
            actual_quantity=r["quantity"] or ZERO,
            actual_amount=r["amount"] or ZERO,
        )
        for r in rows
        if r["product_id"] not in product_targets and r["specification_id"] not in spec_targets
    ]
    other.sort(key=lambda x: x.label)
    sold_on = [] if lower else sell_through_out(plan.customer_id, plan.month)
    bought = sum((r["amount"] or ZERO for r in rows), ZERO)
    return PlanProgress(plan, "sell_through" if lower else "orders", progress, other, sold_on, bought)


def sell_through_out(seller_id: int, month: date) -> list[LineProgress]:
    """What a dealer sold on to its sub-distributors and retailers in the month, per product (one query)."""
    rows = (
        SellThrough.objects.filter(seller_id=seller_id, month=month)
        .values("product_id", "specification_id")
        .annotate(
            quantity=Sum("quantity"),
            amount=Sum("amount"),
            name=Max("product__name"),
            spec_name=Max("specification__name"),
        )
        .order_by()
    )
    found = [
        LineProgress(
            product_id=r["product_id"],
            specification_id=r["specification_id"],
            label=_label(r["name"] or "", r["spec_name"]),
            actual_quantity=qty(r["quantity"]),
            actual_amount=money(r["amount"]),
        )
        for r in rows
    ]
    return sorted(found, key=lambda x: x.label)


# --- the month's summary: per dealer, rep and region --------------------------------------------


@dataclass
class SummaryRow:
    key: object
    label: str
    plans: int = 0
    target_amount: Decimal = ZERO
    actual_amount: Decimal = ZERO
    sold_on_amount: Decimal = ZERO

    @property
    def amount_percent(self) -> Decimal | None:
        return percent(self.actual_amount, self.target_amount)


@dataclass
class MonthSummary:
    month: date
    plans: list[tuple[DealerPlan, SummaryRow]]
    reps: list[SummaryRow]
    regions: list[SummaryRow]
    total: SummaryRow
    is_capped: bool = False


SUMMARY_LIMIT = 2000


def month_summary(user: User, month: date, *, limit: int = SUMMARY_LIMIT) -> MonthSummary:
    """Target and actual amounts of the month's plans in the user's scope, per plan, rep and region
    (four queries whatever the number of plans): the plans; the booked order lines of the dealers in
    the month, summed per dealer; the sell-through bought by the sub-distributors and retailers; the
    dealers' sell-through out."""
    plans = list(plan_list(user, PlanFilters(month=month)).order_by("customer__name", "id")[: limit + 1])
    is_capped = len(plans) > limit
    plans = plans[:limit]
    dealers = [p.customer_id for p in plans if not is_lower(p)]
    lowers = [p.customer_id for p in plans if is_lower(p)]
    end = next_month(month)
    bought: dict[int, Decimal] = {}
    if dealers:
        bought.update(
            OrderLine.objects.filter(customer_id__in=dealers, is_booked=True, ordered_on__gte=month, ordered_on__lt=end)
            .values("customer_id")
            .annotate(amount=Sum("amount"))
            .order_by()
            .values_list("customer_id", "amount")
        )
    if lowers:
        bought.update(
            SellThrough.objects.filter(buyer_id__in=lowers, month=month)
            .values("buyer_id")
            .annotate(amount=Sum("amount"))
            .order_by()
            .values_list("buyer_id", "amount")
        )
    sold_on: dict[int, Decimal] = {}
    if dealers:
        sold_on = dict(
            SellThrough.objects.filter(seller_id__in=dealers, month=month)
            .values("seller_id")
            .annotate(amount=Sum("amount"))
            .order_by()
            .values_list("seller_id", "amount")
        )
    reps: dict[int, SummaryRow] = {}
    regions: dict[str, SummaryRow] = {}
    total = SummaryRow(None, "", target_amount=money(0), actual_amount=money(0), sold_on_amount=money(0))
    rows = []
    for plan in plans:
        row = SummaryRow(
            plan.pk,
            plan.customer.name,
            1,
            plan.target_amount,
            money(bought.get(plan.customer_id)),
            money(sold_on.get(plan.customer_id)),
        )
        rows.append((plan, row))
        rep = reps.setdefault(plan.owner_id, _zero_row(plan.owner_id, plan.owner.display_name))
        region = regions.setdefault(plan.customer.region, _zero_row(plan.customer.region, plan.customer.region))
        for target in (rep, region, total):
            target.plans += 1
            target.target_amount += row.target_amount
            target.actual_amount += row.actual_amount
            target.sold_on_amount += row.sold_on_amount
    return MonthSummary(
        month,
        rows,
        sorted(reps.values(), key=lambda r: r.label),
        sorted(regions.values(), key=lambda r: r.label),
        total,
        is_capped,
    )


def _zero_row(key, label) -> SummaryRow:
    return SummaryRow(key, label, target_amount=money(0), actual_amount=money(0), sold_on_amount=money(0))


def summary_chart(summary: MonthSummary, *, top: int = 20) -> dict:
    """The chart's data: target and actual per dealer (the largest targets first, at most `top`)."""
    biggest = sorted(summary.plans, key=lambda pr: (-pr[1].target_amount, pr[1].label))[:top]
    return {
        "names": [row.label for _plan, row in biggest],
        "target": [str(row.target_amount) for _plan, row in biggest],
        "actual": [str(row.actual_amount) for _plan, row in biggest],
    }


# --- the sales record (销售记录) ---------------------------------------------------------------


@dataclass
class RecordMonth:
    month: date
    plan_amount: Decimal = ZERO
    plan_quantity: Decimal = ZERO
    quantity: Decimal = ZERO
    amount: Decimal = ZERO
    sold_on_quantity: Decimal = ZERO
    sold_on_amount: Decimal = ZERO
    running_plan: Decimal = ZERO
    running_amount: Decimal = ZERO
    running_quantity: Decimal = ZERO
    running_plan_quantity: Decimal = ZERO

    @property
    def amount_percent(self) -> Decimal | None:
        return percent(self.amount, self.plan_amount)

    @property
    def running_percent(self) -> Decimal | None:
        return percent(self.running_amount, self.running_plan)


@dataclass
class SalesRecord:
    customer: Customer
    year: int
    product: Product | None
    lower: bool
    months: list[RecordMonth]

    @property
    def total(self) -> RecordMonth:
        return self.months[-1] if self.months else RecordMonth(date(self.year, 1, 1))


def sales_record(
    customer: Customer, *, year: int, product: Product | None = None, upto: date | None = None
) -> SalesRecord:
    """Per month of the year (to `upto`, the current month, when given): the plan's target, what the
    customer bought (booked order lines, or for a sub-distributor/retailer the sell-through it bought),
    what it sold on, and the running totals from January (累计) against the plan. Three queries."""
    lower = customer_is_lower(customer)
    start, end = date(year, 1, 1), date(year + 1, 1, 1)
    if lower:
        bought = SellThrough.objects.filter(buyer_id=customer.pk, month__gte=start, month__lt=end)
        bought = bought.values(m=TruncMonth("month"))
    else:
        bought = OrderLine.objects.filter(
            customer_id=customer.pk, is_booked=True, ordered_on__gte=start, ordered_on__lt=end
        ).values(m=TruncMonth("ordered_on"))
    sold = SellThrough.objects.filter(seller_id=customer.pk, month__gte=start, month__lt=end).values(
        m=TruncMonth("month")
    )
    targets = DealerPlanLine.objects.filter(
        plan__customer_id=customer.pk, plan__deleted_at__isnull=True, plan__month__gte=start, plan__month__lt=end
    )
    if product is not None:
        bought, sold, targets = (qs.filter(product_id=product.pk) for qs in (bought, sold, targets))
    by_month = {_as_date(r["m"]): r for r in bought.annotate(q=Sum("quantity"), a=Sum("amount")).order_by()}
    sold_by = {_as_date(r["m"]): r for r in sold.annotate(q=Sum("quantity"), a=Sum("amount")).order_by()}
    plan_by = {
        _as_date(r["plan__month"]): r
        for r in targets.values("plan__month").annotate(q=Sum("quantity"), a=Sum("amount")).order_by()
    }
    months = []
    running = RecordMonth(start, running_plan=money(0), running_amount=money(0))
    running.running_quantity = running.running_plan_quantity = qty(0)
    last = min(upto, date(year, 12, 1)) if upto and upto.year == year else date(year, 12, 1)
    month = start
    while month <= last:
        row = RecordMonth(month)
        got, out, plan = by_month.get(month, {}), sold_by.get(month, {}), plan_by.get(month, {})
        row.quantity, row.amount = qty(got.get("q")), money(got.get("a"))
        row.sold_on_quantity, row.sold_on_amount = qty(out.get("q")), money(out.get("a"))
        row.plan_quantity, row.plan_amount = qty(plan.get("q")), money(plan.get("a"))
        row.running_plan = running.running_plan + row.plan_amount
        row.running_amount = running.running_amount + row.amount
        row.running_quantity = running.running_quantity + row.quantity
        row.running_plan_quantity = running.running_plan_quantity + row.plan_quantity
        months.append(row)
        running = row
        month = next_month(month)
    return SalesRecord(customer, year, product, lower, months)


def _as_date(value) -> date:
    return value.date() if hasattr(value, "date") and callable(value.date) else value


def record_order_lines(customer: Customer, *, start: date, end: date, product: Product | None = None):
    """The booked order lines of the customer from `start` to before `end`, oldest first, with their
    order's number, settlement status and amount owed (one query when iterated)."""
    qs = OrderLine.objects.filter(customer_id=customer.pk, is_booked=True, ordered_on__gte=start, ordered_on__lt=end)
    if product is not None:
        qs = qs.filter(product_id=product.pk)
    return (
        qs.select_related("order")
        .only(
            "id",
            "ordered_on",
            "code",
            "name",
            "specification_name",
            "unit",
            "quantity",
            "unit_price",
            "amount",
            "order__id",
            "order__number",
            "order__settlement_status",
            "order__total",
            "order__received_amount",
        )
        .order_by("ordered_on", "order_id", "position")
    )


def record_sell_through(customer: Customer, *, start: date, end: date, product: Product | None = None, bought: bool):
    """Sell-through rows of the months from `start` to before `end`: bought by the customer (`bought`)
    or sold on by it."""
    qs = SellThrough.objects.filter(month__gte=start, month__lt=end)
    qs = qs.filter(buyer_id=customer.pk) if bought else qs.filter(seller_id=customer.pk)
    if product is not None:
        qs = qs.filter(product_id=product.pk)
    return qs.select_related("product", "specification", "seller", "buyer").order_by("month", "id")


def product_choices(customer: Customer) -> list[Product]:
    """Products in the customer's plans (for the record's product filter)."""
    ids = DealerPlanLine.objects.filter(plan__customer_id=customer.pk).values("product_id")
    return list(Product.objects.filter(pk__in=ids).only("id", "code", "name").order_by("code"))


def specifications_of(product_ids) -> dict[int, list[Specification]]:
    found: dict[int, list[Specification]] = defaultdict(list)
    specs = Specification.objects.filter(product_id__in=product_ids, is_active=True).only("id", "product_id", "name")
    for spec in specs.order_by("position", "code"):
        found[spec.product_id].append(spec)
    return found
