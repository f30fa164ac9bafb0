"""The ABC ranking reads revenue from orders (CLS-1): booked orders of the year win over the
hand-entered revenue; the hand-entered figure stays for customer-years without orders."""

from datetime import date
from decimal import Decimal
from itertools import count

import pytest
from django.utils import timezone

from kehu.classification import selectors, services
from kehu.classification.models import SuggestionStatus, TierSuggestion
from kehu.core import lookups
from kehu.customers.models import Customer
from kehu.orders.models import Order, OrderState

YEAR = timezone.localdate().year
numbers = count(1)


@pytest.fixture
def order_for():
    """A real order row (kehu.orders) of a customer: state, date and total as given."""

    def make(customer, total, *, state=OrderState.CONFIRMED, on=None, deleted=False):
        return Order.objects.create(
            number=f"SO-T-{next(numbers):05d}",
            customer=customer,
            owner=customer.owner,
            state=state,
            ordered_on=on or date(YEAR, 3, 15),
            total=Decimal(total),
            total_net=Decimal(total),
            deleted_at=timezone.now() if deleted else None,
        )

    return make


def inputs(year=YEAR, **kwargs) -> dict[str, selectors.RevenueInput]:
    names = dict(Customer.objects.values_list("pk", "name"))
    return {names[row.customer_id]: row for row in selectors.revenue_inputs(year, **kwargs)}


def test_the_orders_app_answers_the_revenue_question():
    assert lookups.answered(lookups.CUSTOMER_REVENUE)


@pytest.mark.django_db
def test_booked_orders_of_the_year_win_over_the_hand_entered_revenue(team, customer_of, order_for):
    customer = customer_of(team.rep1, name="有订单的客户")
    services.revenue_record(customer=customer, actor=team.rep1, year=YEAR, revenue=5000, potential=800)
    order_for(customer, "300.50")
    order_for(customer, "199.50", state=OrderState.COMPLETED, on=date(YEAR, 12, 31))
    # Not revenue of the year: drafts, pending, cancelled, deleted, other years.
    order_for(customer, "1000", state=OrderState.DRAFT)
    order_for(customer, "1000", state=OrderState.PENDING)
    order_for(customer, "1000", state=OrderState.CANCELLED)
    order_for(customer, "1000", deleted=True)
    order_for(customer, "1000", on=date(YEAR - 1, 12, 31))
    order_for(customer, "1000", on=date(YEAR + 1, 1, 1))

    row = inputs()["有订单的客户"]
    assert (row.revenue, row.potential, row.from_orders) == (Decimal("500.00"), Decimal("800.00"), True)


@pytest.mark.django_db
def test_the_hand_entered_revenue_stays_where_the_year_has_no_booked_order(team, customer_of, order_for):
    history = customer_of(team.rep1, name="只有手工数据的客户")
    services.revenue_record(customer=history, actor=team.rep1, year=YEAR, revenue=700, potential=50)
    order_for(history, "9999", state=OrderState.CANCELLED)
    order_for(history, "9999", on=date(YEAR - 1, 6, 1))  # last year's order: last year's revenue
    orders_only = customer_of(team.rep1, name="只有订单的客户")
    order_for(orders_only, "1234.56")
    last_year_only = customer_of(team.rep1, name="去年有订单的客户")
    order_for(last_year_only, "100", on=date(YEAR - 1, 6, 1))
    customer_of(team.rep1, name="什么都没有的客户")

    rows = inputs()
    assert {name: (r.revenue, r.potential, r.from_orders) for name, r in rows.items()} == {
        "只有手工数据的客户": (Decimal("700.00"), Decimal("50.00"), False),
        "只有订单的客户": (Decimal("1234.56"), Decimal("0"), True),
    }
    # Last year is read the same way: that year's orders win there.
    last_year = inputs(YEAR - 1)
    assert {name: (r.revenue, r.from_orders) for name, r in last_year.items()} == {
        "只有手工数据的客户": (Decimal("9999.00"), True),
        "去年有订单的客户": (Decimal("100.00"), True),
    }


@pytest.mark.django_db
def test_deleted_customers_are_not_asked_about(team, customer_of, order_for):
    from kehu.customers.services import customer_delete

    customer = customer_of(team.rep1, name="已删除的客户")
    order_for(customer, "500")
    customer_delete(customer=customer, actor=team.manager1)
    assert inputs() == {}


@pytest.mark.django_db
def test_the_inputs_are_read_in_batches_of_a_fixed_number_of_queries(
    team, customer_of, order_for, django_assert_num_queries
):
    for n in range(5):
        customer = customer_of(team.rep1, name=f"客户{n}")
        order_for(customer, 100 * (n + 1))
        services.revenue_record(customer=customer, actor=team.rep1, year=YEAR, revenue=1, potential=n)
    # Per batch of 2 customers: the customers, their hand-entered rows, the orders' answer; then
    # the query that finds no more customers.
    with django_assert_num_queries(3 * 3 + 1):
        read = list(selectors.revenue_inputs(YEAR, batch=2))
    names = dict(Customer.objects.values_list("pk", "name"))
    rows = {names[row.customer_id]: row for row in read}
    assert [rows[f"客户{n}"].revenue for n in range(5)] == [Decimal(100 * (n + 1)) for n in range(5)]
    assert [rows[f"客户{n}"].potential for n in range(5)] == [Decimal(n) for n in range(5)]


@pytest.mark.django_db
def test_without_an_answer_only_the_hand_entered_customers_are_walked(team, customer_of, order_for, monkeypatch):
    monkeypatch.setitem(lookups._answers, lookups.CUSTOMER_REVENUE.name, [])
    entered = customer_of(team.rep1, name="手工录入的客户")
    services.revenue_record(customer=entered, actor=team.rep1, year=YEAR, revenue=300, potential=0)
    order_for(customer_of(team.rep1, name="有订单的客户"), "900")
    assert {name: r.revenue for name, r in inputs().items()} == {"手工录入的客户": Decimal("300.00")}


@pytest.mark.django_db
def test_the_suggestions_rank_by_the_orders_revenue(team, customer_of, order_for):
    """Ten customers, 10% key / 30% ordinary: the one with the biggest orders is proposed as key
    even though its hand-entered revenue was the smallest; the shares are of the merged total."""
    customers = {}
    for n in range(1, 11):
        customer = customer_of(team.rep1, name=f"客户{n}", tier="prospect")
        services.revenue_record(customer=customer, actor=team.rep1, year=YEAR, revenue=1000 - n * 10, potential=0)
        customers[n] = customer
    order_for(customers[10], "5000.00")  # hand-entered 900 → orders 5,000: rank 1
    order_for(customers[1], "10.00")  # hand-entered 990 → orders 10: rank 10

    result = services.suggestions_refresh(year=YEAR)

    assert result["ranked"] == 10
    proposals = {
        s.customer.name: (s.proposed_tier, s.rank, s.revenue, s.revenue_share)
        for s in TierSuggestion.objects.filter(status=SuggestionStatus.OPEN).select_related("customer")
    }
    total = Decimal("5000") + Decimal("10") + sum(Decimal(1000 - n * 10) for n in range(2, 10))
    assert proposals["客户10"] == ("key", 1, Decimal("5000.00"), (Decimal("500000") / total).quantize(Decimal("0.001")))
    assert proposals["客户2"] == (
        "ordinary",
        2,
        Decimal("980.00"),
        (Decimal("98000") / total).quantize(Decimal("0.001")),
    )
    assert proposals["客户4"][:2] == ("ordinary", 4)
    assert "客户5" not in proposals  # rank 5: prospect, as it is
    assert "客户1" not in proposals  # rank 10: prospect


@pytest.mark.django_db
def test_the_ranking_table_is_gone_after_a_run(team, customer_of, order_for):
    from django.db import DatabaseError, connection, transaction

    order_for(customer_of(team.rep1, name="客户"), "10")
    assert services.suggestions_refresh(year=YEAR)["ranked"] == 1
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {selectors.RANK_TABLE}")
