"""Visit plans, visit logs, check-in, the week plan and open commitments through /api/v1/activities (SAL-7)."""

from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone

from kehu.activities import services
from kehu.activities.events import ActivityEvent
from kehu.activities.models import Activity, ActivityKind
from kehu.core.models import AuditEntry
from kehu.customers.models import TimelineEntry
from kehu.customers.tests.permissions import build_world, db_state, matrix

URL = "/api/v1/activities"


def _monday():
    today = timezone.localdate()
    return today - timedelta(days=today.weekday())


def _at(day, hour=10):
    return timezone.make_aware(datetime.combine(day, datetime.min.time()).replace(hour=hour))


@pytest.fixture
def world(team):
    w = build_world(team)
    w.plan = services.visit_plan(
        customer=w.customer, actor=team.rep1, planned_for=_at(_monday() + timedelta(days=2)), subject="拜访技术部"
    )
    return w


def _state() -> dict:
    """Every row a write could touch, but the API token (it records when it was last used)."""
    return {k: v for k, v in db_state().items() if k != "tokens"}


def _api(api_client, team, actor):
    return api_client(None if actor == "anonymous" else getattr(team, actor))


# --- who may do what ----------------------------------------------------------------------------

ENDPOINTS = {
    "week": ("get", lambda w: f"{URL}/week?user_id={w.team.rep1.pk}", None, None),
    "commitments": ("get", lambda w: f"{URL}/commitments?user_id={w.team.rep1.pk}", None, None),
    "plan": (
        "post",
        lambda w: f"{URL}/visits",
        lambda w: {"customer_id": w.customer.pk, "planned_for": "2026-12-01T09:30:00+08:00", "subject": "回访"},
        lambda w: Activity.objects.filter(subject="回访", planned_for__isnull=False).exists(),
    ),
    "check-in": (
        "post",
        lambda w: f"{URL}/{w.plan.pk}/check-in",
        lambda w: {"latitude": 31.2989, "longitude": 120.5853, "accuracy": 20},
        lambda w: Activity.objects.get(pk=w.plan.pk).checked_in_at is not None,
    ),
    "visit-log": (
        "post",
        lambda w: f"{URL}/{w.plan.pk}/visit-log",
        lambda w: {"duration_minutes": 30, "content": "谈了", "outcome": "有意向", "next_step": "报价"},
        lambda w: Activity.objects.get(pk=w.plan.pk).is_done,
    ),
    "done": (
        "post",
        lambda w: f"{URL}/{w.commitment.pk}/done",
        lambda w: {},
        lambda w: Activity.objects.get(pk=w.commitment.pk).is_done,
    ),
    "undone": (
        "post",
        lambda w: f"{URL}/{w.commitment.pk}/undone",
        lambda w: {},
        lambda w: not Activity.objects.get(pk=w.commitment.pk).is_done,
    ),
}
HIDDEN = {"anonymous": 401, "rep2": 404, "rep3": 404, "manager2": 404}
EXPECTED = {
    "week": {**HIDDEN, "rep1": 200, "manager1": 200, "gm": 200},
    "commitments": {**HIDDEN, "rep1": 200, "manager1": 200, "gm": 200},
    "plan": {**HIDDEN, "rep1": 201, "manager1": 201, "service1": 201},
    "check-in": {**HIDDEN, "rep1": 200, "manager1": 200, "marketing1": 403},
    "visit-log": {**HIDDEN, "rep1": 200, "manager1": 200, "marketing1": 403},
    "done": {**HIDDEN, "rep1": 200, "manager1": 200, "gm": 200, "marketing1": 403},
    "undone": {**HIDDEN, "rep1": 200, "manager1": 200, "gm": 200, "marketing1": 403},
}


@pytest.mark.parametrize(("endpoint", "actor", "expected"), matrix(EXPECTED))
def test_visit_endpoints_answer_by_role(api_client, world, endpoint, actor, expected):
    method, url, data, effect = ENDPOINTS[endpoint]
    if endpoint == "undone":
        services.commitment_mark_done(activity=world.commitment, actor=world.team.rep1)
    api = _api(api_client, world.team, actor)
    before = _state()
    response = api.get(url(world)) if method == "get" else api.post(url(world), data(world))
    assert response.status_code == expected, response.content
    if method == "post":
        if expected < 300:
            assert effect(world)
        else:
            assert _state() == before
            assert "detail" in response.json()


# --- plan, check in, log ------------------------------------------------------------------------


def test_plan_check_in_and_log_a_visit(api_client, world):
    api = api_client(world.team.rep1)
    response = api.post(
        f"{URL}/visits",
        {
            "customer_id": world.customer.pk,
            "contact_id": world.contact.pk,
            "planned_for": "2026-12-01T09:30:00+08:00",
            "subject": "回访",
            "purpose": "介绍新品",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "visit" and body["purpose"] == "介绍新品" and body["contact_id"] == world.contact.pk
    assert body["planned_for"] and body["is_done"] is False
    pk = body["id"]

    response = api.post(f"{URL}/{pk}/check-in", {"latitude": 31.2989, "longitude": 120.5853, "accuracy": 35.4})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["checked_in_at"] and body["check_in_latitude"] == pytest.approx(31.2989)
    assert body["check_in_accuracy_m"] == 35
    assert TimelineEntry.objects.filter(kind=ActivityEvent.CHECK_IN, subject_id=pk).exists()

    response = api.post(
        f"{URL}/{pk}/visit-log",
        {"duration_minutes": 45, "content": "谈了新产线", "outcome": "同意试样", "next_step": "下周送样", "version": 1},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["is_done"] is True and body["outcome"] == "同意试样" and body["purpose"] == "介绍新品"
    assert body["occurred_at"] and body["version"] == 2
    entry = TimelineEntry.objects.get(kind=ActivityKind.VISIT, subject_id=pk)
    assert entry.payload["next_step"] == "下周送样"

    again = api.post(f"{URL}/{pk}/visit-log", {"outcome": "又来一次"})
    assert again.status_code == 400 and again.json()["errors"]


def test_check_in_without_position_keeps_the_time_only(api_client, world):
    response = api_client(world.team.rep1).post(f"{URL}/{world.plan.pk}/check-in", {})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["checked_in_at"] and body["check_in_latitude"] is None and body["check_in_accuracy_m"] is None


@pytest.mark.parametrize(
    "position",
    [
        {"latitude": 91, "longitude": 120},
        {"latitude": 31, "longitude": -180.5},
        {"latitude": 31},
        {"longitude": 120},
        {"accuracy": 10},
        {"latitude": 31, "longitude": 120, "accuracy": -1},
        {"latitude": "north", "longitude": 120},
    ],
)
def test_check_in_refuses_an_impossible_position(api_client, world, position):
    before = _state()
    response = api_client(world.team.rep1).post(f"{URL}/{world.plan.pk}/check-in", position)
    assert response.status_code == 422, response.content
    assert response.json()["detail"]
    assert _state() == before


def test_check_in_and_log_only_on_planned_visits(api_client, world):
    api = api_client(world.team.rep1)
    for path in ("check-in", "visit-log"):
        response = api.post(f"{URL}/{world.commitment.pk}/{path}", {})
        assert response.status_code == 400, response.content
        assert response.json()["errors"]["__all__"]


def test_visit_log_with_a_stale_version_is_409(api_client, world):
    api = api_client(world.team.rep1)
    services.activity_update(activity=world.plan, actor=world.team.rep1, expected_version=1, subject="改了")
    response = api.post(f"{URL}/{world.plan.pk}/visit-log", {"outcome": "好", "version": 1})
    assert response.status_code == 409, response.content
    assert Activity.objects.get(pk=world.plan.pk).is_done is False


def test_plan_needs_a_subject_and_a_sane_time(api_client, world):
    api = api_client(world.team.rep1)
    base = {"customer_id": world.customer.pk, "planned_for": "2026-12-01T09:30:00+08:00", "subject": "回访"}
    assert api.post(f"{URL}/visits", base | {"subject": "  "}).status_code == 422
    assert api.post(f"{URL}/visits", base | {"planned_for": "0001-01-01T00:00:00Z"}).status_code == 422
    assert api.post(f"{URL}/visits", {"customer_id": world.customer.pk, "subject": "回访"}).status_code == 422
    assert not Activity.objects.filter(subject="回访").exists()


def test_plan_with_another_customers_contact_is_refused(api_client, world, customer_of):
    other = customer_of(world.team.rep1, name="无锡新光电子")
    response = api_client(world.team.rep1).post(
        f"{URL}/visits",
        {
            "customer_id": other.pk,
            "contact_id": world.contact.pk,
            "planned_for": "2026-12-01T09:30:00+08:00",
            "subject": "回访",
        },
    )
    assert response.status_code == 400 and "contact" in response.json()["errors"]


# --- the week and the commitments ---------------------------------------------------------------


def test_week_plan_lists_the_days_of_one_person(api_client, world):
    services.activity_log(
        customer=world.customer,
        actor=world.team.rep1,
        kind="commitment",
        subject="送样品",
        due_on=_monday() + timedelta(days=4),
    )
    body = api_client(world.team.rep1).get(f"{URL}/week").json()
    assert body["user_id"] == world.team.rep1.pk
    assert body["start"] == _monday().isoformat() and body["end"] == (_monday() + timedelta(days=6)).isoformat()
    assert [d["day"] for d in body["days"]] == [(_monday() + timedelta(days=n)).isoformat() for n in range(7)]
    assert [a["subject"] for a in body["days"][2]["items"]] == ["拜访技术部"]
    assert "送样品" in [a["subject"] for a in body["days"][4]["items"]]
    assert "周五前报价" not in str(body)  # due in 2030
    later = api_client(world.team.rep1).get(f"{URL}/week?week=2030-01-10").json()
    assert later["start"] == "2030-01-07" and "周五前报价" in str(later)


def test_a_manager_reads_a_team_members_week_but_a_rep_only_their_own(api_client, world):
    team = world.team
    manager_view = api_client(team.manager1).get(f"{URL}/week?user_id={team.rep1.pk}").json()
    assert "拜访技术部" in str(manager_view) and manager_view["user_id"] == team.rep1.pk
    own = api_client(team.manager1).get(f"{URL}/week").json()
    assert own["user_id"] == team.manager1.pk and "拜访技术部" not in str(own)
    assert api_client(team.rep2).get(f"{URL}/week?user_id={team.rep1.pk}").status_code == 404
    assert api_client(team.manager2).get(f"{URL}/week?user_id={team.rep1.pk}").status_code == 404
    assert api_client(team.rep1).get(f"{URL}/week?user_id=99999999").status_code == 404
    assert api_client(team.rep1).get(f"{URL}/week?week=someday").status_code == 422


def test_open_commitments_are_due_first_and_flag_overdue(api_client, world):
    team = world.team
    overdue = services.activity_log(
        customer=world.customer, actor=team.rep1, kind="commitment", subject="补发资料", due_on=date(2026, 1, 5)
    )
    done = services.activity_log(
        customer=world.customer, actor=team.rep1, kind="commitment", subject="已寄", due_on=date(2026, 1, 6)
    )
    services.commitment_mark_done(activity=done, actor=team.rep1)
    body = api_client(team.rep1).get(f"{URL}/commitments").json()
    assert [(a["id"], a["overdue"]) for a in body["items"]] == [(overdue.pk, True), (world.commitment.pk, False)]
    assert body["count"] == 2 and body["items"][0]["customer_name"] == world.customer.name
    # a manager: their own (none), a member's, or the team's
    assert api_client(team.manager1).get(f"{URL}/commitments").json()["count"] == 0
    assert api_client(team.manager1).get(f"{URL}/commitments?user_id={team.rep1.pk}").json()["count"] == 2
    assert api_client(team.manager1).get(f"{URL}/commitments?team=true").json()["count"] == 2
    assert api_client(team.manager2).get(f"{URL}/commitments?team=true").json()["count"] == 0
    assert api_client(team.rep3).get(f"{URL}/commitments?team=true").json()["count"] == 0


def test_a_commitment_can_be_kept_and_reopened(api_client, world):
    api = api_client(world.team.rep1)
    pk = world.commitment.pk
    body = api.post(f"{URL}/{pk}/done").json()
    assert body["is_done"] is True and body["done_at"]
    assert TimelineEntry.objects.filter(kind=ActivityEvent.COMMITMENT_DONE, subject_id=pk).exists()
    body = api.post(f"{URL}/{pk}/undone", {"version": world.commitment.version}).json()
    assert body["is_done"] is False and body["done_at"] is None
    assert not TimelineEntry.objects.filter(kind=ActivityEvent.COMMITMENT_DONE, subject_id=pk).exists()
    assert AuditEntry.objects.filter(changes={"is_done": [True, False]}).count() == 1
    assert api.get(f"{URL}/commitments").json()["count"] == 1
    # PATCH is_done false reopens too
    api.post(f"{URL}/{pk}/done")
    assert api.patch(f"{URL}/{pk}", {"is_done": False}).json()["is_done"] is False


def test_only_commitments_are_kept_or_reopened(api_client, world):
    api = api_client(world.team.rep1)
    for action in ("done", "undone"):
        response = api.post(f"{URL}/{world.plan.pk}/{action}")
        assert response.status_code == 400, response.content
    assert api.post(f"{URL}/{world.commitment.pk}/done", {"version": 7}).status_code == 409
    assert Activity.objects.get(pk=world.commitment.pk).is_done is False


# --- the list's filters -------------------------------------------------------------------------


def test_list_filters_planned_only_and_a_date_range(api_client, world):
    api = api_client(world.team.rep1)
    planned = api.get(f"{URL}/?planned=true").json()
    assert [a["id"] for a in planned["items"]] == [world.plan.pk]
    day = (_monday() + timedelta(days=2)).isoformat()
    ranged = api.get(f"{URL}/?date_from={day}&date_to={day}").json()
    assert [a["id"] for a in ranged["items"]] == [world.plan.pk]
    assert api.get(f"{URL}/?date_from=2030-01-01").json()["count"] == 0
    response = api.get(f"{URL}/?date_from=2026-02-01&date_to=2026-01-01")
    assert response.status_code == 400 and "date_to" in response.json()["errors"]
    assert api.get(f"{URL}/?date_from=tomorrow").status_code == 422
