"""Who may use which activity page: list, edit, mark a commitment done, delete (SAL-7)."""

import pytest

from kehu.activities.models import Activity
from kehu.customers.tests.permissions import LOGIN, act_as, assert_status, build_world, db_state, matrix, writes


@pytest.fixture
def world(team):
    return build_world(team)


VIEWS = {
    "activity-edit-get": ("get", lambda w: f"/activities/{w.visit.pk}/edit/", None, None),
    "activity-edit": (
        "post",
        lambda w: f"/activities/{w.visit.pk}/edit/",
        lambda w: {
            "kind": "visit",
            "subject": "拜访采购部和技术部",
            "occurred_at": "2026-11-20T10:00",
            "version": w.visit.version,
        },
        lambda w: Activity.objects.get(pk=w.visit.pk).subject == "拜访采购部和技术部",
    ),
    "commitment-done": (
        "post",
        lambda w: f"/activities/{w.commitment.pk}/done/",
        lambda w: {},
        lambda w: Activity.objects.get(pk=w.commitment.pk).is_done,
    ),
    "activity-delete": (
        "post",
        lambda w: f"/activities/{w.visit.pk}/delete/",
        lambda w: {},
        lambda w: Activity.objects.get(pk=w.visit.pk).deleted_at is not None,
    ),
}
OWNED = {"anonymous": LOGIN, "rep3": 404, "manager2": 404}
EXPECTED = {
    # marketing1 may see activities but not change them: the edit form should not be offered.
    "activity-edit-get": {**OWNED, "rep1": 200, "manager1": 200, "gm": 200, "marketing1": 403},
    "activity-edit": {**OWNED, "rep1": 302, "manager1": 302, "gm": 302, "marketing1": 403},
    "commitment-done": {**OWNED, "rep1": 302, "manager1": 302, "gm": 302, "marketing1": 403},
    "activity-delete": {**OWNED, "rep1": 302, "manager1": 302, "gm": 302, "marketing1": 403},
}


@pytest.mark.parametrize(("view", "actor", "expected"), matrix(EXPECTED))
def test_activity_view_answers_by_role(client, world, view, actor, expected):
    method, url, data, _effect = VIEWS[view]
    act_as(client, world.team, actor)
    response = getattr(client, method)(url(world), data(world) if data else None)
    assert_status(response, expected)


DENIED, ALLOWED = writes(EXPECTED, VIEWS)


@pytest.mark.parametrize(("view", "actor", "expected"), DENIED)
def test_denied_activity_write_changes_nothing(client, world, view, actor, expected):
    _method, url, data, _effect = VIEWS[view]
    act_as(client, world.team, actor)
    before = db_state()
    assert_status(client.post(url(world), data(world)), expected)
    assert db_state() == before


@pytest.mark.parametrize(("view", "actor"), ALLOWED)
def test_allowed_activity_write_takes_effect(client, world, view, actor):
    _method, url, data, effect = VIEWS[view]
    act_as(client, world.team, actor)
    client.post(url(world), data(world))
    assert effect(world)


def test_activity_list_needs_login(client, world):
    assert_status(client.get("/activities/"), LOGIN)


LIST_SEES = {"rep3": False, "manager2": False, "rep1": True, "manager1": True, "gm": True, "marketing1": True}


@pytest.mark.parametrize(("actor", "sees"), list(LIST_SEES.items()), ids=list(LIST_SEES))
def test_activity_list_shows_activity_only_in_scope(client, world, actor, sees):
    act_as(client, world.team, actor)
    response = client.get("/activities/")
    assert response.status_code == 200
    assert ("拜访采购部" in response.content.decode()) is sees


REOPEN = {**OWNED, "rep2": 404, "rep1": 302, "manager1": 302, "gm": 302, "marketing1": 403}


@pytest.mark.parametrize(("actor", "expected"), list(REOPEN.items()), ids=list(REOPEN))
def test_reopening_a_kept_commitment_answers_by_role(client, world, actor, expected):
    from kehu.activities.services import commitment_mark_done

    commitment_mark_done(activity=world.commitment, actor=world.team.rep1)
    act_as(client, world.team, actor)
    before = db_state()
    response = client.post(f"/activities/{world.commitment.pk}/undone/", {"next": "/activities/"})
    assert_status(response, expected)
    if expected == 302:
        assert response.url == "/activities/"
        assert Activity.objects.get(pk=world.commitment.pk).is_done is False
    else:
        assert db_state() == before


def test_the_activity_list_offers_keep_and_reopen(client, world):
    from kehu.activities.services import commitment_mark_done

    client.force_login(world.team.rep1)
    body = client.get("/activities/").content.decode()
    assert f"/activities/{world.commitment.pk}/done/" in body
    commitment_mark_done(activity=world.commitment, actor=world.team.rep1)
    body = client.get("/activities/").content.decode()
    assert f"/activities/{world.commitment.pk}/undone/" in body


def test_a_foreign_next_address_is_not_followed(client, world):
    client.force_login(world.team.rep1)
    response = client.post(f"/activities/{world.commitment.pk}/done/", {"next": "//evil.example.com/"})
    assert response.status_code == 302 and "evil" not in response.url
