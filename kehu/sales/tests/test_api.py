import pytest

from kehu.sales.models import Opportunity, StageKind
from kehu.sales.tests.factories import make_opportunity, stage

BASE = "/api/v1/sales"


@pytest.fixture
def deal(team, customer_of):
    return make_opportunity(customer_of(team.rep1), team.rep1, name="华星 数控机床", amount="500000")


def test_pipelines_with_stages(api_client, team):
    response = api_client(team.rep1).get(f"{BASE}/pipelines")
    assert response.status_code == 200
    direct = response.json()[0]
    assert direct["code"] == "direct" and [s["name"] for s in direct["stages"]][-2:] == ["赢单", "输单"]


def test_only_admins_write_pipelines(api_client, team):
    assert api_client(team.manager1).post(f"{BASE}/pipelines", {"name": "项目", "code": "project"}).status_code == 403
    response = api_client(team.admin).post(f"{BASE}/pipelines", {"name": "项目", "code": "project"})
    assert response.status_code == 201
    pk = response.json()["id"]
    response = api_client(team.admin).post(f"{BASE}/pipelines/{pk}/stages", {"name": "立项", "probability": 20})
    assert response.status_code == 201 and response.json()["kind"] == "open"


def test_create_read_patch_move_delete(api_client, team, customer_of):
    customer = customer_of(team.rep1)
    api = api_client(team.rep1)
    response = api.post(
        f"{BASE}/opportunities",
        {"customer_id": customer.pk, "name": "注塑机", "amount": "350000.50", "expected_close_on": "2026-12-31"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    pk = body["id"]
    assert body["amount"] == "350000.50" and body["currency"] == "CNY" and body["probability"] == 10
    assert api.get(f"{BASE}/opportunities/{pk}").json()["name"] == "注塑机"
    response = api.patch(f"{BASE}/opportunities/{pk}", {"version": 1, "amount": "400000"})
    assert response.status_code == 200 and response.json()["version"] == 2
    stale = api.patch(f"{BASE}/opportunities/{pk}", {"version": 1, "name": "旧"})
    assert stale.status_code == 409
    no_reason = api.post(f"{BASE}/opportunities/{pk}/move", {"stage_id": stage("赢单").pk})
    assert no_reason.status_code == 400 and "reason" in no_reason.json()["errors"]
    won = api.post(f"{BASE}/opportunities/{pk}/move", {"stage_id": stage("赢单").pk, "reason": "交期", "version": 2})
    assert won.status_code == 200 and won.json()["status"] == StageKind.WON
    other = api.post(f"{BASE}/opportunities/{pk}/move", {"stage_id": stage("样品试用", "dealer").pk})
    assert other.status_code == 400
    listing = api.get(f"{BASE}/opportunities?status=won").json()
    assert [o["id"] for o in listing["items"]] == [pk]
    assert api.delete(f"{BASE}/opportunities/{pk}").status_code == 204
    assert api.get(f"{BASE}/opportunities/{pk}").status_code == 404


def test_bad_input_is_a_useful_400_or_422(api_client, team, customer_of):
    api = api_client(team.rep1)
    customer = customer_of(team.rep1)
    assert (
        api.post(f"{BASE}/opportunities", {"customer_id": customer.pk, "name": "x", "amount": "-1"}).status_code == 422
    )
    response = api.post(f"{BASE}/opportunities", {"customer_id": customer.pk, "name": "x", "owner_id": team.rep2.pk})
    assert response.status_code == 400 and "owner_id" in response.json()["errors"]
    other = customer_of(team.rep3, name="深圳客户")
    response = api.post(f"{BASE}/opportunities", {"customer_id": other.pk, "name": "x"})
    assert response.status_code == 400 and "customer_id" in response.json()["errors"]
    assert not Opportunity.objects.exists()


@pytest.mark.parametrize(
    ("who", "read", "write"),
    [("rep2", 404, 404), ("manager2", 404, 404), ("manager1", 200, 200), ("rep1", 200, 200), ("service1", 404, 404)],
)
def test_permission_matrix(api_client, team, deal, who, read, write):
    api = api_client(getattr(team, who))
    assert api.get(f"{BASE}/opportunities/{deal.pk}").status_code == read
    assert api.patch(f"{BASE}/opportunities/{deal.pk}", {"name": "改"}).status_code == write
    if write != 200:
        assert api.post(f"{BASE}/opportunities/{deal.pk}/move", {"stage_id": stage("需求确认").pk}).status_code == write
        assert api.delete(f"{BASE}/opportunities/{deal.pk}").status_code == write
        deal.refresh_from_db()
        assert deal.name == "华星 数控机床" and deal.version == 1 and deal.deleted_at is None


def test_anonymous_gets_401(api_client, deal):
    api = api_client()
    assert api.get(f"{BASE}/opportunities/{deal.pk}").status_code == 401
    assert api.delete(f"{BASE}/opportunities/{deal.pk}").status_code == 401
    assert Opportunity.objects.filter(pk=deal.pk, deleted_at__isnull=True).exists()


def test_candidates_and_assign(api_client, team, deal):
    url = f"{BASE}/opportunities/{deal.pk}"
    assert api_client(team.rep1).get(f"{url}/candidates").status_code == 403
    assert api_client(team.rep1).post(f"{url}/assign", {"user_id": team.rep2.pk}).status_code == 403
    assert api_client(team.manager2).post(f"{url}/assign", {"user_id": team.rep3.pk}).status_code == 404
    manager = api_client(team.manager1)
    ranked = manager.get(f"{url}/candidates").json()
    assert {c["username"] for c in ranked} == {"manager1", "rep1", "rep2"}
    assert ranked[0]["username"] == "rep1" and "owns this customer" in ranked[0]["reasons"]
    response = manager.post(f"{url}/assign", {"user_id": team.rep3.pk})
    assert response.status_code == 400 and "owner_id" in response.json()["errors"]
    response = manager.post(f"{url}/assign", {"user_id": team.rep2.pk})
    assert response.status_code == 200 and response.json()["owner_id"] == team.rep2.pk


def test_forecast_endpoint(api_client, team, deal):
    assert api_client(team.rep1).get(f"{BASE}/forecast?year=2030").status_code == 403
    body = api_client(team.manager1).get(f"{BASE}/forecast?year=2030").json()
    assert body["year"] == 2030 and len(body["team"]) == 12
    assert api_client(team.manager1).get(f"{BASE}/forecast?year=99999").status_code == 422
