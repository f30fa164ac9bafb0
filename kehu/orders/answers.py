"""The orders' answers to the questions lower apps ask (`kehu.core.lookups`), registered in
`AppConfig.ready`. Each takes a batch and answers in one or two queries."""

from collections import defaultdict
from datetime import date, datetime, time
from decimal import Decimal

from django.db.models import F, Max, Q, Sum, Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core import lookups
from kehu.orders.models import BOOKED_STATES, OPEN_STATES, Order, OrderLine, OrderState

ZERO = Decimal("0")


def _who(row: dict, prefix: str) -> str:
    full = f"{row.get(prefix + 'last_name') or ''}{row.get(prefix + 'first_name') or ''}".strip()
    return full or row.get(prefix + "username") or ""


def customer_product_prices(customer_id: int, product_ids: list[int], per_product: int) -> list[lookups.PriceRow]:
    """The prices the customer took on booked orders, newest first, at most `per_product` per product
    (one query: a row number per product over the (customer, product) index)."""
    ordering = [F("ordered_on").desc(), F("order_id").desc(), F("position").asc()]
    rows = (
        OrderLine.objects.filter(customer_id=customer_id, product_id__in=product_ids, is_booked=True)
        .filter(order__deleted_at__isnull=True)
        .annotate(newest=Window(RowNumber(), partition_by=[F("product_id")], order_by=ordering))
        .filter(newest__lte=per_product)
        .values(
            "product_id",
            "specification_id",
            "ordered_on",
            "order_id",
            "order__number",
            "order__state",
            "order__owner__username",
            "order__owner__first_name",
            "order__owner__last_name",
            "unit_price",
            "discount",
            "quantity",
        )
        .order_by("product_id", "newest")
    )
    states = dict(OrderState.choices)
    return [
        lookups.PriceRow(
            product_id=row["product_id"],
            specification_id=row["specification_id"],
            on=row["ordered_on"],
            reference=row["order__number"],
            state=str(states.get(row["order__state"], row["order__state"])),
            unit_price=row["unit_price"],
            discount=row["discount"],
            who=_who(row, "order__owner__"),
            quantity=row["quantity"],
            link=f"/orders/{row['order_id']}/",
            is_accepted=True,
        )
        for row in rows
    ]


def last_won(ids: list[int]) -> dict[int, object]:
    """When each customer last placed an order that was booked: the latest order date of its
    confirmed or completed orders, as the start of that day (imported history keeps its dates)."""
    booked = Order.objects.filter(customer_id__in=ids, state__in=BOOKED_STATES, deleted_at__isnull=True)
    rows = booked.values("customer_id").annotate(last=Max("ordered_on")).values_list("customer_id", "last")
    zone = timezone.get_current_timezone()
    return {pk: datetime.combine(day, time.min, tzinfo=zone) for pk, day in rows if day}


def customer_revenue(ids: list[int], *, year: int) -> dict[int, Decimal]:
    """Booked orders' totals (tax included) per customer whose order date falls in `year`."""
    rows = (
        Order.objects.filter(
            customer_id__in=ids,
            state__in=BOOKED_STATES,
            deleted_at__isnull=True,
            ordered_on__gte=date(year, 1, 1),
            ordered_on__lte=date(year, 12, 31),
        )
        .values("customer_id")
        .annotate(total=Sum("total"))
        .values_list("customer_id", "total")
    )
    return {pk: total for pk, total in rows if total}


def open_money(ids: list[int]) -> dict[int, list[lookups.MoneyItem]]:
    """Open orders (draft, pending, confirmed) with what is still open on them: the undelivered
    amount, or what is owed when everything was delivered but not paid."""
    states = dict(OrderState.choices)
    found: dict[int, list] = defaultdict(list)
    rows = (
        Order.objects.filter(customer_id__in=ids, state__in=OPEN_STATES, deleted_at__isnull=True)
        .filter(Q(total__gt=F("delivered_amount")) | Q(total__gt=F("received_amount")))
        .values("pk", "customer_id", "number", "state", "total", "delivered_amount", "received_amount")
        .order_by("customer_id", "ordered_on", "pk")
    )
    for row in rows:
        undelivered = row["total"] - row["delivered_amount"]
        unpaid = max(row["total"] - row["received_amount"], ZERO)
        label = _("Order, %(state)s: ¥%(undelivered)s not delivered, ¥%(unpaid)s not paid") % {
            "state": str(states.get(row["state"], row["state"])).lower(),
            "undelivered": f"{undelivered:,.2f}",
            "unpaid": f"{unpaid:,.2f}",
        }
        found[row["customer_id"]].append(
            lookups.MoneyItem(
                kind="order",
                reference=row["number"],
                label=label,
                amount=undelivered if undelivered > 0 else unpaid,
                link=f"/orders/{row['pk']}/",
            )
        )
    return dict(found)


def register() -> None:
    lookups.answer(lookups.CUSTOMER_PRODUCT_PRICES, customer_product_prices)
    lookups.answer(lookups.LAST_WON, last_won)
    lookups.answer(lookups.CUSTOMER_REVENUE, customer_revenue)
    lookups.answer(lookups.OPEN_MONEY, open_money)
