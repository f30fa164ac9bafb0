"""The pool API: list, claim, assign, release, handover; 401/403/404/409 with useful bodies."""

import pytest

from kehu.customers.models import Customer, TimelineEntry
from kehu.pool.events import PoolEvent
from kehu.pool.models import Handover
from kehu.pool.tests.world import build_pool_world, pool_db_state


@pytest.fixture
def world(team):
    return build_pool_world(team)


def test_pool_list_shows_customers_without_owner(world, api_client):
    response = api_client(world.team.rep2).get("/api/v1/pool/customers")
    assert response.status_code == 200
    body = response.json()
    assert {c["name"] for c in body["items"]} == {"无主客户有限公司", "退回公海的客户"}
    assert body["count"] == 2
    released = next(c for c in body["items"] if c["id"] == world.released.pk)
    assert released["previous_owner_id"] == world.team.rep1.pk


def test_pool_list_filters(world, api_client):
    api = api_client(world.team.rep2)
    assert api.get("/api/v1/pool/customers?tier=ordinary").json()["count"] == 1
    assert api.get(f"/api/v1/pool/customers?pool={world.pool.pk}").json()["count"] == 2
    assert api.get("/api/v1/pool/customers?region=江苏").json()["count"] == 0
    assert api.get("/api/v1/pool/customers?limit=500").status_code == 422


def test_pools_are_listed(world, api_client):
    body = api_client(world.team.rep1).get("/api/v1/pool/pools").json()
    assert body[0]["name"] == "华东公海"
    assert body[0]["followup_days_prospect"] == 30


def test_anonymous_and_users_without_pool_rights(world, api_client):
    assert api_client().get("/api/v1/pool/customers").status_code == 401
    assert api_client(world.team.service1).get("/api/v1/pool/customers").status_code == 403
    before = pool_db_state()
    assert api_client(world.team.service1).post(f"/api/v1/pool/customers/{world.pooled.pk}/claim").status_code == 403
    assert pool_db_state() == before


def test_claim(world, api_client):
    response = api_client(world.team.rep2).post(f"/api/v1/pool/customers/{world.pooled.pk}/claim")
    assert response.status_code == 200, response.content
    assert response.json()["owner_id"] == world.team.rep2.pk
    assert TimelineEntry.objects.filter(customer=world.pooled, kind=PoolEvent.POOL_CLAIMED).count() == 1


def test_claim_of_an_owned_customer(world, api_client):
    before = pool_db_state()
    # rep2 cannot see rep1's customer: 404. rep1 can: 409 with a reason.
    assert api_client(world.team.rep2).post(f"/api/v1/pool/customers/{world.owned.pk}/claim").status_code == 404
    response = api_client(world.team.rep1).post(f"/api/v1/pool/customers/{world.owned.pk}/claim")
    assert response.status_code == 409
    assert response.json()["code"] == "not_in_pool"
    assert api_client(world.team.rep1).post("/api/v1/pool/customers/999999/claim").status_code == 404
    assert pool_db_state() == before


def test_claim_limit_answers_409(world, api_client):
    world.pool.max_owned = 1
    world.pool.save()
    before = pool_db_state()
    response = api_client(world.team.rep1).post(f"/api/v1/pool/customers/{world.pooled.pk}/claim")
    assert response.status_code == 409
    assert response.json()["code"] == "max_owned"
    assert "1" in response.json()["detail"]
    assert pool_db_state() == before


def test_assign(world, api_client):
    api = api_client(world.team.manager1)
    before = pool_db_state()
    outside = api.post(f"/api/v1/pool/customers/{world.pooled.pk}/assign", {"user_id": world.team.rep3.pk})
    assert outside.status_code == 400
    assert "user_id" in outside.json()["errors"]
    assert api.post(f"/api/v1/pool/customers/{world.pooled.pk}/assign", {}).status_code == 422
    assert pool_db_state() == before
    response = api.post(f"/api/v1/pool/customers/{world.pooled.pk}/assign", {"user_id": world.team.rep2.pk})
    assert response.status_code == 200
    assert Customer.objects.get(pk=world.pooled.pk).owner == world.team.rep2


def test_reps_may_not_assign(world, api_client):
    before = pool_db_state()
    response = api_client(world.team.rep1).post(
        f"/api/v1/pool/customers/{world.pooled.pk}/assign", {"user_id": world.team.rep1.pk}
    )
    assert response.status_code == 403
    assert pool_db_state() == before


def test_release(world, api_client):
    before = pool_db_state()
    assert api_client(world.team.rep2).post(f"/api/v1/pool/customers/{world.owned.pk}/release").status_code == 404
    assert api_client(world.team.manager2).post(f"/api/v1/pool/customers/{world.owned.pk}/release").status_code == 404
    assert api_client(world.team.marketing1).post(f"/api/v1/pool/customers/{world.owned.pk}/release").status_code == 403
    assert pool_db_state() == before
    response = api_client(world.team.rep1).post(
        f"/api/v1/pool/customers/{world.owned.pk}/release", {"reason": "不再跟进"}
    )
    assert response.status_code == 200
    assert response.json()["owner_id"] is None
    entry = TimelineEntry.objects.get(customer=world.owned, kind=PoolEvent.POOL_RELEASED)
    assert "不再跟进" in entry.summary


def test_handover_by_ids_and_all_of_a_user(world, api_client, customer_of):
    api = api_client(world.team.manager1)
    other = customer_of(world.team.rep1, name="第二个客户")
    response = api.post("/api/v1/pool/handovers", {"customer_ids": [world.owned.pk], "to_user_id": world.team.rep2.pk})
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "done"
    assert Customer.objects.get(pk=world.owned.pk).owner == world.team.rep2
    assert Customer.objects.get(pk=other.pk).owner == world.team.rep1

    response = api.post("/api/v1/pool/handovers", {"from_user_id": world.team.rep1.pk, "to_user_id": None})
    assert response.status_code == 201
    assert response.json()["total"] == 1
    assert Customer.objects.get(pk=other.pk).owner is None
    handover_id = response.json()["id"]
    assert api.get(f"/api/v1/pool/handovers/{handover_id}").json()["done"] == 1
    assert api_client(world.team.rep3).get(f"/api/v1/pool/handovers/{handover_id}").status_code == 404


def test_handover_refusals_change_nothing(world, api_client):
    before = pool_db_state()
    rep = api_client(world.team.rep1)
    assert (
        rep.post(
            "/api/v1/pool/handovers", {"customer_ids": [world.owned.pk], "to_user_id": world.team.rep2.pk}
        ).status_code
        == 403
    )
    manager2 = api_client(world.team.manager2)
    assert (
        manager2.post(
            "/api/v1/pool/handovers", {"customer_ids": [world.owned.pk], "to_user_id": world.team.rep3.pk}
        ).status_code
        == 404
    )
    manager1 = api_client(world.team.manager1)
    outside = manager1.post(
        "/api/v1/pool/handovers", {"customer_ids": [world.owned.pk], "to_user_id": world.team.rep3.pk}
    )
    assert outside.status_code == 400
    assert "to_user_id" in outside.json()["errors"]
    assert manager1.post("/api/v1/pool/handovers", {"note": "没有客户"}).status_code == 400
    assert manager1.post("/api/v1/pool/handovers", {"customer_ids": ["x"]}).status_code == 422
    assert pool_db_state() == before
    assert Handover.objects.count() == 0
