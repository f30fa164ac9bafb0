"""Rows for the dealer plans' tests: a small catalog, channel customers, booked and unbooked order
lines and sell-through records (written as kehu.orders keeps them — a fixture, not a service)."""

import itertools
from datetime import date
from decimal import Decimal

from kehu.catalog.models import Product, Specification
from kehu.customers.models import ChannelLevel
from kehu.orders.models import Order, OrderLine, OrderState, SellThrough

_numbers = itertools.count(1)


class Catalog:
    """数控车床 CK6140 in two specifications (A 1000mm, B 1500mm) and 液压油 YY-46 (200L)."""

    def __init__(self):
        self.lathe = Product.objects.create(code="CK6140", name="数控车床", unit="台", tax_rate=Decimal("13"))
        self.lathe_a = Specification.objects.create(product=self.lathe, code="CK6140-A", name="1000mm", position=0)
        self.lathe_b = Specification.objects.create(product=self.lathe, code="CK6140-B", name="1500mm", position=1)
        self.oil = Product.objects.create(code="YY-46", name="液压油", unit="桶", tax_rate=Decimal("9"))
        self.oil_46 = Specification.objects.create(product=self.oil, code="YY-46-200L", name="200L")


def dealer(customer_of, owner, name="杭州恒达机电经销部", level=ChannelLevel.GENERAL_DEALER, **fields):
    return customer_of(owner, name=name, channel_level=level, **fields)


def order(customer, owner, ordered_on: date, lines, *, state=OrderState.CONFIRMED) -> Order:
    """An order with lines [(specification, quantity, unit_price)] (amount = quantity × price)."""
    booked = state in (OrderState.CONFIRMED, OrderState.COMPLETED)
    made = Order.objects.create(
        number=f"SO-T{next(_numbers):05d}", customer=customer, owner=owner, state=state, ordered_on=ordered_on
    )
    total = Decimal("0")
    for position, (spec, quantity, price) in enumerate(lines, start=1):
        quantity, price = Decimal(str(quantity)), Decimal(str(price))
        amount = (quantity * price).quantize(Decimal("0.01"))
        total += amount
        OrderLine.objects.create(
            order=made,
            position=position,
            customer=customer,
            ordered_on=ordered_on,
            is_booked=booked,
            product=spec.product,
            specification=spec,
            code=spec.code,
            name=spec.product.name,
            specification_name=spec.name,
            unit=spec.product.unit,
            quantity=quantity,
            base_price=price,
            unit_price=price,
            tax_rate=Decimal("13"),
            amount=amount,
            amount_net=amount,
            tax=Decimal("0"),
        )
    Order.objects.filter(pk=made.pk).update(total=total, line_count=len(lines))
    made.refresh_from_db()
    return made


def sell_through(seller, month: date, product, quantity, amount, *, buyer=None, specification=None) -> SellThrough:
    return SellThrough.objects.create(
        seller=seller,
        buyer=buyer,
        buyer_name=buyer.name if buyer else "散户",
        month=month,
        product=product,
        specification=specification,
        quantity=Decimal(str(quantity)),
        amount=Decimal(str(amount)),
    )


def whole_site_plans(rep, customer) -> dict:
    """For the whole-site tests: a plan of `rep` for `customer` with a target and promised support,
    and another in the recycle bin (rows written directly: the customer may have no channel level)."""
    from django.utils import timezone

    from kehu.dealerplans.models import DealerPlan, DealerPlanLine, PlanSupport

    product = Product.objects.filter(deleted_at__isnull=True).order_by("pk").first() or Product.objects.create(
        code="WS-PLAN-1", name="计划产品", unit="台"
    )
    plan = DealerPlan.objects.create(
        customer=customer, month=date(2031, 1, 1), owner=rep, target_amount=Decimal("1000")
    )
    line = DealerPlanLine.objects.create(plan=plan, product=product, quantity=Decimal("10"), amount=Decimal("1000"))
    support = PlanSupport.objects.create(plan=plan, kind="promotion", description="促销")
    gone = DealerPlan.objects.create(
        customer=customer, month=date(2031, 2, 1), owner=rep, deleted_at=timezone.now(), deleted_by=rep
    )
    return {
        "dealer_plan": plan.pk,
        "dealer_plan_line": line.pk,
        "dealer_plan_support": support.pk,
        "deleted_dealer_plan": gone.pk,
    }


def api_records(team, customer) -> dict:
    """For the API fuzzing: `customer` made a dealer with a plan of rep1 (a target and support), a
    plan in the recycle bin, and a product with a specification (repeatable: one plan per call)."""
    from django.utils import timezone

    from kehu.customers.models import Customer
    from kehu.dealerplans.models import DealerPlan, DealerPlanLine, PlanSupport

    Customer.objects.filter(pk=customer.pk).update(channel_level=ChannelLevel.GENERAL_DEALER)
    product, _ = Product.objects.get_or_create(code="API-PLAN-1", defaults={"name": "计划产品", "unit": "台"})
    spec, _ = Specification.objects.get_or_create(code="API-PLAN-1-A", defaults={"product": product, "name": "A"})
    plan = DealerPlan.objects.create(customer=customer, month=date(2026, 5, 1), owner=team.rep1)
    line = DealerPlanLine.objects.create(plan=plan, product=product, quantity=Decimal("10"), amount=Decimal("1000"))
    support = PlanSupport.objects.create(plan=plan, kind="staff", description="促销员 2 人")
    gone = DealerPlan.objects.create(
        customer=customer, month=date(2026, 4, 1), owner=team.rep1, deleted_at=timezone.now(), deleted_by=team.rep1
    )
    return {
        "dealer_plan_id": plan.pk,
        "plan_line_id": line.pk,
        "support_id": support.pk,
        "deleted_dealer_plan_id": gone.pk,
        "product_id": product.pk,
        "specification_id": spec.pk,
    }


def api_body(path: str, body: dict, ids: dict) -> None:
    """Aim a generated body at the records `api_records` made: the product, the plan's version, a
    moment in the plan's month, the one move a draft plan may make."""
    from kehu.dealerplans.models import DealerPlan

    if path.endswith("/lines"):
        body.update(product_id=ids["product_id"], specification_id=ids["specification_id"])
    if isinstance(body.get("version"), int):
        body["version"] = DealerPlan.objects.get(pk=ids["dealer_plan_id"]).version
    if "planned_for" in body:
        body["planned_for"] = "2026-05-12T09:00:00+08:00"
    if path.endswith("/transition") and body.get("to") in ("draft", "closed"):
        body["to"] = "agreed"  # a draft (with a target) is agreed; the other moves are refused
