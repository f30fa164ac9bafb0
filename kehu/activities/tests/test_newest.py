"""The newest activities (the workspace's card and the activity list): the work of the people in the
user's scope, newest first, through the visibility filter — each person's read walks their own index."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kehu.activities.models import Activity
from kehu.activities.selectors import newest_activities
from kehu.core import pagination
from kehu.core.pagination import top_ids

NOW = timezone.now().replace(microsecond=0)
FIVE_MILLION_ACTIVITIES = {
    "activity_owner_idx": "5010510 1002102 1",
    "activity_owner_planned_idx": "5010510 1002102 128475",
    "activity_owner_commit_idx": "5010510 1002102 167017 131856 475",
    "activity_customer_idx": "5010510 6 1",
    "activity_customer_commit_idx": "5010510 6 2 2 2",
    "activity_check_in_flag_idx": "9 1",
    "activities_activity_owner_id_44d8a0b4": "5010510 1002102",
    "activities_activity_customer_id_3e7162d1": "5010510 6",
    "activities_activity_contact_id_313d1e34": "5010510 4",
    "activities_activity_deleted_by_id_19b0bfe8": "5010510 5010510",
}


def _log(customer, owner, subject, minutes_ago, kind="call", **extra):
    return Activity.objects.create(
        customer=customer,
        owner=owner,
        kind=kind,
        subject=subject,
        occurred_at=NOW - timedelta(minutes=minutes_ago),
        **extra,
    )


@pytest.fixture
def work(team, customer_of):
    east1, east2 = customer_of(team.rep1, name="苏州东一"), customer_of(team.rep2, name="苏州东二")
    south = customer_of(team.rep3, name="广州南一")
    return {
        "rep1 call": _log(east1, team.rep1, "rep1 call", 30),
        "rep1 visit": _log(east1, team.rep1, "rep1 visit", 10, kind="visit"),
        "rep2 call": _log(east2, team.rep2, "rep2 call", 20),
        "manager1 on rep1's": _log(east1, team.manager1, "manager1 on rep1's", 5),
        "rep3 call": _log(south, team.rep3, "rep3 call", 1),
        "rep1 deleted": _log(east1, team.rep1, "rep1 deleted", 0, deleted_at=NOW),
        # Same moment: the older row first (ties as the index holds them).
        "rep2 tie a": _log(east2, team.rep2, "rep2 tie a", 40),
        "rep2 tie b": _log(east2, team.rep2, "rep2 tie b", 40),
    }


def subjects(activities):
    return [a.subject for a in activities]


@pytest.mark.django_db
def test_a_rep_sees_their_own_work_newest_first(team, work):
    assert subjects(newest_activities(team.rep1, limit=10)) == ["rep1 visit", "rep1 call"]
    assert subjects(newest_activities(team.rep1, limit=10, kind="call")) == ["rep1 call"]


@pytest.mark.django_db
def test_a_manager_sees_the_teams_work_and_not_another_departments(team, work):
    assert subjects(newest_activities(team.manager1, limit=10)) == [
        "manager1 on rep1's",
        "rep1 visit",
        "rep2 call",
        "rep1 call",
        "rep2 tie a",
        "rep2 tie b",
    ]
    assert subjects(newest_activities(team.manager1, limit=3)) == ["manager1 on rep1's", "rep1 visit", "rep2 call"]


@pytest.mark.django_db
def test_the_whole_company_includes_people_who_left(team, work):
    team.rep3.is_active = False
    team.rep3.save(update_fields=["is_active"])
    assert subjects(newest_activities(team.gm, limit=2)) == ["rep3 call", "manager1 on rep1's"]


@pytest.mark.django_db
def test_the_list_page_shows_them_in_that_order(client, team, work):
    client.force_login(team.manager1)
    page = client.get("/activities/").content.decode()
    order = [page.index(s) for s in ("manager1 on rep1&#x27;s", "rep1 visit", "rep2 call", "rep1 call")]
    assert order == sorted(order) and "rep3 call" not in page and "rep1 deleted" not in page


@pytest.mark.django_db
def test_many_people_are_read_in_several_statements_and_merged(team, work, monkeypatch):
    monkeypatch.setattr(pagination, "PARTS_PER_STATEMENT", 2)  # 3 people in manager1's scope: 2 statements
    with CaptureQueriesContext(connection) as ctx:
        found = newest_activities(team.manager1, limit=4)
    assert subjects(found) == ["manager1 on rep1's", "rep1 visit", "rep2 call", "rep1 call"]
    statements = [q["sql"] for q in ctx.captured_queries if '"page"' in q["sql"]]
    assert ["UNION ALL" in sql for sql in statements] == [True, False]  # 2 people, then 1


@pytest.mark.django_db
def test_top_ids_cuts_after_the_offset(team, work):
    parts = [Activity.objects.filter(owner=person) for person in (team.rep1, team.rep2)]
    every = top_ids(parts, ("-occurred_at", "id"), offset=0, top=10)
    assert top_ids(parts, ("-occurred_at", "id"), offset=2, top=4) == every[2:4]


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "sqlite", reason="EXPLAIN QUERY PLAN is SQLite's")
def test_each_persons_newest_are_read_from_their_index_without_sorting_them(team, work):
    with connection.cursor() as cursor:  # the statistics of the million-customer data set
        cursor.execute("ANALYZE")
        cursor.execute("DELETE FROM sqlite_stat1 WHERE tbl = 'activities_activity'")
        cursor.executemany(
            "INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('activities_activity', %s, %s)",
            list(FIVE_MILLION_ACTIVITIES.items()),
        )
        cursor.execute("ANALYZE sqlite_schema")
    with CaptureQueriesContext(connection) as ctx:
        newest_activities(team.manager1, limit=10)
    union = next(q["sql"] for q in ctx.captured_queries if "UNION ALL" in q["sql"])
    with connection.cursor() as cursor:
        plan = "\n".join(str(row) for row in cursor.execute("EXPLAIN QUERY PLAN " + union).fetchall())
    assert plan.count("activity_owner_idx") == 3, plan
    assert plan.count("USE TEMP B-TREE") == 1, plan  # the ≤ 3×10 ids of the union only
