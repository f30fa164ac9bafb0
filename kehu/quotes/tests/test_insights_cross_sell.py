"""Cross-sell on a quote (SAL-10): products quoted together, preferring what similar customers took."""

from datetime import timedelta

import pytest
from django.utils import timezone

from kehu.catalog.models import ProductStatus
from kehu.quotes.affinity import affinity_computed_at, affinity_rebuild
from kehu.quotes.insights import cross_sell
from kehu.quotes.models import ProductAffinity, QuoteState
from kehu.quotes.tests.insights_factories import make_product, make_quote, spec_of


@pytest.fixture
def catalog(db):
    return {
        key: make_product(code, name)
        for key, code, name in [
            ("pump", "P-200", "离心泵 XJ-200"),
            ("seal", "S-10", "机械密封 S-10"),
            ("motor", "M-7", "电机 7.5kW"),
            ("valve", "V-50", "闸阀 Z41H-50"),
            ("old", "O-1", "旧型号底座"),
            ("pipe", "G-80", "钢管 DN80"),
        ]
    }


def quoted(customer, owner, *products, state=QuoteState.SENT):
    return make_quote(customer, owner, [(spec_of(p), "100") for p in products], state=state)


def test_pairs_are_counted_per_product_and_per_group_of_similar_customers(team, customer_of, catalog):
    c = catalog
    machinery = [customer_of(team.rep1, name=f"机械客户{i}", industry="machinery") for i in range(3)]
    food = customer_of(team.rep1, name="食品客户", industry="food")
    for customer in machinery:
        quoted(customer, team.rep1, c["pump"], c["seal"], state=QuoteState.ACCEPTED)
    quoted(machinery[0], team.rep1, c["pump"], c["seal"], c["seal"])  # the same product twice counts once
    quoted(food, team.rep1, c["pump"], c["motor"], state=QuoteState.ACCEPTED)
    quoted(food, team.rep1, c["pump"], c["valve"], state=QuoteState.SUPERSEDED)  # replaced: not counted

    kept = affinity_rebuild(now=timezone.now() - timedelta(hours=1))

    rows = set(
        ProductAffinity.objects.filter(product=c["pump"]).values_list(
            "other__code", "scope", "value", "quotes", "customers"
        )
    )
    assert rows == {
        ("S-10", "", "", 4, 3),
        ("M-7", "", "", 1, 1),
        ("S-10", "industry", "machinery", 3, 3),
        ("S-10", "segment", "industrial", 3, 3),
    }  # a group's pair taken by one customer only (M-7 in food) is no pattern
    assert kept == ProductAffinity.objects.count() == 8  # the same pairs seen from the other product
    assert affinity_computed_at() < timezone.now() - timedelta(minutes=59)
    assert affinity_rebuild() == 8  # run again: replaced, not doubled


def test_suggestions_rank_with_reasons_and_leave_out_what_is_quoted_or_not_on_sale(team, customer_of, catalog):
    c = catalog
    machinery = [customer_of(team.rep1, name=f"机械客户{i}", industry="machinery") for i in range(2)]
    others = [customer_of(team.rep1, name=f"其他客户{i}", industry="food", segment="dealer") for i in range(3)]
    for customer in others:  # motor goes with pumps most often, but in other trades
        quoted(customer, team.rep1, c["pump"], c["motor"])
    for customer in machinery:  # seal: fewer quotes, but accepted by machinery customers
        quoted(customer, team.rep1, c["pump"], c["seal"], state=QuoteState.ACCEPTED)
    quoted(others[0], team.rep1, c["pump"], c["valve"], c["old"])
    quoted(others[1], team.rep1, c["valve"], c["pipe"])
    c["old"].status = ProductStatus.DISCONTINUED
    c["old"].save()
    affinity_rebuild()

    customer = customer_of(team.rep1, name="新机械客户", industry="machinery")
    quote = quoted(customer, team.rep1, c["pump"], c["valve"], state=QuoteState.DRAFT)
    found = cross_sell(quote)

    assert [(s.code, s.score) for s in found] == [("S-10", 2 + 3 * 2), ("M-7", 3), ("G-80", 1)]
    seal, motor, pipe = found
    assert seal.reasons == [
        "on 2 quotes together with 离心泵 XJ-200",
        "accepted by 2 customers in Machinery & equipment like this one",
    ]
    assert motor.reasons == ["on 3 quotes together with 离心泵 XJ-200"]
    assert pipe.reasons == ["on 1 quote together with 闸阀 Z41H-50"]


def test_two_queries_whatever_the_quote(team, customer_of, catalog, django_assert_num_queries):
    c = catalog
    customer = customer_of(team.rep1, name="机械客户", industry="machinery", channel_level="retailer")
    quoted(customer, team.rep1, c["pump"], c["seal"], state=QuoteState.ACCEPTED)
    other = customer_of(team.rep1, name="机械客户二", industry="machinery")
    quoted(other, team.rep1, c["pump"], c["seal"], state=QuoteState.ACCEPTED)
    affinity_rebuild()
    quote = quoted(customer, team.rep1, c["pump"], c["valve"])
    from kehu.quotes.insights import quote_line_facts

    lines = quote_line_facts(quote)
    with django_assert_num_queries(2):
        (seal,) = cross_sell(quote, lines=lines, customer=customer)
    assert seal.similar_customers == 2 and seal.similar_label == "Machinery & equipment"
    assert cross_sell(quoted(customer, team.rep1)) == []


def test_other_is_no_likeness(team, customer_of):
    from kehu.quotes.insights import similar_scopes

    other = customer_of(team.rep1, name="某客户", industry="other", segment="other", channel_level="retailer")
    assert [(scope, value) for scope, value, _label in similar_scopes(other)] == [("channel", "retailer")]
