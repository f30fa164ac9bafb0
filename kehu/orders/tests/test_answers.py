"""The orders' answers to the lookups: prices customers took, when they last ordered, revenue per
year, what is open on their orders; each in a fixed number of queries."""

from datetime import date
from decimal import Decimal

from kehu.core import lookups
from kehu.orders import services
from kehu.orders.models import OrderLine, OrderState
from kehu.orders.tests.factories import confirm, make_order


def test_the_orders_answer_the_questions(draft, team, customer, book, django_assert_max_num_queries):
    order = confirm(draft, team.rep1)
    last_year = make_order(customer, team.rep1, [(book.lathe_a.pk, 1)], ordered_on=date(2025, 6, 1))
    confirm(last_year, team.rep1)
    make_order(customer, team.rep1, [(book.lathe_a.pk, 7)])  # a draft: not booked
    line = OrderLine.objects.get(order=order, position=1)
    services.delivery_record(order=order, actor=team.rep1, lines=[(line.pk, 3)])
    year = order.ordered_on.year

    with django_assert_max_num_queries(1):
        rows = lookups.ask_rows(lookups.CUSTOMER_PRODUCT_PRICES, customer.pk, [book.lathe.pk, book.oil.pk], 1)
    assert sorted((r.product_id, r.reference, r.unit_price) for r in rows) == sorted(
        [(book.lathe.pk, order.number, Decimal("100.0000")), (book.oil.pk, order.number, Decimal("250.0000"))]
    )
    assert all(r.is_accepted and r.link == f"/orders/{order.pk}/" for r in rows)

    won = lookups.ask(lookups.LAST_WON, [customer.pk])[customer.pk]
    assert won.date() == order.ordered_on and (won.hour, won.minute) == (0, 0)
    with django_assert_max_num_queries(1):
        revenue = lookups.ask_amounts(lookups.CUSTOMER_REVENUE, [customer.pk], year=year)
    assert revenue == {customer.pk: Decimal("925.00")}
    assert lookups.ask_amounts(lookups.CUSTOMER_REVENUE, [customer.pk], year=2025) == {customer.pk: Decimal("100.00")}

    items = lookups.ask_items(lookups.OPEN_MONEY, [customer.pk])[customer.pk]
    by_reference = {i.reference: i for i in items if i.kind == "order"}
    assert by_reference[order.number].amount == Decimal("625.00")  # 925 − 300 delivered
    assert "¥625.00 not delivered" in by_reference[order.number].label
    services.order_transition(order=last_year, to=OrderState.CANCELLED, actor=team.rep1)
    assert lookups.ask_amounts(lookups.CUSTOMER_REVENUE, [customer.pk], year=2025) == {}
