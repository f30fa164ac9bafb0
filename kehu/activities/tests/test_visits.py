"""Visit plans, check-in, visit log, the week view, the task list and birthday reminders (SAL-7, SAL-12)."""

from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone

from kehu.activities import selectors, services
from kehu.activities.events import ActivityEvent
from kehu.activities.models import Activity, ActivityKind
from kehu.customers.models import TimelineEntry
from kehu.customers.services import contact_create
from kehu.customers.tests.permissions import LOGIN, act_as, assert_status, build_world, db_state, matrix


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


def test_check_in_records_position_and_time_on_the_timeline(world):
    # Planned for today: no warning about the day (the customer has no address: no distance either).
    world.plan = services.visit_plan(
        customer=world.customer, actor=world.team.rep1, planned_for=timezone.now(), subject="拜访技术部"
    )
    services.visit_check_in(
        activity=world.plan, actor=world.team.rep1, latitude="31.298900", longitude="120.585300", accuracy="35.4"
    )
    plan = Activity.objects.get(pk=world.plan.pk)
    assert plan.checked_in_at is not None
    assert (str(plan.check_in_latitude), str(plan.check_in_longitude), plan.check_in_accuracy_m) == (
        "31.298900",
        "120.585300",
        35,
    )
    entry = TimelineEntry.objects.get(kind=ActivityEvent.CHECK_IN)
    assert entry.payload == {"latitude": "31.298900", "longitude": "120.585300", "accuracy_m": 35}


def test_check_in_without_position_keeps_the_time_only(world):
    services.visit_check_in(activity=world.plan, actor=world.team.rep1, latitude="abc", longitude=None)
    plan = Activity.objects.get(pk=world.plan.pk)
    assert plan.checked_in_at is not None and plan.check_in_latitude is None and plan.check_in_accuracy_m is None


def test_logging_a_visit_closes_the_plan_and_lands_on_the_timeline(world):
    services.visit_log_result(
        activity=world.plan,
        actor=world.team.rep1,
        duration_minutes=45,
        content="谈了新产线",
        outcome="同意试样",
        next_step="下周送样",
    )
    plan = Activity.objects.get(pk=world.plan.pk)
    assert plan.is_done and plan.outcome == "同意试样" and plan.next_step == "下周送样"
    entry = TimelineEntry.objects.filter(kind=ActivityKind.VISIT, subject_id=plan.pk).get()
    assert entry.payload["outcome"] == "同意试样" and entry.payload["duration_minutes"] == 45
    with pytest.raises(Exception):
        services.visit_log_result(activity=plan, actor=world.team.rep1)


def test_week_view_shows_plans_and_due_commitments_of_that_week(client, world):
    services.activity_log(
        customer=world.customer,
        actor=world.team.rep1,
        kind="commitment",
        subject="送样品",
        due_on=_monday() + timedelta(days=4),
    )
    client.force_login(world.team.rep1)
    body = client.get("/activities/week/").content.decode()
    assert "拜访技术部" in body and "送样品" in body
    assert "周五前报价" not in body  # due in 2030


def test_a_manager_sees_the_team_week_but_not_another_team(client, world):
    client.force_login(world.team.manager2)
    assert client.get(f"/activities/week/?user={world.team.rep1.pk}").status_code == 404
    assert "拜访技术部" not in client.get("/activities/week/").content.decode()
    client.force_login(world.team.manager1)
    assert "拜访技术部" in client.get(f"/activities/week/?user={world.team.rep1.pk}").content.decode()


def test_task_list_orders_commitments_by_due_date_and_flags_overdue(client, world):
    rep1 = world.team.rep1
    overdue = services.activity_log(
        customer=world.customer, actor=rep1, kind="commitment", subject="补发资料", due_on=date(2026, 1, 5)
    )
    client.force_login(rep1)
    response = client.get("/activities/tasks/")
    assert [a.pk for a in response.context["commitments"]] == [overdue.pk, world.commitment.pk]
    assert "overdue" in response.content.decode()


def test_birthdays_in_the_next_14_days_only_for_who_may_see_them(team, world):
    today = timezone.localdate()
    soon = contact_create(
        customer=world.customer, actor=team.rep1, name="李娜", birthday=(today + timedelta(days=3)).replace(year=1980)
    )
    contact_create(
        customer=world.customer, actor=team.rep1, name="王强", birthday=(today + timedelta(days=30)).replace(year=1980)
    )
    assert [c.pk for c in selectors.birthdays_upcoming(team.rep1)] == [soon.pk]
    assert [c.pk for c in selectors.birthdays_upcoming(team.manager1)] == [soon.pk]
    assert selectors.birthdays_upcoming(team.rep2) == []
    assert selectors.birthdays_upcoming(team.marketing1) == []  # sees customers, not their private file


def test_next_anniversary_of_a_leap_day():
    assert selectors.next_anniversary(date(1980, 2, 29), date(2027, 2, 1)) == date(2027, 2, 28)
    assert selectors.next_anniversary(date(1980, 1, 3), date(2026, 12, 30)) == date(2027, 1, 3)


def test_week_and_task_list_run_a_fixed_number_of_queries(client, world, django_assert_max_num_queries):
    for n in range(15):
        services.visit_plan(
            customer=world.customer, actor=world.team.rep1, planned_for=_at(_monday(), 8 + n % 8), subject=f"拜访{n}"
        )
        services.activity_log(
            customer=world.customer, actor=world.team.rep1, kind="commitment", subject=f"承诺{n}", due_on=_monday()
        )
    client.force_login(world.team.manager1)
    # Two of them read the account teams: the manager's own and what the people in the scope share;
    # one counts the unread notifications for the bell.
    with django_assert_max_num_queries(8):
        assert client.get("/activities/week/").status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get("/activities/tasks/?team=1").status_code == 200


VIEWS = {
    "week": ("get", lambda w: f"/activities/week/?user={w.team.rep1.pk}", None, None),
    "tasks": ("get", lambda w: f"/activities/tasks/?user={w.team.rep1.pk}", None, None),
    "plan-get": ("get", lambda w: f"/activities/plan/{w.customer.pk}/", None, None),
    "plan": (
        "post",
        lambda w: f"/activities/plan/{w.customer.pk}/",
        lambda w: {"planned_for": "2026-12-01T09:30", "subject": "回访", "purpose": "介绍新品"},
        lambda w: Activity.objects.filter(subject="回访").exists(),
    ),
    "visit-log-get": ("get", lambda w: f"/activities/{w.plan.pk}/visit/", None, None),
    "visit-log": (
        "post",
        lambda w: f"/activities/{w.plan.pk}/visit/",
        lambda w: {
            "purpose": "介绍新品",
            "duration_minutes": "30",
            "content": "谈了",
            "outcome": "有意向",
            "next_step": "报价",
        },
        lambda w: Activity.objects.get(pk=w.plan.pk).is_done,
    ),
    "check-in": (
        "post",
        lambda w: f"/activities/{w.plan.pk}/check-in/",
        lambda w: {"latitude": "31.2", "longitude": "120.5", "accuracy": "20"},
        lambda w: Activity.objects.get(pk=w.plan.pk).checked_in_at is not None,
    ),
}
HIDDEN = {"anonymous": LOGIN, "rep3": 404, "manager2": 404}
EXPECTED = {
    "week": {**HIDDEN, "rep2": 404, "rep1": 200, "manager1": 200, "gm": 200},
    "tasks": {**HIDDEN, "rep2": 404, "rep1": 200, "manager1": 200, "gm": 200},
    "plan-get": {**HIDDEN, "rep2": 404, "rep1": 200, "manager1": 200, "service1": 200},
    "plan": {**HIDDEN, "rep2": 404, "rep1": 302, "manager1": 302, "service1": 302},
    "visit-log-get": {**HIDDEN, "rep2": 404, "rep1": 200, "manager1": 200, "marketing1": 403},
    "visit-log": {**HIDDEN, "rep2": 404, "rep1": 302, "manager1": 302, "marketing1": 403},
    "check-in": {**HIDDEN, "rep2": 404, "rep1": 302, "manager1": 302, "marketing1": 403},
}


@pytest.mark.parametrize(("view", "actor", "expected"), matrix(EXPECTED))
def test_visit_views_answer_by_role(client, world, view, actor, expected):
    method, url, data, effect = VIEWS[view]
    act_as(client, world.team, actor)
    before = db_state()
    response = getattr(client, method)(url(world), data(world) if data else None)
    assert_status(response, expected)
    if method == "post":
        if expected == 302:
            assert effect(world)
        else:
            assert db_state() == before


def test_the_dashboard_shows_upcoming_birthdays_in_their_own_block(client, team, world):
    birthday = (timezone.localdate() + timedelta(days=1)).replace(year=1980)
    contact_create(customer=world.customer, actor=team.rep1, name="赵敏", birthday=birthday)
    client.force_login(team.rep1)
    assert 'id="care-reminders"' in client.get("/").content.decode()
    client.force_login(team.rep2)
    assert "赵敏" not in client.get("/").content.decode()


def test_editing_a_logged_visit_keeps_its_check_in_on_the_timeline(world):
    rep1 = world.team.rep1
    services.visit_check_in(activity=world.plan, actor=rep1)
    visit = services.visit_log_result(activity=Activity.objects.get(pk=world.plan.pk), actor=rep1, outcome="好")
    services.activity_update(activity=visit, actor=rep1, expected_version=visit.version, subject="拜访技术部和采购部")
    kinds = sorted(
        TimelineEntry.objects.filter(subject_id=visit.pk, subject_type="activities.activity").values_list(
            "kind", flat=True
        )
    )
    assert kinds == [ActivityEvent.CHECK_IN, ActivityKind.VISIT]


def test_the_api_shows_the_visit_fields(api_client, world):
    body = api_client(world.team.rep1).get(f"/api/v1/activities/{world.plan.pk}").json()
    assert body["planned_for"] is not None and body["checked_in_at"] is None and body["outcome"] == ""


def test_a_bad_week_parameter_keeps_the_chosen_person(client, world):
    client.force_login(world.team.manager1)
    response = client.get(f"/activities/week/?user={world.team.rep2.pk}&week=not-a-date")
    assert response.status_code == 200 and response.context["person"] == world.team.rep2


@pytest.mark.parametrize("week", ["9999-12-31", "0001-01-01", "2026-02-30", "abc", "3000-01-01"])
def test_a_week_kehu_cannot_show_falls_back_to_this_week_with_a_warning(client, world, week):
    client.force_login(world.team.rep1)
    response = client.get(f"/activities/week/?week={week}")
    assert response.status_code == 200
    assert response.context["start"] == _monday()
    assert [str(m) for m in response.context["messages"]] == [
        f"“{week}” is not a date Kehu can show; showing {timezone.localdate().isoformat()} instead."
    ]
