"""Reads of returns, through the visibility door: a user sees the returns of the customers they see
(their data scope), given the permission to read returns."""

from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404

from kehu.customers.selectors import customer_qs_visible_to
from kehu.orders.models import OrderLine, OrderState
from kehu.support.models_returns import ReturnRequest, ReturnState, StockNote
from kehu.users.models import User

STATE_GROUPS = {
    "open": [
        ReturnState.DRAFT,
        ReturnState.PENDING,
        ReturnState.APPROVED,
        ReturnState.RECEIVED,
        ReturnState.INSPECTED,
        ReturnState.REMEDIED,
    ],
    "closed": [ReturnState.CLOSED, ReturnState.REJECTED, ReturnState.CANCELLED],
}


def rma_qs_visible_to(user: User) -> QuerySet[ReturnRequest]:
    if not user.is_authenticated or not user.has_perm("support.view_returnrequest"):
        return ReturnRequest.objects.none()
    customers = customer_qs_visible_to(user).filter(pk=OuterRef("customer_id"))
    return ReturnRequest.objects.filter(Exists(customers))


def rma_list(user: User, *, state_group: str = "", state: str = "", customer_id: int | None = None):
    qs = rma_qs_visible_to(user).select_related("customer", "order_line", "order_line__order", "requested_by")
    if state in ReturnState.values:
        qs = qs.filter(state=state)
    elif state_group in STATE_GROUPS:
        qs = qs.filter(state__in=STATE_GROUPS[state_group])
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    return qs.order_by("-created_at", "-pk")


def rma_get(user: User, pk) -> ReturnRequest:
    try:
        return (
            rma_qs_visible_to(user)
            .select_related(
                "customer",
                "order_line",
                "order_line__order",
                "ticket",
                "unit",
                "requested_by",
                "received_by",
                "inspected_by",
            )
            .get(pk=int(pk))
        )
    except (ReturnRequest.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


def rma_history(rma: ReturnRequest):
    return list(rma.state_changes.select_related("actor").order_by("at", "pk"))


def stock_notes_visible_to(user: User) -> QuerySet[StockNote]:
    return StockNote.objects.filter(rma__in=rma_qs_visible_to(user).values("pk")).select_related(
        "rma", "rma__customer", "rma__order_line"
    )


def stock_note_get(user: User, pk) -> StockNote:
    try:
        return stock_notes_visible_to(user).select_related("created_by", "rma__order_line__order").get(pk=int(pk))
    except (StockNote.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


def returnable_lines(user: User, *, customer_id: int | None = None, order_id: int | None = None):
    """Delivered lines of booked orders of customers the user sees (what an RMA may name)."""
    customers = customer_qs_visible_to(user).filter(pk=OuterRef("customer_id"))
    qs = OrderLine.objects.filter(
        Exists(customers),
        delivered_quantity__gt=0,
        order__state__in=[OrderState.CONFIRMED, OrderState.COMPLETED],
        order__deleted_at__isnull=True,
    ).select_related("order", "customer")
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    if order_id:
        qs = qs.filter(order_id=order_id)
    return qs.order_by("-ordered_on", "order_id", "position")


def line_get(user: User, pk) -> OrderLine:
    try:
        return returnable_lines(user).get(pk=int(pk))
    except (OrderLine.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None
