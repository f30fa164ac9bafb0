"""Plan against actual: orders for dealers, sell-through for sub-distributors, month boundaries,
targets by product and by specification (exact figures)."""

from datetime import date
from decimal import Decimal

import pytest

from kehu.customers.models import ChannelLevel
from kehu.dealerplans import selectors, services
from kehu.dealerplans.tests.conftest import MAY
from kehu.dealerplans.tests.factories import dealer as make_dealer
from kehu.dealerplans.tests.factories import order, sell_through
from kehu.orders.models import OrderState

D = Decimal


@pytest.fixture
def bought(plan, dealer, catalog, team):
    """May: 3 × CK6140-A at 9,800, 2 × CK6140-B at 12,000 (not in the plan's spec line), 12 barrels
    of oil at 480; the first and last day of May count, 30 April and 1 June do not; a draft and a
    cancelled order do not count."""
    rep = team.rep1
    order(dealer, rep, date(2026, 5, 1), [(catalog.lathe_a, 2, 9800), (catalog.oil_46, 10, 480)])
    order(
        dealer,
        rep,
        date(2026, 5, 31),
        [(catalog.lathe_a, 1, 9800), (catalog.lathe_b, 2, 12000), (catalog.oil_46, 2, 480)],
    )
    order(dealer, rep, date(2026, 4, 30), [(catalog.lathe_a, 50, 9800)])
    order(dealer, rep, date(2026, 6, 1), [(catalog.lathe_a, 60, 9800)])
    order(dealer, rep, date(2026, 5, 15), [(catalog.lathe_a, 70, 9800)], state=OrderState.DRAFT)
    order(dealer, rep, date(2026, 5, 15), [(catalog.lathe_a, 80, 9800)], state=OrderState.CANCELLED)
    order(dealer, rep, date(2026, 5, 20), [(catalog.lathe_a, 1, 9800)], state=OrderState.COMPLETED)


def test_dealer_plan_counts_booked_order_lines_of_the_month(plan, bought):
    progress = selectors.plan_progress(plan)
    assert progress.source == "orders"
    lathe, oil = progress.lines
    assert (lathe.label, lathe.target_quantity, lathe.actual_quantity) == ("数控车床 · 1000mm", D("10.000"), D("4.000"))
    assert lathe.actual_amount == D("39200.00")
    assert lathe.quantity_percent == D("40.0")
    assert lathe.amount_percent == D("39.2")
    # The oil target has no specification: every specification of the product counts.
    assert (oil.label, oil.actual_quantity, oil.actual_amount) == ("液压油", D("12.000"), D("5760.00"))
    assert oil.quantity_percent == D("30.0")
    assert oil.amount_percent == D("28.8")
    # CK6140-B is bought but not planned (the lathe target names specification A only).
    assert [(o.label, o.actual_quantity, o.actual_amount) for o in progress.other] == [
        ("数控车床 · 1500mm", D("2.000"), D("24000.00"))
    ]
    assert progress.target_amount == D("120000.00")
    assert progress.actual_amount == D("68960.00")
    assert progress.amount_percent == D("57.5")


def test_a_product_target_counts_every_specification(plan, bought, catalog, team):
    services.plan_line_remove(plan=plan, actor=team.rep1, line_id=plan.lines.get(product=catalog.lathe).pk)
    services.plan_line_put(plan=plan, actor=team.rep1, product=catalog.lathe, quantity=8, amount="90000")
    progress = selectors.plan_progress(plan)
    lathe = next(line for line in progress.lines if line.product_id == catalog.lathe.pk)
    assert (lathe.actual_quantity, lathe.actual_amount) == (D("6.000"), D("63200.00"))
    assert lathe.quantity_percent == D("75.0")
    assert progress.other == []


def test_a_purchase_under_a_product_line_and_its_specification_line_is_bought_once(plan, bought, catalog, team):
    # The plan has a line for specification A; add one for the whole lathe product: A's purchases
    # count towards both lines, and once in what the dealer bought.
    services.plan_line_put(plan=plan, actor=team.rep1, product=catalog.lathe, quantity=8, amount="90000")
    progress = selectors.plan_progress(plan)
    by_spec = {
        line.specification_id: line.actual_amount for line in progress.lines if line.product_id == catalog.lathe.pk
    }
    assert by_spec == {catalog.lathe_a.pk: D("39200.00"), None: D("63200.00")}
    assert progress.other == []
    assert progress.actual_amount == D("68960.00")  # 63,200 of lathes + 5,760 of oil


def test_no_orders_in_the_month_is_zero_and_no_target_is_no_percentage(plan, catalog, team):
    progress = selectors.plan_progress(plan)
    assert [(line.actual_quantity, line.quantity_percent) for line in progress.lines] == [(0, D("0.0")), (0, D("0.0"))]
    services.plan_line_put(plan=plan, actor=team.rep1, product=catalog.lathe, specification=catalog.lathe_b, quantity=0)
    progress = selectors.plan_progress(plan)
    zero = next(line for line in progress.lines if line.specification_id == catalog.lathe_b.pk)
    assert zero.quantity_percent is None and zero.amount_percent is None


def test_sub_distributor_plan_counts_sell_through_it_bought(dealer, catalog, team, customer_of):
    sub = make_dealer(customer_of, team.rep1, name="余杭二批商行", level=ChannelLevel.SUB_DEALER, region="浙江")
    other = make_dealer(customer_of, team.rep1, name="萧山二批", level=ChannelLevel.SUB_DEALER)
    plan = services.plan_create(customer=sub, upper=dealer, month=MAY, actor=team.rep1)
    services.plan_line_put(plan=plan, actor=team.rep1, product=catalog.oil, quantity=20, amount="9000")
    sell_through(dealer, MAY, catalog.oil, 6, "2700.00", buyer=sub, specification=catalog.oil_46)
    sell_through(dealer, MAY, catalog.oil, "1.5", "675.00", buyer=sub)
    sell_through(dealer, date(2026, 4, 1), catalog.oil, 99, "1", buyer=sub)
    sell_through(dealer, MAY, catalog.oil, 50, "22500.00", buyer=other)
    order(sub, team.rep1, date(2026, 5, 3), [(catalog.oil_46, 100, 480)])  # its own orders are not its plan's actual
    progress = selectors.plan_progress(plan)
    assert progress.source == "sell_through"
    (oil,) = progress.lines
    assert (oil.actual_quantity, oil.actual_amount, oil.quantity_percent) == (D("7.500"), D("3375.00"), D("37.5"))
    assert progress.sold_on == []
    # The dealer's own plan shows what it sold on in May (to both sub-distributors).
    dealer_plan = services.plan_create(customer=dealer, month=MAY, actor=team.rep1)
    sold = selectors.plan_progress(dealer_plan).sold_on
    assert [(s.label, s.actual_quantity, s.actual_amount) for s in sold] == [
        ("液压油", D("51.500"), D("23175.00")),
        ("液压油 · 200L", D("6.000"), D("2700.00")),
    ]


def test_month_summary_per_plan_rep_and_region(plan, bought, dealer, catalog, team, customer_of):
    second = make_dealer(customer_of, team.rep2, name="宁波远东贸易", region="浙江")
    south = make_dealer(customer_of, team.rep3, name="广州南方机电", region="广东")
    p2 = services.plan_create(customer=second, month=MAY, actor=team.rep2)
    services.plan_line_put(plan=p2, actor=team.rep2, product=catalog.oil, quantity=10, amount="5000")
    order(second, team.rep2, date(2026, 5, 9), [(catalog.oil_46, 5, 500)])
    p3 = services.plan_create(customer=south, month=MAY, actor=team.rep3)
    services.plan_line_put(plan=p3, actor=team.rep3, product=catalog.oil, quantity=10, amount="4000")
    sell_through(dealer, MAY, catalog.oil, 2, "1000.00")
    summary = selectors.month_summary(team.manager1, MAY)  # 华东: rep1 and rep2, not rep3
    # By name: 宁波 (U+5B81) before 杭州 (U+676D).
    assert [(p.pk, r.target_amount, r.actual_amount, r.sold_on_amount) for p, r in summary.plans] == [
        (p2.pk, D("5000.00"), D("2500.00"), D("0")),
        (plan.pk, D("120000.00"), D("68960.00"), D("1000.00")),
    ]
    assert [(r.label, r.plans, r.actual_amount, r.amount_percent) for r in summary.reps] == [
        ("rep1", 1, D("68960.00"), D("57.5")),
        ("rep2", 1, D("2500.00"), D("50.0")),
    ]
    assert [(r.label, r.target_amount, r.actual_amount) for r in summary.regions] == [
        ("浙江", D("125000.00"), D("71460.00"))
    ]
    assert summary.total.amount_percent == D("57.2")
    everyone = selectors.month_summary(team.gm, MAY)
    assert [r.label for r in everyone.regions] == ["广东", "浙江"]
    assert selectors.month_summary(team.rep3, MAY).total.target_amount == D("4000.00")


def test_sales_record_running_totals_against_the_plan(plan, bought, dealer, catalog, team):
    june = services.plan_copy(source=plan, actor=team.rep1)
    assert june.month == date(2026, 6, 1) and june.target_amount == D("120000.00")
    record = selectors.sales_record(dealer, year=2026)
    april, may, june_row = record.months[3], record.months[4], record.months[5]
    assert (april.amount, april.plan_amount, april.running_amount) == (D("490000.00"), 0, D("490000.00"))
    assert (may.amount, may.plan_amount) == (D("68960.00"), D("120000.00"))
    assert (may.running_amount, may.running_plan) == (D("558960.00"), D("120000.00"))
    assert (june_row.amount, june_row.running_plan, june_row.running_amount) == (
        D("588000.00"),
        D("240000.00"),
        D("1146960.00"),
    )
    assert len(record.months) == 12 and record.total.running_amount == D("1146960.00")
    oil = selectors.sales_record(dealer, year=2026, product=catalog.oil)
    assert (oil.months[4].quantity, oil.months[4].amount, oil.months[4].plan_quantity) == (
        D("12.000"),
        D("5760.00"),
        D("40.000"),
    )
    assert oil.months[4].amount_percent == D("28.8")
    lines = list(selectors.record_order_lines(dealer, start=MAY, end=date(2026, 6, 1)))
    assert [(line.ordered_on.day, line.code, line.quantity) for line in lines] == [
        (1, "CK6140-A", D("2.000")),
        (1, "YY-46-200L", D("10.000")),
        (20, "CK6140-A", D("1.000")),
        (31, "CK6140-A", D("1.000")),
        (31, "CK6140-B", D("2.000")),
        (31, "YY-46-200L", D("2.000")),
    ]
