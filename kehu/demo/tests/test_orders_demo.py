"""The demo's orders: from quotes and directly, in several states, partly and fully delivered,
with consistent rollups; and sell-through for the dealers of every rep."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Sum

from kehu.orders.models import Delivery, Order, OrderLine, SellThrough


@pytest.mark.django_db
def test_the_demo_has_orders_and_sell_through():
    call_command("demo_data", customers=120, seed=7, stdout=StringIO())
    orders = Order.objects.all()
    assert orders.filter(source="quote").exists() and orders.filter(source="direct").exists()
    assert {"draft", "confirmed", "completed", "cancelled"} <= set(orders.values_list("state", flat=True))
    assert {"partial", "full"} <= set(orders.values_list("delivery_status", flat=True))
    for order in orders:
        lines = OrderLine.objects.filter(order=order)
        assert order.total == (lines.aggregate(s=Sum("amount"))["s"] or Decimal(0))
        delivered = Delivery.objects.filter(order=order, is_held=False).aggregate(s=Sum("amount"))["s"]
        assert order.delivered_amount == (delivered or Decimal(0))
        booked = order.state in ("confirmed", "completed")
        assert set(lines.values_list("is_booked", flat=True)) <= {booked}
    owners = set(SellThrough.objects.values_list("seller__owner__username", flat=True))
    assert SellThrough.objects.exists() and owners <= {"rep1", "rep2", "rep3"}
