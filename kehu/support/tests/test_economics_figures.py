# ruff: noqa: F811 (the fixtures are imported by name)
"""Service economics (SRV-6) on a fixed set: the costs (time at the rate or the visit's labour cost,
parts not charged, travel, returns), the serviced customers, revenue retained, follow-on sales and
the customers counted; a fixed number of queries whatever the number of customers."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from kehu.orders.tests.factories import confirm, make_order
from kehu.support import economics as eco
from kehu.support import rma_services
from kehu.support.models import ReturnRequest, ServiceVisit, VisitPart
from kehu.support.services import ticket_open
from kehu.support.tests.returns_fixtures import aftersales, book, delivered_order  # noqa: F401

SH = ZoneInfo("Asia/Shanghai")


def at(y, m, d, h=10):
    return datetime(y, m, d, h, 0, tzinfo=SH)


@pytest.fixture
def figures(team, customer_of, book, aftersales, company_gives_credit):
    a = customer_of(team.rep1, name="甲机械有限公司")
    b = customer_of(team.rep2, name="乙贸易有限公司")
    c = customer_of(team.rep3, name="丙电子有限公司")
    ta = ticket_open(actor=team.service1, customer=a, subject="主轴异响", now=at(2026, 10, 10))
    ticket_open(actor=team.service1, customer=b, subject="很久以前", now=at(2025, 6, 1))
    ticket_open(actor=team.service1, customer=c, subject="报警", now=at(2026, 11, 10))

    def visit(finished, minutes, labour="0", travel="0", state="done"):
        return ServiceVisit.objects.create(
            ticket=ta,
            engineer=team.service1,
            state=state,
            finished_at=finished,
            minutes_spent=minutes,
            labour_cost=Decimal(labour),
            travel_cost=Decimal(travel),
        )

    v1 = visit(at(2026, 11, 5), 90, travel="50")
    VisitPart.objects.create(visit=v1, specification=book.oil_46, quantity=2, unit_cost=Decimal("30"))
    VisitPart.objects.create(visit=v1, specification=book.oil_46, quantity=1, unit_cost=Decimal("100"), charged=True)
    visit(at(2026, 11, 20), 60, labour="300")
    visit(at(2026, 12, 2), 600)
    visit(None, 45, state="planned")

    def order(customer, rep, quantity, day):
        return confirm(make_order(customer, rep, [(book.lathe_a.pk, quantity)], ordered_on=day), rep)

    order(a, team.rep1, 2, date(2026, 11, 3))
    order(a, team.rep1, 7, date(2026, 9, 1))
    order(c, team.rep3, 1, date(2026, 11, 5))
    order(c, team.rep3, 3, date(2026, 11, 25))
    order(b, team.rep2, 5, date(2026, 11, 10))
    delivered = delivered_order(book, a, team.rep1, [(book.lathe_a, 1)])
    rma = rma_services.rma_create(
        actor=aftersales, order_line=delivered.lines.get(), quantity=1, reason="异响", remedy="repair"
    )
    rma_services.rma_costs_update(rma=rma, actor=aftersales, freight_cost="35.5", labour_cost="20", parts_cost="10")
    ReturnRequest.objects.filter(pk=rma.pk).update(state="remedied", remedied_at=at(2026, 11, 15))
    return {"a": a, "b": b, "c": c}


def test_the_month_figures_are_exact(figures):
    start, end = eco.period_bounds("month", date(2026, 11, 17))
    assert (start, end) == (date(2026, 11, 1), date(2026, 12, 1))
    result = eco.economics(start=start, end=end)
    assert (result.visits, result.minutes) == (2, 150)
    assert result.labour == Decimal("480.00")  # 90 min at 120/h = 180, and the visit's own 300
    assert result.parts == Decimal("60.00")  # the charged part is the customer's
    assert result.travel == Decimal("50.00")
    assert (result.rma_count, result.rma_costs) == (1, Decimal("65.50"))
    assert result.cost == Decimal("655.50")
    assert result.serviced_customers == 2  # 甲 (October) and 丙 (November); 乙's ticket is too old
    assert (result.retained_orders, result.retained_order_count, result.retained_customers) == (
        Decimal("600.00"),
        3,
        2,
    )
    assert (result.follow_on, result.follow_on_orders, result.follow_on_customers) == (Decimal("500.00"), 2, 2)
    assert result.ratio == Decimal("0.92")


def test_a_team_counts_its_own_customers(figures, team):
    start, end = eco.period_bounds("month", date(2026, 11, 1))
    east = eco.economics(start=start, end=end, department=team.east)
    assert (east.labour, east.rma_costs, east.serviced_customers, east.retained_orders) == (
        Decimal("480.00"),
        Decimal("65.50"),
        1,
        Decimal("200.00"),
    )
    south = eco.economics(start=start, end=end, department=team.south)
    assert (south.cost, south.serviced_customers, south.retained_orders, south.follow_on) == (
        Decimal("0.00"),
        1,
        Decimal("400.00"),
        Decimal("300.00"),
    )


def test_periods():
    assert eco.period_bounds("quarter", date(2026, 11, 17)) == (date(2026, 10, 1), date(2027, 1, 1))
    assert eco.period_bounds("year", date(2026, 2, 1)) == (date(2026, 1, 1), date(2027, 1, 1))
    assert eco.period_bounds("month", date(2026, 12, 31)) == (date(2026, 12, 1), date(2027, 1, 1))
    assert eco.months_before(date(2026, 11, 1), 12) == date(2025, 11, 1)


def test_a_fixed_number_of_queries(figures, django_assert_num_queries):
    from kehu.support.models import QualitySettings

    QualitySettings.load()  # the row exists (made on the first read)
    start, end = eco.period_bounds("quarter", date(2026, 11, 1))
    with django_assert_num_queries(7):
        eco.economics(start=start, end=end)
