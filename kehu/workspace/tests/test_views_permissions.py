"""Who may log an activity from the 360° page and open the dashboard."""

import pytest

from kehu.activities.models import Activity
from kehu.customers.tests.permissions import LOGIN, act_as, assert_status, build_world, db_state


@pytest.fixture
def world(team):
    return build_world(team)


LOG = {
    "anonymous": LOGIN,
    "rep3": 404,
    "manager2": 404,
    "rep1": 302,
    "manager1": 302,
    "gm": 302,
    "service1": 302,  # service logs service calls on any customer (ROLE_POLICY)
    "marketing1": 403,  # marketing reads customers and logs nothing on them
}
VISIT = {"kind": "call", "subject": "电话确认交期", "occurred_at": "2026-11-20T10:00"}


@pytest.mark.parametrize(("actor", "expected"), list(LOG.items()), ids=list(LOG))
def test_activity_log_answers_by_role(client, world, actor, expected):
    act_as(client, world.team, actor)
    assert_status(client.post(f"/customers/{world.customer.pk}/log/", VISIT), expected)


@pytest.mark.parametrize("actor", [a for a, e in LOG.items() if e != 302])
def test_denied_activity_log_changes_nothing(client, world, actor):
    act_as(client, world.team, actor)
    before = db_state()
    client.post(f"/customers/{world.customer.pk}/log/", VISIT)
    assert db_state() == before


@pytest.mark.parametrize("actor", [a for a, e in LOG.items() if e == 302])
def test_allowed_activity_log_creates_activity_by_actor(client, world, actor):
    act_as(client, world.team, actor)
    client.post(f"/customers/{world.customer.pk}/log/", VISIT)
    logged = Activity.objects.get(subject="电话确认交期")
    assert (logged.customer_id, logged.owner_id) == (world.customer.pk, getattr(world.team, actor).pk)


def test_activity_log_refuses_get(client, world):
    client.force_login(world.team.rep1)
    assert client.get(f"/customers/{world.customer.pk}/log/").status_code == 405


def test_dashboard_needs_login(client, world):
    assert_status(client.get("/"), LOGIN)


@pytest.mark.parametrize("actor", ["rep1", "rep3", "manager1", "gm", "marketing1"])
def test_dashboard_opens_for_every_signed_in_user(client, world, actor):
    act_as(client, world.team, actor)
    assert client.get("/").status_code == 200
