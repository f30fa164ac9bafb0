"""Every read of orders, deliveries and sell-through.

Who sees an order: its owner and everyone whose data scope covers the owner (like quotes), and the
account team members of its customer (they read; writing stays with the owner's scope, see
`services.may_change`). Sell-through records are seen by whoever sees the dealer (the seller).
"""

from dataclasses import dataclass
from datetime import date

from django.db.models import Q, QuerySet
from django.http import Http404

from kehu.core.pagination import PageOf, page_of
from kehu.customers.models import Customer
from kehu.customers.search import search_candidates
from kehu.customers.selectors import customer_qs_visible_to
from kehu.customers.sharing import shared_q
from kehu.orders.models import Delivery, DeliveryLine, Order, OrderLine, SellThrough
from kehu.users.models import User
from kehu.users.scopes import scope_q


def may_use_orders(user: User) -> bool:
    return user.is_authenticated and user.has_perm("orders.view_order")


def _visible_q(user: User) -> Q:
    q = scope_q(user)
    if (shared := shared_q(user, field="customer_id")) is not None:
        q |= shared
    return q


def order_qs_visible_to(user: User) -> QuerySet[Order]:
    """Live orders the user may read; the one door for reading them."""
    if not may_use_orders(user):
        return Order.objects.none()
    return Order.objects.filter(_visible_q(user), deleted_at__isnull=True)


def order_get(user: User, pk) -> Order:
    """A visible order with its customer, owner, quote and contract; 404 outside the user's view."""
    try:
        return (
            order_qs_visible_to(user)
            .select_related("customer", "owner", "quote", "contract", "created_by")
            .get(pk=int(pk))
        )
    except (Order.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


def order_lines(order: Order) -> list[OrderLine]:
    """The lines in order (one query on the (order, position) index)."""
    return list(OrderLine.objects.filter(order=order).order_by("position", "pk"))


def order_line_get(user: User, order_pk, line_pk) -> OrderLine:
    order = order_get(user, order_pk)
    line = OrderLine.objects.filter(order=order, pk=line_pk).first()
    if line is None:
        raise Http404
    line.order = order
    return line


def order_deliveries(order: Order) -> list[Delivery]:
    """The deliveries with their lines (two queries)."""
    deliveries = list(Delivery.objects.filter(order=order).select_related("created_by").order_by("delivered_on", "pk"))
    by_delivery: dict[int, list] = {}
    for row in DeliveryLine.objects.filter(delivery__order=order).select_related("order_line").order_by("pk"):
        by_delivery.setdefault(row.delivery_id, []).append(row)
    for delivery in deliveries:
        delivery.line_rows = by_delivery.get(delivery.pk, [])
    return deliveries


def orders_of_customer(user: User, customer_id: int, limit: int = 20) -> list[Order]:
    return list(
        order_qs_visible_to(user)
        .filter(customer_id=customer_id)
        .select_related("owner")
        .order_by("-ordered_on", "-id")[:limit]
    )


def deleted_orders_for(user: User) -> QuerySet[Order]:
    """The orders' recycle bin: deleted orders of the user's scope, for those who may delete orders."""
    if not may_use_orders(user) or not user.has_perm("orders.delete_order"):
        return Order.objects.none()
    return (
        Order.objects.filter(scope_q(user), deleted_at__isnull=False)
        .select_related("customer", "owner", "deleted_by")
        .order_by("-deleted_at", "-id")
    )


def deleted_order_get(user: User, pk) -> Order:
    order = deleted_orders_for(user).filter(pk=pk).first()
    if order is None:
        raise Http404
    return order


SORT_ORDER = {
    "-updated": ("-updated_at", "-id"),
    "-ordered": ("-ordered_on", "-id"),
    "-total": ("-total", "-id"),
    "number": ("-number",),
}


@dataclass(frozen=True)
class OrderFilters:
    q: str = ""  # the start of a number (SO2026-…) or a part of the customer's name
    state: str = ""
    delivery: str = ""
    settlement: str = ""
    owner_id: int | None = None
    customer_id: int | None = None
    contract_id: int | None = None
    quote_id: int | None = None
    ordered_from: date | None = None
    ordered_to: date | None = None
    sort: str = "-updated"


NAME_MATCHES = 500


def _number_q(prefix: str) -> Q:
    after = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return Q(number__gte=prefix, number__lt=after, number__startswith=prefix)


def _search_q(q: str) -> Q:
    upper = q.upper()
    if upper.startswith("SO") and len(upper) > 2 and upper[2].isdigit():
        return _number_q(upper)
    candidates, _complete, _every = search_candidates(q, cap=NAME_MATCHES)
    customers = Customer.objects.filter(candidates, name__icontains=q, deleted_at__isnull=True)
    return Q(customer_id__in=customers.values("pk")[:NAME_MATCHES]) | Q(external_reference=q)


def order_filter(user: User, filters: OrderFilters) -> QuerySet[Order]:
    qs = order_qs_visible_to(user)
    if filters.q:
        qs = qs.filter(_search_q(filters.q.strip()))
    if filters.state:
        qs = qs.filter(state=filters.state)
    if filters.delivery:
        qs = qs.filter(delivery_status=filters.delivery)
    if filters.settlement:
        qs = qs.filter(settlement_status=filters.settlement)
    if filters.owner_id:
        qs = qs.filter(owner_id=filters.owner_id)
    if filters.customer_id:
        qs = qs.filter(customer_id=filters.customer_id)
    if filters.contract_id:
        qs = qs.filter(contract_id=filters.contract_id)
    if filters.quote_id:
        qs = qs.filter(quote_id=filters.quote_id)
    if filters.ordered_from:
        qs = qs.filter(ordered_on__gte=filters.ordered_from)
    if filters.ordered_to:
        qs = qs.filter(ordered_on__lte=filters.ordered_to)
    return qs


def order_list(user: User, filters: OrderFilters | None = None, *, limit: int = 25, offset: int = 0) -> PageOf:
    """One page of the orders the user sees with a capped count: a fixed number of queries."""
    filters = filters or OrderFilters()
    qs = order_filter(user, filters).select_related("customer", "owner")
    qs = qs.order_by(*SORT_ORDER.get(filters.sort, SORT_ORDER["-updated"]))
    return page_of(qs, offset=offset, limit=limit)


# --- sell-through ----------------------------------------------------------------------------------


def sell_through_qs_visible_to(user: User) -> QuerySet[SellThrough]:
    """Sell-through of the dealers the user sees."""
    if not may_use_orders(user):
        return SellThrough.objects.none()
    return SellThrough.objects.filter(seller__in=customer_qs_visible_to(user).values("pk"))


@dataclass(frozen=True)
class SellThroughFilters:
    seller_id: int | None = None
    month_from: date | None = None
    month_to: date | None = None


def sell_through_list(user: User, filters: SellThroughFilters | None = None, *, limit=25, offset=0) -> PageOf:
    filters = filters or SellThroughFilters()
    qs = sell_through_qs_visible_to(user)
    if filters.seller_id:
        qs = qs.filter(seller_id=filters.seller_id)
    if filters.month_from:
        qs = qs.filter(month__gte=filters.month_from)
    if filters.month_to:
        qs = qs.filter(month__lte=filters.month_to)
    qs = qs.select_related("seller", "buyer", "product", "specification").order_by("-month", "seller_id", "pk")
    return page_of(qs, offset=offset, limit=limit)
