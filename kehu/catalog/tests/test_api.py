"""The catalog API: reads for everyone who works with customers, writes for catalog managers
(a denied write changes nothing), 4xx bodies, and price resolution with its sources."""

from decimal import Decimal

import pytest

from kehu.catalog.models import Category, DiscountLimit, PriceItem, Product, Specification

BASE = "/api/v1/catalog"
D = Decimal


def test_anonymous_is_refused(api_client, book):
    response = api_client().get(f"{BASE}/products")
    assert response.status_code == 401


def test_products_list_and_read(api_client, team, book):
    api = api_client(team.rep1)
    data = api.get(f"{BASE}/products?q=is&limit=1").json()
    assert (data["count"], data["has_next"]) == (1, False)
    product = data["items"][0]
    assert product["code"] == "IS" and product["category_id"] == book.centrifugal.pk
    assert [(s["code"], s["list_price"]) for s in product["specifications"]] == [
        ("IS-50", "2680.0000"),
        ("IS-80", "4980.0000"),
        ("IS-100", None),
    ]
    assert api.get(f"{BASE}/products?category_id={book.pumps.pk}").json()["count"] == 1
    assert api.get(f"{BASE}/products/{book.valve.pk}").json()["name"] == "对夹蝶阀"
    assert api.get(f"{BASE}/products/999999").json() == {"detail": "Not found."}


@pytest.mark.parametrize("username", ["rep1", "manager1"])
def test_writes_need_the_catalog_permission_and_change_nothing(api_client, team, book, username):
    api = api_client(getattr(team, username))
    before = (
        list(Product.objects.values_list("code", "name", "deleted_at")),
        Specification.objects.count(),
        PriceItem.objects.count(),
        Category.objects.count(),
    )
    calls = [
        api.post(f"{BASE}/products", {"code": "NEW", "name": "新"}),
        api.patch(f"{BASE}/products/{book.pump.pk}", {"name": "改"}),
        api.delete(f"{BASE}/products/{book.pump.pk}"),
        api.post(f"{BASE}/products/{book.pump.pk}/specifications", {"code": "IS-200", "name": "大"}),
        api.delete(f"{BASE}/specifications/{book.is50.pk}"),
        api.post(f"{BASE}/categories", {"name": "新类"}),
        api.post(f"{BASE}/price-lists/{book.sub.pk}/items", {"product_id": book.valve.pk, "price": "1"}),
        api.put(f"{BASE}/discount-limits", {"limits": {"sales_rep": "50"}}),
    ]
    assert [r.status_code for r in calls] == [403] * len(calls)
    assert calls[0].json() == {"detail": "You may not do this."}
    after = (
        list(Product.objects.values_list("code", "name", "deleted_at")),
        Specification.objects.count(),
        PriceItem.objects.count(),
        Category.objects.count(),
    )
    assert after == before and not DiscountLimit.objects.exists()


def test_a_manager_writes_through_the_api(api_client, team, book):
    api = api_client(team.admin)
    response = api.post(
        f"{BASE}/products",
        {"code": "CDL", "name": "立式多级泵", "category_id": book.pumps.pk, "tax_rate": "9", "specifications": []},
    )
    assert response.status_code == 201, response.json()
    created = response.json()
    assert [(s["code"], s["name"]) for s in created["specifications"]] == [("CDL", "Standard")]
    assert created["tax_rate"] == "9.00"
    duplicate = api.post(f"{BASE}/products", {"code": "CDL", "name": "又一个"})
    assert duplicate.status_code == 400
    assert duplicate.json() == {
        "detail": "Invalid input.",
        "errors": {"code": ["The product code “CDL” is already used."]},
    }
    stale = api.patch(f"{BASE}/products/{created['id']}", {"name": "x", "version": 7})
    assert stale.status_code == 409
    assert api.patch(f"{BASE}/products/{created['id']}", {"name": "CDL 泵", "version": 1}).json()["version"] == 2
    spec = api.post(f"{BASE}/products/{created['id']}/specifications", {"code": "CDL-8", "name": "CDL8-12"})
    assert spec.status_code == 201
    assert api.delete(f"{BASE}/specifications/{spec.json()['id']}").json() == {"outcome": "deleted"}
    assert api.delete(f"{BASE}/products/{created['id']}").status_code == 204
    assert api.get(f"{BASE}/products/{created['id']}").status_code == 404
    assert api.post(f"{BASE}/products/{created['id']}/restore").json()["code"] == "CDL"


def test_a_category_in_use_answers_409_and_stays(api_client, team, book):
    api = api_client(team.admin)
    holding = api.delete(f"{BASE}/categories/{book.valves.pk}")
    assert holding.status_code == 409
    assert holding.json() == {
        "detail": "“阀门” still holds products (perhaps in the recycle bin): move them to another category first.",
        "errors": {},
    }
    parent = api.delete(f"{BASE}/categories/{book.pumps.pk}")
    assert parent.status_code == 409
    assert parent.json()["detail"] == "“泵” has subcategories: move or delete them first."
    assert Category.objects.filter(pk__in=[book.valves.pk, book.pumps.pk]).count() == 2


def test_price_lists_and_items_through_the_api(api_client, team, book):
    api = api_client(team.admin)
    bad = api.post(f"{BASE}/price-lists", {"name": "二批 2027", "kind": "channel", "valid_from": "2027-01-01"})
    assert bad.status_code == 400
    assert bad.json()["errors"] == {"channel_level": ["Choose the channel level this price list is for."]}
    created = api.post(
        f"{BASE}/price-lists",
        {"name": "客户专价", "kind": "customer", "customer_id": book.dealer.pk, "valid_from": "2026-01-01"},
    )
    assert created.status_code == 201, created.json()
    list_id = created.json()["id"]
    item = api.post(
        f"{BASE}/price-lists/{list_id}/items",
        {"specification_id": book.is50.pk, "min_quantity": "10", "price": "2200"},
    )
    assert item.status_code == 201, item.json()
    assert (item.json()["product_id"], item.json()["specification_id"]) == (book.pump.pk, book.is50.pk)
    both = api.patch(f"{BASE}/price-items/{item.json()['id']}", {"percent_of_list": "90"})
    assert both.status_code == 400
    assert both.json()["errors"] == {"price": ["Give a fixed price or a percentage of the list price, not both."]}
    items = api.get(f"{BASE}/price-lists/{list_id}/items").json()
    assert items["count"] == 1 and items["items"][0]["price"] == "2200.0000"
    # A rep may not make a price list for another rep's customer: they cannot see it.
    assert api.get(f"{BASE}/price-lists?kind=customer").json()["count"] == 1


def test_discount_limits(api_client, team, book):
    api = api_client(team.admin)
    response = api.put(
        f"{BASE}/discount-limits",
        {"limits": {"sales_rep": "5", "sales_manager": "15"}, "floor_approver_roles": ["general_manager"]},
    )
    assert response.json() == {
        "limits": {"sales_rep": "5.00", "sales_manager": "15.00"},
        "floor_approver_roles": ["general_manager"],
    }
    assert api.put(f"{BASE}/discount-limits", {"limits": {"sales_rep": "101"}}).status_code == 422
    empty = api.put(f"{BASE}/discount-limits", {"floor_approver_roles": []})
    assert empty.status_code == 400
    assert api_client(team.rep1).get(f"{BASE}/discount-limits").json()["limits"]["sales_rep"] == "5.00"


def test_prices_resolve_with_their_source(api_client, team, book):
    api = api_client(team.rep1)
    response = api.post(
        f"{BASE}/prices/resolve",
        {
            "customer_id": book.dealer.pk,
            "on": "2026-06-01",
            "lines": [
                {"specification_id": book.is50.pk, "quantity": "5"},
                {"code": "is-50", "quantity": "20"},
                {"code": "D71", "quantity": "1"},
                {"code": "IS-100", "quantity": "1"},
            ],
        },
    )
    assert response.status_code == 200, response.json()
    lines = response.json()["lines"]
    assert [(x["code"], x["price"], x["source"]) for x in lines] == [
        ("IS-50", "2358.4000", "二批价目表 (88% of the list price)"),
        ("IS-50", "2278.0000", "二批价目表, from 20 台 (85% of the list price)"),
        ("D71", "420.0000", "2026 目录价"),
        ("IS-100", None, ""),
    ]
    assert lines[0]["list_price"] == "2680.0000" and lines[0]["floor_price"] == "2000.0000"
    unknown = api.post(f"{BASE}/prices/resolve", {"customer_id": book.dealer.pk, "lines": [{"code": "NOPE"}]})
    assert unknown.status_code == 400
    assert unknown.json()["errors"] == {"lines.0": ["No specification has the code “NOPE”."]}
    # Another rep's customer is not found for this rep.
    other = api.post(f"{BASE}/prices/resolve", {"customer_id": book.other.pk, "lines": [{"code": "IS-50"}]})
    assert other.status_code == 404
    empty = api.post(f"{BASE}/prices/resolve", {"customer_id": book.dealer.pk, "lines": []})
    assert empty.status_code == 422


def test_specification_search_endpoint(api_client, team, book):
    found = api_client(team.rep1).get(f"{BASE}/specifications?q=IS-8").json()
    assert [r["code"] for r in found] == ["IS-80"]
