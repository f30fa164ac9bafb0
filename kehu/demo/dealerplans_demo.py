"""Dealer plans (销售计划) in the demo: for the demo's general dealers, last month's plan (closed) and
this month's (agreed, or a draft for the last one), with targets priced from the price book, a
schedule and promised support; a plan for a sub-distributor (二批) buying from the first dealer,
with a visit planned. When the orders' demo left a dealer without booked orders in a month, one
confirmed order is written through the order services, and some sell-through to the sub-distributor,
so progress shows at once. Written through the services, like a rep and a manager would; small and
fixed whatever the number of customers; anything missing (no dealers, no catalog) is skipped.
"""

from datetime import date, datetime, time
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from kehu.catalog.models import Specification
from kehu.catalog.pricing import prices_resolve
from kehu.customers.models import ChannelLevel, Customer
from kehu.users.models import User

DEALERS = 3
# (specification index, quantity this month, or None: a target for the whole product)
TARGETS = [(0, 12, False), (1, 6, True), (2, 20, False)]
SUPPORT = [
    ("promotion", "五一促销：满 10 台送 1 台", Decimal("15000")),
    ("staff", "派驻促销员 2 人 × 10 天", Decimal("6000")),
    ("vehicle", "公司送货车辆支援 1 台", None),
    ("advertising", "县城户外广告牌 3 块", Decimal("9000")),
]
SCHEDULE = "上旬：到货并完成铺货\n中旬：门店促销与陈列检查\n下旬：回款与下月订货沟通"


def seed(*, today: date | None = None) -> dict:
    """Load the demo plans; returns what was made (for the command's summary)."""
    from kehu.dealerplans.selectors import month_start, previous_month

    today = today or timezone.localdate()
    this = month_start(today)
    last = previous_month(this)
    gm = User.objects.filter(username="gm").first()
    specs = list(
        Specification.objects.filter(is_active=True, product__deleted_at__isnull=True)
        .select_related("product")
        .order_by("product_id", "position", "pk")[:3]
    )
    dealers = list(
        Customer.objects.filter(
            channel_level=ChannelLevel.GENERAL_DEALER,
            deleted_at__isnull=True,
            owner__isnull=False,
            owner__is_active=True,
        )
        .select_related("owner", "owner__manager")
        .order_by("pk")[:DEALERS]
    )
    made = {"plans": 0, "orders": 0, "sell_through": 0}
    if not specs or not dealers:
        return made
    with transaction.atomic():
        for n, dealer in enumerate(dealers):
            for month, state in ((last, "closed"), (this, "draft" if n == len(dealers) - 1 else "agreed")):
                plan = _plan(
                    dealer,
                    month,
                    specs,
                    dealer.owner.manager or gm,
                    state,
                    factor=Decimal("1") if month == this else Decimal("0.8"),
                )
                made["plans"] += plan is not None
                made["orders"] += _order(dealer, month, specs, today, n)
        sub = (
            Customer.objects.filter(channel_level=ChannelLevel.SUB_DEALER, deleted_at__isnull=True, owner__isnull=False)
            .select_related("owner", "owner__manager")
            .order_by("pk")
            .first()
        )
        if sub is not None:
            plan = _plan(
                sub, this, specs[:1], sub.owner.manager or gm, "agreed", factor=Decimal("0.25"), upper=dealers[0]
            )
            made["plans"] += plan is not None
            made["sell_through"] += _sell_through(dealers[0], sub, this, specs[0])
            if plan is not None:
                _visit(plan, today)
    return made


def _prices(customer: Customer, specs) -> dict[int, Decimal]:
    resolved = prices_resolve(customer=customer, lines=[(s.pk, Decimal("1")) for s in specs])
    return {r.specification_id: r.price or Decimal("1000") for r in resolved}


def _plan(customer, month, specs, manager, state, *, factor: Decimal, upper=None):
    from kehu.dealerplans import services
    from kehu.dealerplans.models import DealerPlan

    if DealerPlan.objects.filter(customer=customer, month=month, deleted_at__isnull=True).exists():
        return None
    rep = customer.owner
    plan = services.plan_create(customer=customer, month=month, actor=rep, upper=upper, schedule=SCHEDULE)
    prices = _prices(customer, specs)
    for index, quantity, whole_product in TARGETS[: len(specs)]:
        spec = specs[index]
        qty = (Decimal(quantity) * factor).quantize(Decimal("1")) or Decimal("1")
        services.plan_line_put(
            plan=plan,
            actor=rep,
            product=spec.product,
            specification=None if whole_product else spec,
            quantity=qty,
            amount=(qty * prices[spec.pk]).quantize(Decimal("0.01")),
        )
    for i, (kind, text, value) in enumerate(SUPPORT[: 2 + (customer.pk % 3)]):
        services.support_add(plan=plan, actor=rep, kind=kind, description=text, value=value, is_given=i == 0)
    if state != "draft" and manager is not None and services.may_set(manager, plan):
        services.plan_transition(plan=plan, actor=manager, to="agreed")
        if state == "closed":
            services.plan_transition(plan=plan, actor=manager, to="closed")
    return plan


def _order(dealer, month, specs, today: date, n: int) -> int:
    """One confirmed order in the month (a past day) when the dealer has no booked order there."""
    from kehu.dealerplans.selectors import next_month
    from kehu.demo.orders_demo import confirm_in_demo
    from kehu.orders.models import OrderLine
    from kehu.orders.services import order_create

    if OrderLine.objects.filter(
        customer=dealer, is_booked=True, ordered_on__gte=month, ordered_on__lt=next_month(month)
    ).exists():
        return 0
    day = min(today, date(month.year, month.month, 3 + 2 * n))
    try:
        order = order_create(
            customer=dealer,
            actor=dealer.owner,
            lines=[(specs[0].pk, 7 + 2 * n), (specs[-1].pk, 9 + n)],
            ordered_on=day,
        )
        confirm_in_demo(order, dealer.owner)
    except Exception:  # noqa: BLE001 - a price or credit rule of the demo company: the plan still shows
        return 0
    return 1


def _sell_through(dealer, sub, month, spec) -> int:
    from kehu.orders.models import SellThrough
    from kehu.orders.services import sell_through_create

    if SellThrough.objects.filter(seller=dealer, buyer=sub, month=month).exists():
        return 0
    sell_through_create(
        actor=dealer.owner, seller=dealer, buyer=sub, month=month, specification=spec, quantity=2, amount="26000"
    )
    sell_through_create(
        actor=dealer.owner,
        seller=dealer,
        month=month,
        specification=spec,
        quantity=1,
        amount="13500",
        buyer_name="城东五金店",
        buyer_level="零售",
    )
    return 2


def _visit(plan, today: date) -> None:
    from kehu.dealerplans import services

    day = max(today, plan.month)
    if day.month != plan.month.month:
        return
    services.plan_visit(
        plan=plan,
        actor=plan.customer.owner,
        planned_for=timezone.make_aware(datetime.combine(day, time(14, 0))),
        subject="二批铺货检查",
        purpose="查看陈列与库存，落实本月分销目标",
    )
