"""Every write of orders, deliveries and sell-through."""

from decimal import Decimal

from django.db import transaction

from kehu.orders.models import Order, OrderLine, SettlementStatus

ZERO = Decimal("0")


def settlement_of(total: Decimal, received: Decimal) -> str:
    if total > ZERO and received >= total:
        return SettlementStatus.PAID
    return SettlementStatus.PARTIAL if received > ZERO else SettlementStatus.UNPAID


def order_rollups_set(
    *,
    order_id: int,
    invoiced_amount: Decimal | None = None,
    received_amount: Decimal | None = None,
    invoiced_quantities: dict[int, Decimal] | None = None,
) -> None:
    """Write what the apps above sum for an order: invoiced (invoices, with the invoiced quantity per
    order line id) and received (receivables), in the transaction of their change. The settlement
    status follows what was received. The version is not bumped (see `contract_rollups_set`)."""
    with transaction.atomic():
        order = Order.objects.select_for_update().only("pk", "total", "received_amount").get(pk=order_id)
        values = {}
        if invoiced_amount is not None:
            values["invoiced_amount"] = invoiced_amount
        if received_amount is not None:
            values["received_amount"] = received_amount
            values["settlement_status"] = settlement_of(order.total, received_amount)
        if values:
            Order.objects.filter(pk=order_id).update(**values)
        for line_id, quantity in (invoiced_quantities or {}).items():
            OrderLine.objects.filter(pk=line_id, order_id=order_id).update(invoiced_quantity=quantity)
