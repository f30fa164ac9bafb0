"""Who may use which pool page: anonymous / other rep / owner / manager / other manager / admin,
and a denied write changes nothing."""

import pytest

from kehu.customers.models import Customer
from kehu.customers.tests.permissions import LOGIN, act_as, assert_status, matrix, writes
from kehu.pool.models import CustomerPoolState, Handover, Pool
from kehu.pool.services import handover_start
from kehu.pool.tests.world import build_pool_world, pool_db_state


@pytest.fixture
def world(team):
    w = build_pool_world(team)
    other = Customer.objects.create(name="另一家客户", owner=team.rep1, region="江苏")
    w.handover = handover_start(
        actor=team.manager1, customers=Customer.objects.filter(pk=other.pk), to_user=team.rep2, note="请尽快拜访"
    )
    return w


def owner(w, customer):
    return Customer.objects.get(pk=customer.pk).owner_id


POOL_FORM = {
    "name": "华南公海",
    "regions": "广东",
    "warn_days": 3,
    "followup_days_prospect": 15,
    "reclaim_cooldown_days": 0,
}
VIEWS = {
    "pool-list": ("get", lambda w: "/pool/", None, None),
    "pool-claim": (
        "post",
        lambda w: f"/pool/customers/{w.pooled.pk}/claim/",
        lambda w: {},
        lambda w, actor: owner(w, w.pooled) == getattr(w.team, actor).pk,
    ),
    "pool-assign": (
        "post",
        lambda w: f"/pool/customers/{w.pooled.pk}/assign/",
        lambda w: {"to_user": w.team.rep2.pk},
        lambda w, actor: owner(w, w.pooled) == w.team.rep2.pk,
    ),
    "customer-release": (
        "post",
        lambda w: f"/pool/customers/{w.owned.pk}/release/",
        lambda w: {"reason": "客户已转行"},
        lambda w, actor: owner(w, w.owned) is None,
    ),
    "customer-exempt": (
        "post",
        lambda w: f"/pool/customers/{w.owned.pk}/exempt/",
        lambda w: {"exempt_until": "2099-01-01", "exempt_reason": "正在投标"},
        lambda w, actor: CustomerPoolState.objects.filter(customer=w.owned, exempt_reason="正在投标").exists(),
    ),
    "pool-settings": ("get", lambda w: "/pool/settings/", None, None),
    "pool-create": (
        "post",
        lambda w: "/pool/settings/new/",
        lambda w: POOL_FORM,
        lambda w, actor: Pool.objects.filter(name="华南公海").exists(),
    ),
    "pool-edit": (
        "post",
        lambda w: f"/pool/settings/{w.pool.pk}/",
        lambda w: {**POOL_FORM, "name": "华东公海", "max_owned": 50},
        lambda w, actor: Pool.objects.get(pk=w.pool.pk).max_owned == 50,
    ),
    "handover-form": ("get", lambda w: "/pool/handover/", None, None),
    "handover-create": (
        "post",
        lambda w: "/pool/handover/",
        lambda w: {"scope": "one", "customer": w.owned.pk, "to_user": w.team.rep2.pk, "confirm": "1"},
        lambda w, actor: owner(w, w.owned) == w.team.rep2.pk,
    ),
    "handover-brief": ("get", lambda w: f"/pool/handover/{w.handover.pk}/", None, None),
}
NO_POOL = {"anonymous": LOGIN, "service1": 403, "marketing1": 403}
EXPECTED = {
    "pool-list": {**NO_POOL, "rep1": 200, "rep3": 200, "manager1": 200, "admin": 200},
    "pool-claim": {**NO_POOL, "rep1": 302, "rep3": 302, "manager1": 302, "admin": 302},
    "pool-assign": {**NO_POOL, "rep1": 403, "rep3": 403, "manager1": 302, "admin": 302},
    "customer-release": {**NO_POOL, "rep2": 404, "rep3": 404, "manager2": 404, "rep1": 302, "manager1": 302},
    "customer-exempt": {**NO_POOL, "rep1": 403, "rep2": 403, "manager2": 404, "manager1": 302, "admin": 302},
    "pool-settings": {**NO_POOL, "rep1": 403, "manager1": 403, "admin": 200},
    "pool-create": {**NO_POOL, "rep1": 403, "manager1": 403, "admin": 302},
    "pool-edit": {**NO_POOL, "rep1": 403, "manager1": 403, "admin": 302},
    "handover-form": {**NO_POOL, "rep1": 403, "rep2": 403, "manager1": 200, "admin": 200},
    "handover-create": {**NO_POOL, "rep1": 403, "rep2": 403, "manager1": 302, "admin": 302},
    "handover-brief": {
        "anonymous": LOGIN,
        "rep1": 404,
        "rep3": 404,
        "manager2": 404,
        "marketing1": 404,
        "rep2": 200,
        "manager1": 200,
        "gm": 200,
    },
}


@pytest.mark.parametrize(("view", "actor", "expected"), matrix(EXPECTED))
def test_pool_view_answers_by_role(client, world, view, actor, expected):
    method, url, data, _effect = VIEWS[view]
    act_as(client, world.team, actor)
    response = getattr(client, method)(url(world), data(world) if data else None)
    assert_status(response, expected)


DENIED, ALLOWED = writes(EXPECTED, VIEWS)


@pytest.mark.parametrize(("view", "actor", "expected"), DENIED)
def test_denied_pool_write_changes_nothing(client, world, view, actor, expected):
    _method, url, data, _effect = VIEWS[view]
    act_as(client, world.team, actor)
    before = pool_db_state()
    assert_status(client.post(url(world), data(world)), expected)
    assert pool_db_state() == before


@pytest.mark.parametrize(("view", "actor"), ALLOWED)
def test_allowed_pool_write_takes_effect(client, world, view, actor):
    _method, url, data, effect = VIEWS[view]
    act_as(client, world.team, actor)
    client.post(url(world), data(world))
    assert effect(world, actor)


def test_a_manager_cannot_assign_outside_their_team(client, world):
    client.force_login(world.team.manager2)
    before = pool_db_state()
    response = client.post(f"/pool/customers/{world.pooled.pk}/assign/", {"to_user": world.team.rep2.pk})
    assert response.status_code == 302
    assert pool_db_state() == before


def test_a_manager_cannot_hand_over_outside_their_scope(client, world):
    client.force_login(world.team.manager2)
    before = pool_db_state()
    response = client.post(
        "/pool/handover/", {"scope": "one", "customer": world.owned.pk, "to_user": world.team.rep3.pk, "confirm": "1"}
    )
    assert response.status_code == 200
    assert pool_db_state() == before
    assert Handover.objects.count() == 1


def test_claim_form_reports_a_limit(client, world):
    world.pool.max_owned = 1
    world.pool.save()
    client.force_login(world.team.rep1)
    response = client.post(f"/pool/customers/{world.pooled.pk}/claim/", {"next": "/pool/"}, follow=True)
    assert "the limit of pool 华东公海 is 1" in response.content.decode()
    assert owner(world, world.pooled) is None


def test_the_360_page_offers_release_and_handover_to_whom_it_applies(client, world):
    client.force_login(world.team.rep1)
    page = client.get(f"/customers/{world.owned.pk}/").content.decode()
    assert f"/pool/customers/{world.owned.pk}/release/" in page
    assert "/pool/handover/?customer=" not in page
    assert f"/pool/customers/{world.owned.pk}/exempt/" not in page
    client.force_login(world.team.manager1)
    page = client.get(f"/customers/{world.owned.pk}/").content.decode()
    assert f"/pool/handover/?customer={world.owned.pk}" in page
    assert f"/pool/customers/{world.owned.pk}/exempt/" in page
    client.force_login(world.team.marketing1)
    page = client.get(f"/customers/{world.owned.pk}/").content.decode()
    assert 'id="pool"' not in page


def test_navigation_shows_the_pool_to_pool_users_only(client, world):
    client.force_login(world.team.rep1)
    assert 'href="/pool/"' in client.get("/").content.decode()
    client.force_login(world.team.service1)
    assert 'href="/pool/"' not in client.get("/").content.decode()


def test_a_pool_customer_page_offers_claim_to_whom_may_open_it(client, world):
    client.force_login(world.team.gm)
    page = client.get(f"/customers/{world.pooled.pk}/").content.decode()
    assert f"/pool/customers/{world.pooled.pk}/claim/" in page
    client.force_login(world.team.rep1)
    assert client.get(f"/customers/{world.pooled.pk}/").status_code == 404
