"""Progress read from orders and sell-through made by kehu.orders' own services: a confirmed order
counts, a draft or cancelled one does not; recorded sell-through counts for the buyer's plan."""

from datetime import date
from decimal import Decimal

import pytest

from kehu.customers.models import ChannelLevel
from kehu.dealerplans import selectors, services
from kehu.orders.models import OrderState
from kehu.orders.services import order_create, order_transition, sell_through_create

# The real credit check stays in place (the receivables app answers it) with generous limits.
pytestmark = pytest.mark.usefixtures("company_gives_credit")


def test_orders_and_sell_through_from_the_order_services(team, customer_of):
    from kehu.quotes.tests.factories import Book

    book, rep = Book(), team.rep1
    dealer = customer_of(rep, name="杭州恒达机电经销部", channel_level=ChannelLevel.GENERAL_DEALER)
    sub = customer_of(rep, name="余杭二批商行", channel_level=ChannelLevel.SUB_DEALER)
    month = date(2026, 5, 1)
    plan = services.plan_create(customer=dealer, month=month, actor=rep)
    services.plan_line_put(plan=plan, actor=rep, product=book.lathe, quantity=10, amount="1000")
    confirmed = order_create(customer=dealer, actor=rep, lines=[(book.lathe_a.pk, 3)], ordered_on=date(2026, 5, 6))
    order_transition(order=confirmed, to=OrderState.CONFIRMED, actor=rep)
    order_create(customer=dealer, actor=rep, lines=[(book.lathe_b.pk, 4)], ordered_on=date(2026, 5, 7))  # a draft
    cancelled = order_create(customer=dealer, actor=rep, lines=[(book.lathe_b.pk, 5)], ordered_on=date(2026, 5, 8))
    order_transition(order=cancelled, to=OrderState.CONFIRMED, actor=rep)
    order_transition(order=cancelled, to=OrderState.CANCELLED, actor=rep)
    (lathe,) = selectors.plan_progress(plan).lines
    confirmed.refresh_from_db()
    assert (lathe.actual_quantity, lathe.actual_amount) == (Decimal("3.000"), confirmed.total)
    assert lathe.quantity_percent == Decimal("30.0")

    sub_plan = services.plan_create(customer=sub, upper=dealer, month=month, actor=rep)
    services.plan_line_put(plan=sub_plan, actor=rep, product=book.lathe, specification=book.lathe_a, quantity=2)
    sell_through_create(
        actor=rep,
        seller=dealer,
        buyer=sub,
        month=date(2026, 5, 20),
        specification=book.lathe_a,
        quantity=1,
        amount="120",
    )
    (line,) = selectors.plan_progress(sub_plan).lines
    assert (line.actual_quantity, line.actual_amount, line.quantity_percent) == (
        Decimal("1.000"), Decimal("120.00"), Decimal("50.0"),
    )  # fmt: skip
    assert [(s.actual_quantity, s.actual_amount) for s in selectors.plan_progress(plan).sold_on] == [
        (Decimal("1.000"), Decimal("120.00"))
    ]
