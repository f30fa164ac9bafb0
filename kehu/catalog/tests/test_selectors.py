"""Catalog reads: the product list (search, category subtree, status, fixed queries), list prices,
the quote line editor's specification search and lookup by code."""

from datetime import date
from decimal import Decimal

import pytest

from kehu.catalog import selectors, services
from kehu.catalog.models import PriceListKind, Product

D = Decimal


def codes(page) -> list[str]:
    return [p.code for p in page.rows]


def test_product_list_filters(team, book):
    f = selectors.ProductFilters
    assert codes(selectors.product_list(team.rep1, f())) == ["D71", "IS", "YE3"]
    assert codes(selectors.product_list(team.rep1, f(q="is80"))) == ["IS"]  # a specification's code
    assert codes(selectors.product_list(team.rep1, f(q="蝶阀"))) == ["D71"]
    assert codes(selectors.product_list(team.rep1, f(category_id=book.pumps.pk))) == ["IS"]  # the subtree
    assert codes(selectors.product_list(team.rep1, f(category_id=book.valves.pk))) == ["D71"]
    services.product_update(product=book.motor, actor=team.admin, expected_version=1, status="discontinued")
    assert codes(selectors.product_list(team.rep1, f(status="discontinued"))) == ["YE3"]
    services.product_delete(product=book.valve, actor=team.admin)
    assert codes(selectors.product_list(team.rep1, f())) == ["IS", "YE3"]
    assert codes(selectors.product_list(team.admin, f(deleted=True))) == ["D71"]
    assert codes(selectors.product_list(team.rep1, f(deleted=True))) == []  # the bin is for catalog managers


def test_product_list_page_carries_specs_and_prices(team, book):
    page = selectors.product_list(team.rep1, selectors.ProductFilters(), limit=2)
    assert (page.count, page.has_next) == (3, True)
    pump = page.rows[1]
    assert [(s.code, s.list_price) for s in pump.spec_list] == [
        ("IS-50", D("2680.0000")),
        ("IS-80", D("4980.0000")),
        ("IS-100", None),
    ]
    assert (pump.price_low, pump.price_high) == (D("2680.0000"), D("4980.0000"))
    valve = page.rows[0]
    assert valve.spec_list[0].list_price == D("420.0000")  # a product-wide list price


def test_product_list_runs_a_fixed_number_of_queries(team, book, django_assert_max_num_queries):
    for n in range(30):
        services.product_create(
            actor=team.admin,
            code=f"X{n:02d}",
            name=f"产品{n}",
            category=book.valves,
            specifications=[{"code": f"X{n:02d}-{s}", "name": f"型号{s}"} for s in range(3)],
        )
    # count, page, specifications, the specifications' products, list prices
    with django_assert_max_num_queries(5):
        page = selectors.product_list(team.rep1, selectors.ProductFilters(), limit=25)
        assert sum(len(p.spec_list) for p in page.rows) > 25
    with django_assert_max_num_queries(6):
        selectors.product_list(team.rep1, selectors.ProductFilters(category_id=book.valves.pk, q="产品"), limit=25)


def test_nobody_without_the_permission_sees_products(team, book):
    from kehu.users.models import User

    stranger = User.objects.create(username="stranger", role="no_such_role")
    assert selectors.product_list(stranger, selectors.ProductFilters()).rows == []


def test_list_prices_follow_validity_and_the_newest_list(team, book):
    later = services.price_list_create(
        actor=team.admin, name="新目录价", kind=PriceListKind.LIST, valid_from=date(2024, 1, 1)
    )
    services.price_item_create(
        price_list=later, actor=team.admin, product=book.pump, specification=book.is50, price=D("2780")
    )
    assert selectors.list_prices([book.is50.pk], on=date(2023, 6, 1)) == {book.is50.pk: D("2680.0000")}
    assert selectors.list_prices([book.is50.pk], on=date(2024, 6, 1)) == {book.is50.pk: D("2780.0000")}
    assert selectors.list_prices([book.is50.pk], on=date(2019, 6, 1)) == {}


def test_specification_search_prefix_first_then_substring(team, book):
    services.product_create(
        actor=team.admin, code="SIS", name="配件", specifications=[{"code": "SIS-1", "name": "用于 IS 泵"}]
    )
    found = selectors.specification_search("is", limit=20)
    assert [r["code"] for r in found] == ["IS-100", "IS-50", "IS-80", "SIS-1"]
    assert found[1] == {
        "id": book.is50.pk,
        "code": "IS-50",
        "name": "单级离心泵",
        "specification": "IS50-32-160",
        "unit": "台",
        "list_price": D("2680.0000"),
        "product_id": book.pump.pk,
        "product_code": "IS",
    }
    assert [r["code"] for r in selectors.specification_search("离心", limit=2)] == ["IS-50", "IS-80"]
    assert selectors.specification_search("  ") == []
    services.product_update(product=book.pump, actor=team.admin, expected_version=1, status="discontinued")
    assert [r["code"] for r in selectors.specification_search("is")] == ["SIS-1"]


def test_specification_search_is_fast_enough_at_scale(team, django_assert_max_num_queries):
    """A prefix search answers from the code index; a substring search reads a capped candidate list."""
    from kehu.catalog.models import Specification

    products = Product.objects.bulk_create(
        [Product(code=f"P{n:05d}", name=f"产品{n}", search_text=f"p{n:05d} 产品{n}") for n in range(2000)]
    )
    Specification.objects.bulk_create(
        [Specification(product=p, code=f"{p.code}-{s}", name=f"型号{s}") for p in products for s in range(3)]
    )
    with django_assert_max_num_queries(3):
        assert len(selectors.specification_search("P0012", limit=20)) == 20
    with django_assert_max_num_queries(5):
        assert [r["code"] for r in selectors.specification_search("产品1999")] == [
            "P01999-0",
            "P01999-1",
            "P01999-2",
        ]


def test_specifications_by_code(team, book):
    services.product_delete(product=book.valve, actor=team.admin)
    found = selectors.specifications_by_code(["is-50", "IS-80", "D71", "nope", ""])
    assert {code: spec.code for code, spec in found.items()} == {"is-50": "IS-50", "IS-80": "IS-80"}


@pytest.mark.parametrize("kind", ["", "channel"])
def test_price_list_list(team, book, kind):
    page = selectors.price_list_list(team.rep1, selectors.PriceListFilters(kind=kind))
    expected = ["二批价目表"] if kind else ["二批价目表", "2026 目录价"]
    assert [pl.name for pl in page.rows] == expected
    assert all(pl.in_force for pl in page.rows)


def test_price_items_with_effective_prices(team, book):
    page = selectors.price_items(book.sub)
    assert [(i.min_quantity, i.percent_of_list, i.effective) for i in page.rows] == [
        (D("1.000"), D("88.00"), None),
        (D("20.000"), D("85.00"), None),
    ]
    assert selectors.price_items(book.list, q="is-80").count == 1
