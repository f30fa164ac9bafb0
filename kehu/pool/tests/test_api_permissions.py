"""Every pool endpoint as anonymous / another rep / the owner / the manager / another manager /
the administrator / a user without pool rights; a refused write changes nothing."""

import pytest

from kehu.customers.models import Customer
from kehu.pool.services import handover_start
from kehu.pool.tests.world import build_pool_world, pool_db_state


@pytest.fixture
def world(team):
    w = build_pool_world(team)
    other = Customer.objects.create(name="另一家客户", owner=team.rep1)
    w.handover = handover_start(actor=team.manager1, customers=Customer.objects.filter(pk=other.pk), to_user=team.rep2)
    return w


ENDPOINTS = {
    "pools": ("get", lambda w: "/api/v1/pool/pools", None),
    "list": ("get", lambda w: "/api/v1/pool/customers", None),
    "claim": ("post", lambda w: f"/api/v1/pool/customers/{w.pooled.pk}/claim", lambda w: {}),
    "assign": (
        "post",
        lambda w: f"/api/v1/pool/customers/{w.pooled.pk}/assign",
        lambda w: {"user_id": w.team.rep2.pk},
    ),
    "release": ("post", lambda w: f"/api/v1/pool/customers/{w.owned.pk}/release", lambda w: {"reason": "转交"}),
    "handover": (
        "post",
        lambda w: "/api/v1/pool/handovers",
        lambda w: {"customer_ids": [w.owned.pk], "to_user_id": w.team.rep2.pk},
    ),
    "handover-read": ("get", lambda w: f"/api/v1/pool/handovers/{w.handover.pk}", None),
}
EXPECTED = {
    "pools": {"anonymous": 401, "service1": 403, "rep2": 200, "rep1": 200, "manager1": 200, "admin": 200},
    "list": {"anonymous": 401, "service1": 403, "rep2": 200, "rep1": 200, "manager1": 200, "admin": 200},
    "claim": {"anonymous": 401, "service1": 403, "marketing1": 403, "rep2": 200, "manager1": 200, "admin": 200},
    "assign": {"anonymous": 401, "service1": 403, "rep1": 403, "rep2": 403, "manager1": 200, "admin": 200},
    "release": {
        "anonymous": 401,
        "service1": 403,
        "marketing1": 403,
        "rep2": 404,
        "manager2": 404,
        "rep1": 200,
        "manager1": 200,
        "admin": 200,
    },
    "handover": {
        "anonymous": 401,
        "service1": 403,
        "rep1": 403,
        "rep2": 403,
        "manager2": 404,
        "manager1": 201,
        "admin": 201,
    },
    "handover-read": {"anonymous": 401, "rep1": 404, "rep3": 404, "manager2": 404, "rep2": 200, "manager1": 200},
}
CASES = [(e, a, s) for e, t in EXPECTED.items() for a, s in t.items()]


def call(api_client, world, endpoint, actor):
    method, url, data = ENDPOINTS[endpoint]
    api = api_client(None if actor == "anonymous" else getattr(world.team, actor))
    return getattr(api, method)(url(world), *([data(world)] if data else []))


@pytest.mark.parametrize(("endpoint", "actor", "expected"), CASES, ids=[f"{e}-{a}" for e, a, _ in CASES])
def test_pool_endpoint_answers_by_role(api_client, world, endpoint, actor, expected):
    before = pool_db_state()
    response = call(api_client, world, endpoint, actor)
    assert response.status_code == expected, response.content
    assert "detail" in response.json() or expected < 300
    if ENDPOINTS[endpoint][0] == "post" and expected >= 400:
        assert pool_db_state() == before
