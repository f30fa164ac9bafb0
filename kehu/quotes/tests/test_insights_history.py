"""The customer's price history on a quote (SAL-4): what was quoted and accepted before, by whom."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from kehu.core import lookups
from kehu.quotes.affinity import affinity_rebuild
from kehu.quotes.insights import price_history, quote_insights
from kehu.quotes.models import QuoteState
from kehu.quotes.tests.insights_factories import add_lines, make_product, make_quote, spec_of

D = Decimal


@pytest.fixture
def pump(db):
    return make_product("P-200", "离心泵 XJ-200", specs=2)


@pytest.fixture
def valve(db):
    return make_product("V-50", "闸阀 Z41H-50")


@pytest.fixture
def customer(team, customer_of):
    return customer_of(team.rep1, name="苏州华星精密机械有限公司", industry="machinery")


def test_newest_first_with_the_last_accepted_price(team, customer, customer_of, pump, valve):
    a, b = spec_of(pump, 0), spec_of(pump, 1)
    make_quote(customer, team.rep1, [(a, "1250", "5")], state=QuoteState.ACCEPTED, quoted_on=date(2026, 3, 1))
    make_quote(customer, team.rep2, [(b, "1300")], state=QuoteState.REJECTED, quoted_on=date(2026, 6, 1))
    make_quote(customer, team.rep1, [(a, "1200")], state=QuoteState.SENT, quoted_on=date(2026, 9, 1))
    # Another customer's prices are not this customer's history.
    make_quote(customer_of(team.rep1, name="别家客户"), team.rep1, [(a, "900")], state=QuoteState.ACCEPTED)
    quote = make_quote(customer, team.rep1, [(a, "1180"), (spec_of(valve), "300")], quoted_on=date(2026, 11, 1))

    pump_history, valve_history = price_history(quote, team.rep1)

    # Per specification: the other specification's price (1300, spec B) is not this line's history.
    assert (pump_history.code, pump_history.specification_name) == ("P-200-A", "离心泵 XJ-200 A")
    assert [(e.on, e.unit_price, e.state, e.who) for e in pump_history.entries] == [
        (date(2026, 9, 1), D("1200.0000"), "sent", "rep1"),
        (date(2026, 3, 1), D("1250.0000"), "accepted", "rep1"),
    ]
    quote_b = make_quote(customer, team.rep1, [(b, "1280")])
    ((e),) = price_history(quote_b, team.rep1)[0].entries
    assert (e.unit_price, e.state, e.who) == (D("1300"), "rejected", "rep2")
    assert pump_history.last_accepted.unit_price == D("1250") and pump_history.last_accepted.discount == D("5")
    assert pump_history.last_accepted_shown
    assert valve_history.entries == [] and valve_history.last_accepted is None


def test_leaves_out_the_quote_itself_its_revisions_superseded_and_deleted(team, customer, pump):
    a = spec_of(pump)
    from django.utils import timezone

    first = make_quote(customer, team.rep1, [(a, "1000")], state=QuoteState.SUPERSEDED, number="QT-9")
    make_quote(customer, team.rep1, [(a, "990")], state=QuoteState.SUPERSEDED, number="QT-8")
    gone = make_quote(customer, team.rep1, [(a, "970")], state=QuoteState.ACCEPTED)
    gone.deleted_at = timezone.now()
    gone.save()
    kept = make_quote(customer, team.rep1, [(a, "980")], state=QuoteState.EXPIRED)
    quote = make_quote(customer, team.rep1, [(a, "1100")], number="QT-9", revision=2, previous=first)

    (history,) = price_history(quote, team.rep1)

    assert [(e.reference, e.unit_price) for e in history.entries] == [(kept.number, D("980"))]


def test_a_few_per_product_and_an_older_accepted_price_still_found(team, customer, pump):
    a = spec_of(pump)
    make_quote(customer, team.rep1, [(a, "800")], state=QuoteState.ACCEPTED, quoted_on=date(2025, 1, 5))
    for month in range(1, 8):
        make_quote(
            customer, team.rep1, [(a, str(1000 + month))], state=QuoteState.EXPIRED, quoted_on=date(2026, month, 1)
        )
    quote = make_quote(customer, team.rep1, [(a, "1100")])

    (history,) = price_history(quote, team.rep1, per_product=5)

    assert [e.unit_price for e in history.entries] == [D(p) for p in ("1007", "1006", "1005", "1004", "1003")]
    assert history.last_accepted.unit_price == D("800") and not history.last_accepted_shown


def test_links_only_to_quotes_the_viewer_may_open(team, customer, pump):
    a = spec_of(pump)
    own = make_quote(customer, team.rep1, [(a, "1000")], state=QuoteState.ACCEPTED, quoted_on=date(2026, 2, 1))
    south = make_quote(customer, team.rep3, [(a, "990")], state=QuoteState.SENT, quoted_on=date(2026, 3, 1))
    quote = make_quote(customer, team.rep1, [(a, "1100")])

    (history,) = price_history(quote, team.rep1)

    assert [(e.reference, e.link) for e in history.entries] == [
        (south.number, ""),
        (own.number, f"/quotes/{own.pk}/"),
    ]


def test_orders_join_the_history_through_the_lookup(team, customer, pump):
    """Orders do not exist yet: whatever app answers CUSTOMER_PRODUCT_PRICES is asked once."""
    a = spec_of(pump)
    make_quote(customer, team.rep1, [(a, "1000")], state=QuoteState.ACCEPTED, quoted_on=date(2026, 2, 1))
    quote = make_quote(customer, team.rep1, [(a, "1100")])
    asked = []

    def orders_answer(customer_id, product_ids, per_product):
        asked.append((customer_id, list(product_ids), per_product))
        return [
            lookups.PriceRow(
                product_id=pump.pk, specification_id=None, on=date(2026, 4, 2), reference="SO-0001", state="已发货",
                unit_price=D("1020"), discount=D("0"), who="rep1",
            )
        ]  # fmt: skip

    lookups.answer(lookups.CUSTOMER_PRODUCT_PRICES, orders_answer)
    try:
        (history,) = price_history(quote, team.rep1)
    finally:
        lookups._answers[lookups.CUSTOMER_PRODUCT_PRICES.name].remove(orders_answer)

    assert asked == [(customer.pk, [pump.pk], 5)]
    assert [(e.kind, e.reference, e.unit_price) for e in history.entries] == [
        ("order", "SO-0001", D("1020")),
        ("quote", history.entries[1].reference, D("1000")),
    ]
    assert history.last_accepted.reference == "SO-0001"


def _big_quote(team, customer, lines: int):
    products = [make_product(f"B-{lines}-{i}", f"配件 {i}") for i in range(lines)]
    extra = make_product(f"X-{lines}", "密封圈")
    old = make_quote(customer, team.rep2, state=QuoteState.SENT, quoted_on=date(2026, 1, 1))
    add_lines(old, [(spec_of(p), "99") for p in products] + [(spec_of(extra), "5")])
    make_quote(customer, team.rep2, [(spec_of(products[0]), "98"), (spec_of(extra), "5")], state=QuoteState.EXPIRED)
    affinity_rebuild()
    return make_quote(customer, team.rep1, [(spec_of(p), "100") for p in products])


@pytest.mark.parametrize("lines", [5, 300])
def test_the_panel_reads_the_same_queries_for_5_and_300_lines(team, customer, client, lines, django_assert_num_queries):
    quote = _big_quote(team, customer, lines)
    client.force_login(team.rep1)
    # session + user, the quote, its lines, history, who may open the history's quotes, conflicts,
    # who may open the conflicting quotes, the customers shared with the viewer (once), cross-sell
    # ranking and details, when the pairs were counted (an htmx partial: no menu, no notification bell),
    # and the prices on the customer's orders (the orders' answer to CUSTOMER_PRODUCT_PRICES).
    with django_assert_num_queries(13):
        response = client.get(reverse("quote_insights:panel", args=[quote.pk]), headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.content.decode().count('class="insight-product') == lines
    assert "密封圈" in response.content.decode()


@pytest.mark.parametrize("lines", [5, 300])
def test_the_selectors_read_a_fixed_number_of_queries(team, customer, lines, django_assert_num_queries):
    quote = _big_quote(team, customer, lines)
    with django_assert_num_queries(9):  # with the prices on the customer's orders
        found = quote_insights(quote, team.rep1)
    assert found.history_count == lines and len(found.conflicts) == 1 and len(found.conflicts[0].lines) == lines
    assert [s.name for s in found.suggestions] == ["密封圈"]
