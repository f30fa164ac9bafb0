"""Customers through /api/v1/customers/: list, filters, create, read, patch, delete."""

from urllib.parse import quote

import pytest

from kehu.customers.models import Customer, TimelineEntry

URL = "/api/v1/customers/"
VALID_CREDIT_CODE = "91320505MA1XYW123R"


def names(response):
    assert response.status_code == 200, response.content
    return {item["name"] for item in response.json()["items"]}


def test_list_shape(team, customer_of, rep1_api):
    customer_of(team.rep1)
    body = rep1_api.get(URL).json()
    assert set(body) == {"items", "count", "count_is_capped", "has_next"}
    assert body["count"] == 1
    assert body["count_is_capped"] is False
    item = body["items"][0]
    assert item["name"] == "苏州华星精密机械有限公司"
    assert item["owner_id"] == team.rep1.pk
    assert item["version"] == 1
    assert "search_text" not in item
    assert "deleted_at" not in item


def test_pagination(team, customer_of, rep1_api):
    for i in range(7):
        customer_of(team.rep1, name=f"客户{i}号有限公司")
    first = rep1_api.get(URL + "?limit=3").json()
    assert first["count"] == 7
    assert len(first["items"]) == 3
    second = rep1_api.get(URL + "?limit=3&offset=3").json()
    third = rep1_api.get(URL + "?limit=3&offset=6").json()
    assert len(second["items"]) == 3 and len(third["items"]) == 1
    ids = [c["id"] for page in (first, second, third) for c in page["items"]]
    assert len(set(ids)) == 7
    beyond = rep1_api.get(URL + "?limit=3&offset=100").json()
    assert beyond["items"] == [] and beyond["count"] == 7


@pytest.mark.parametrize("query", ["limit=0", "limit=201", "offset=-1", "limit=abc", "offset=100001"])
def test_pagination_out_of_range_is_422(team, rep1_api, query):
    assert rep1_api.get(f"{URL}?{query}").status_code == 422


def test_default_page_is_25(team, customer_of, rep1_api):
    for i in range(27):
        customer_of(team.rep1, name=f"客户{i}")
    body = rep1_api.get(URL).json()
    assert body["count"] == 27 and len(body["items"]) == 25


@pytest.mark.parametrize("term", ["华星", "精密机", "苏州华星精密机械有限公司", "机械有限"])
def test_q_finds_chinese_substrings(team, customer_of, rep1_api, term):
    customer_of(team.rep1, name="苏州华星精密机械有限公司")
    customer_of(team.rep1, name="杭州东方纺织集团")
    assert names(rep1_api.get(f"{URL}?q={term}")) == {"苏州华星精密机械有限公司"}


def test_q_single_character_and_phone(team, customer_of, rep1_api):
    customer_of(team.rep1, name="苏州华星精密机械有限公司", phone="051268881234")
    customer_of(team.rep1, name="杭州东方纺织集团")
    assert names(rep1_api.get(f"{URL}?q=纺")) == {"杭州东方纺织集团"}
    assert names(rep1_api.get(f"{URL}?q=6888123")) == {"苏州华星精密机械有限公司"}
    assert names(rep1_api.get(f"{URL}?q=不存在的")) == set()


def test_q_finds_by_contact_name(team, customer_of, contact_of, rep1_api):
    customer = customer_of(team.rep1, name="苏州华星精密机械有限公司")
    customer_of(team.rep1, name="杭州东方纺织集团")
    contact_of(customer, name="欧阳建国")
    assert names(rep1_api.get(f"{URL}?q=欧阳建")) == {"苏州华星精密机械有限公司"}


def test_q_with_fts_syntax_is_harmless(team, customer_of, rep1_api):
    customer_of(team.rep1)
    for term in ['"', '华星"', "AND OR", "*", "NEAR(", "a'b", "%", "_", "华 星", "   ", "x" * 100]:
        response = rep1_api.get(f"{URL}?q={quote(term)}")
        assert response.status_code == 200, (term, response.content)


def test_filters(team, customer_of, rep1_api, api_client):
    customer_of(team.rep1, name="甲公司", tier="key", region="江苏", status="active")
    customer_of(team.rep1, name="乙公司", tier="ordinary", region="浙江", status="potential")
    customer_of(team.rep2, name="丙公司", tier="key", region="江苏", status="active")
    assert names(rep1_api.get(URL + "?tier=key")) == {"甲公司"}
    assert names(rep1_api.get(URL + "?region=浙江")) == {"乙公司"}
    assert names(rep1_api.get(URL + "?status=potential")) == {"乙公司"}
    manager = api_client(team.manager1)
    assert names(manager.get(URL + "?tier=key")) == {"甲公司", "丙公司"}
    assert names(manager.get(f"{URL}?owner={team.rep2.pk}")) == {"丙公司"}
    assert names(manager.get(f"{URL}?owner={team.rep2.pk}&tier=ordinary")) == set()
    assert names(manager.get(f"{URL}?region=江苏&status=active&tier=key")) == {"甲公司", "丙公司"}


def test_sort(team, customer_of, rep1_api):
    for name in ["b公司", "a公司", "c公司"]:
        customer_of(team.rep1, name=name)
    items = rep1_api.get(URL + "?sort=name").json()["items"]
    assert [c["name"] for c in items] == ["a公司", "b公司", "c公司"]
    assert rep1_api.get(URL + "?sort=nonsense").status_code == 200


def test_create(team, rep1_api):
    response = rep1_api.post(
        URL,
        {
            "name": "无锡华星精密机械有限公司",
            "tier": "key",
            "region": "江苏",
            "phone": "13812345678",
            "credit_code": VALID_CREDIT_CODE,
            "latitude": "31.5",
            "longitude": "120.3",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    customer = Customer.objects.get(pk=body["id"])
    assert customer.name == "无锡华星精密机械有限公司"
    assert customer.tier == "key"
    assert customer.owner == team.rep1
    assert customer.created_by == team.rep1
    assert body["phone"] == "13812345678"
    assert body["kind"] == "company" and body["status"] == "potential"
    assert body["version"] == 1
    assert TimelineEntry.objects.filter(customer=customer, kind="customer_created").exists()
    assert names(rep1_api.get(URL + "?q=华星精密")) == {"无锡华星精密机械有限公司"}


def test_manager_creates_for_a_rep_of_the_team(team, api_client):
    response = api_client(team.manager1).post(URL, {"name": "甲公司", "owner_id": team.rep2.pk})
    assert response.status_code == 201, response.content
    assert Customer.objects.get(pk=response.json()["id"]).owner == team.rep2


def test_rep_cannot_create_for_someone_else(team, rep1_api):
    response = rep1_api.post(URL, {"name": "甲公司", "owner_id": team.rep2.pk})
    assert response.status_code in (400, 404)
    assert not Customer.objects.filter(name="甲公司").exists()


def test_read(team, customer_of, rep1_api):
    customer = customer_of(team.rep1, phone="13812345678", notes="老客户")
    response = rep1_api.get(f"{URL}{customer.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == customer.pk
    assert body["phone"] == "13812345678"
    assert body["notes"] == "老客户"


def test_read_unknown_is_404(team, rep1_api):
    response = rep1_api.get(f"{URL}999999")
    assert response.status_code == 404
    assert response.json()["detail"]


def test_patch(team, customer_of, rep1_api):
    customer = customer_of(team.rep1, tier="prospect")
    response = rep1_api.patch(f"{URL}{customer.pk}", {"tier": "key", "name": "新名字有限公司", "version": 1})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["tier"] == "key" and body["name"] == "新名字有限公司" and body["version"] == 2
    customer.refresh_from_db()
    assert customer.tier == "key" and customer.name == "新名字有限公司" and customer.version == 2
    assert customer.region == ""
    assert names(rep1_api.get(URL + "?q=新名字")) == {"新名字有限公司"}


def test_patch_without_version_uses_the_current_one(team, customer_of, rep1_api):
    customer = customer_of(team.rep1)
    assert rep1_api.patch(f"{URL}{customer.pk}", {"city": "苏州"}).status_code == 200
    assert rep1_api.patch(f"{URL}{customer.pk}", {"city": "无锡"}).status_code == 200
    customer.refresh_from_db()
    assert customer.city == "无锡" and customer.version == 3


def test_patch_with_stale_version_is_409_and_changes_nothing(team, customer_of, rep1_api):
    customer = customer_of(team.rep1, tier="prospect")
    assert rep1_api.patch(f"{URL}{customer.pk}", {"city": "苏州", "version": 1}).status_code == 200
    response = rep1_api.patch(f"{URL}{customer.pk}", {"tier": "key", "name": "改坏了", "version": 1})
    assert response.status_code == 409, response.content
    assert response.json()["detail"]
    customer.refresh_from_db()
    assert (customer.tier, customer.name, customer.city, customer.version) == (
        "prospect",
        "苏州华星精密机械有限公司",
        "苏州",
        2,
    )


def test_patch_with_future_version_is_409(team, customer_of, rep1_api):
    customer = customer_of(team.rep1)
    assert rep1_api.patch(f"{URL}{customer.pk}", {"city": "苏州", "version": 7}).status_code == 409
    customer.refresh_from_db()
    assert customer.city == "" and customer.version == 1


def test_delete_moves_to_the_recycle_bin(team, customer_of, rep1_api):
    customer = customer_of(team.rep1)
    response = rep1_api.delete(f"{URL}{customer.pk}")
    assert response.status_code == 204
    customer.refresh_from_db()
    assert customer.deleted_at is not None
    assert customer.deleted_by == team.rep1
    assert rep1_api.get(f"{URL}{customer.pk}").status_code == 404
    assert rep1_api.patch(f"{URL}{customer.pk}", {"city": "苏州"}).status_code == 404
    assert rep1_api.delete(f"{URL}{customer.pk}").status_code == 404
    assert rep1_api.get(URL).json()["count"] == 0
    assert names(rep1_api.get(URL + "?q=华星")) == set()
    from kehu.customers.selectors import deleted_customers_for

    assert list(deleted_customers_for(team.rep1)) == [customer]
