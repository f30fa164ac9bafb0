"""The pages: the bell, the list, each person's choices (their own only) and the robots' pages
(administrators only). Denied writes change nothing."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kehu.customers.tests.permissions import LOGIN, act_as, assert_status, matrix
from kehu.notifications.models import Notification, Preference, Robot, RobotPost
from kehu.notifications.selectors import unread_count

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(team, robot_of):
    rep1_old = Notification.objects.create(recipient=team.rep1, kind="test_deal_won", summary="old one", link="/sales/")
    rep1_new = Notification.objects.create(
        recipient=team.rep1,
        kind="test_task_due",
        summary="Call 华星 back",
        link="/activities/tasks/",
        actor=team.manager1,
    )
    manager = Notification.objects.create(recipient=team.manager1, kind="test_deal_won", summary="for the manager")
    robot = robot_of("dingtalk", team.east, secret="SECabcdefghijklmnopqrstuvwxyz0123456789")
    post = RobotPost.objects.create(robot=robot, title="x", text="x", status="failed", attempts=8)
    return {"old": rep1_old, "new": rep1_new, "manager": manager, "robot": robot, "post": post}


def state():
    return (
        list(Notification.objects.order_by("pk").values()),
        list(Preference.objects.order_by("pk").values()),
        list(Robot.objects.order_by("pk").values()),
        list(RobotPost.objects.order_by("pk").values("pk", "status", "attempts")),
    )


OWN = {
    "list": ("get", lambda w: "/notifications/", None),
    "menu": ("get", lambda w: "/notifications/menu/", None),
    "read": ("post", lambda w: f"/notifications/{w['new'].pk}/read/", {}),
    "open": ("post", lambda w: f"/notifications/{w['new'].pk}/open/", {}),
    "read-all": ("post", lambda w: "/notifications/read-all/", {}),
    "preferences": ("get", lambda w: "/notifications/preferences/", None),
    "preferences-save": ("post", lambda w: "/notifications/preferences/", {"test_deal_won:email": "on"}),
}
# rep1 owns the notification; the others may use the pages but not touch rep1's rows.
OWN_EXPECTED = {
    "list": {"anonymous": LOGIN, "rep1": 200, "rep2": 200, "manager1": 200, "admin": 200},
    "menu": {"anonymous": LOGIN, "rep1": 200, "rep2": 200, "manager1": 200, "admin": 200},
    "read": {"anonymous": LOGIN, "rep1": 302, "rep2": 404, "manager1": 404, "admin": 404},
    "open": {"anonymous": LOGIN, "rep1": 302, "rep2": 404, "manager1": 404, "admin": 404},
    "read-all": {"anonymous": LOGIN, "rep1": 302, "rep2": 302, "manager1": 302, "admin": 302},
    "preferences": {"anonymous": LOGIN, "rep1": 200, "rep2": 200, "manager1": 200, "admin": 200},
    "preferences-save": {"anonymous": LOGIN, "rep1": 302, "rep2": 302, "manager1": 302, "admin": 302},
}


@pytest.mark.parametrize(("view", "actor", "expected"), matrix(OWN_EXPECTED))
def test_each_person_reads_and_marks_only_their_own(client, team, world, view, actor, expected):
    method, url, data = OWN[view]
    act_as(client, team, actor)
    before = state()
    response = getattr(client, method)(url(world), data)
    assert_status(response, expected)
    if view in ("read", "open") and expected != 302:
        assert state() == before
    if view == "read-all" and actor != "anonymous":
        # Only the actor's own rows were marked.
        read = set(Notification.objects.filter(read_at__isnull=False).values_list("recipient__username", flat=True))
        assert read <= {actor}
    if view == "list" and expected == 200:
        body = response.content.decode()
        assert ("Call 华星 back" in body) == (actor == "rep1")
        assert ("for the manager" in body) == (actor == "manager1")


def test_opening_marks_read_and_goes_to_what_it_is_about(client, team, world):
    client.force_login(team.rep1)
    response = client.post(f"/notifications/{world['new'].pk}/open/")
    assert response.url == "/activities/tasks/"
    world["new"].refresh_from_db()
    assert world["new"].read_at is not None
    assert Notification.objects.get(pk=world["old"].pk).read_at is None


def test_a_stored_link_that_leaves_kehu_is_not_followed(client, team):
    note = Notification.objects.create(recipient=team.rep1, kind="test_deal_won", link="//evil.example/")
    client.force_login(team.rep1)
    assert client.post(f"/notifications/{note.pk}/open/").url == "/notifications/"


def test_the_bell_shows_the_unread_count_capped(client, team):
    client.force_login(team.rep1)
    body = client.get("/").content.decode()
    assert '<span id="bell-count" class="badge bg-red text-red-fg badge-notification badge-pill d-none"></span>' in body
    Notification.objects.bulk_create([Notification(recipient=team.rep1, kind="test_deal_won") for _ in range(3)])
    assert 'title="3 unread">3</span>' in client.get("/").content.decode()
    Notification.objects.bulk_create([Notification(recipient=team.rep1, kind="test_deal_won") for _ in range(150)])
    assert 'title="99+ unread">99+</span>' in client.get("/").content.decode()
    assert unread_count(team.rep1) == 100


def test_the_bell_costs_one_query_that_reads_the_unread_index(team):
    Notification.objects.bulk_create([Notification(recipient=team.rep1, kind="test_deal_won") for _ in range(30)])
    with CaptureQueriesContext(connection) as queries:
        assert unread_count(team.rep1) == 30
    (query,) = queries.captured_queries
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN QUERY PLAN " + query["sql"])
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
        assert "notification_unread_idx" in plan, plan


def test_marking_read_with_htmx_updates_the_item_and_the_bell(client, team, world):
    client.force_login(team.rep1)
    response = client.post(f"/notifications/{world['new'].pk}/read/", headers={"HX-Request": "true"})
    body = response.content.decode()
    assert f'id="notification-{world["new"].pk}"' in body and "Mark read" not in body
    assert 'id="bell-count"' in body and 'hx-swap-oob="true"' in body and ">1</span>" in body


def test_mark_all_read_marks_only_what_the_page_showed(client, team, world):
    client.force_login(team.rep1)
    client.post("/notifications/read-all/", {"up_to": world["old"].pk})
    assert list(Notification.objects.filter(recipient=team.rep1, read_at__isnull=True)) == [world["new"]]
    client.post("/notifications/read-all/")
    assert unread_count(team.rep1) == 0


def test_the_list_pages_by_keyset_newest_first_in_a_fixed_number_of_queries(
    client, team, django_assert_max_num_queries
):
    Notification.objects.bulk_create(
        [
            Notification(recipient=team.rep1, kind="test_deal_won", summary=f"n{i:02d}", actor=team.manager1)
            for i in range(45)
        ]
    )
    client.force_login(team.rep1)
    with django_assert_max_num_queries(8):
        first = client.get("/notifications/").content.decode()
    assert "n44" in first and "n25" in first and "n24" not in first
    last_shown = Notification.objects.get(summary="n25").pk
    assert f"?before={last_shown}" in first
    more = client.get(f"/notifications/?before={last_shown}", headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in more and "n24" in more and "n05" in more and "n04" not in more
    unread_only = client.get("/notifications/?unread=1").content.decode()
    assert "n44" in unread_only


def test_choices_are_saved_and_defaults_leave_no_row(client, team):
    client.force_login(team.rep1)
    page = client.get("/notifications/preferences/").content.decode()
    assert 'name="test_deal_won:in_app" aria-label="Test deal won: In the app" checked' in page
    assert "test_quiet" not in page
    client.post("/notifications/preferences/", {"test_deal_won:email": "on", "test_task_due:in_app": "on"})
    mine = Preference.objects.filter(kind__in=["test_deal_won", "test_task_due"])  # the others: left unticked
    assert list(mine.values_list("user__username", "kind", "in_app", "email", "digest")) == [
        ("rep1", "test_deal_won", False, True, False)
    ]
    client.post("/notifications/preferences/", {"test_deal_won:in_app": "on", "test_task_due:in_app": "on"})
    assert mine.count() == 0


def test_the_profile_leads_to_the_preferences(client, team):
    client.force_login(team.rep1)
    assert 'href="/notifications/preferences/"' in client.get("/accounts/profile/").content.decode()


ROBOT_VIEWS = {
    "list": ("get", lambda w: "/notifications/robots/", None),
    "create": (
        "post",
        lambda w: "/notifications/robots/",
        {
            "name": "华东群",
            "platform": "wecom",
            "department": "",
            "webhook_url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc",
            "kinds": ["test_deal_won"],
            "is_active": "on",
        },
    ),
    "edit-get": ("get", lambda w: f"/notifications/robots/{w['robot'].pk}/", None),
    "edit": (
        "post",
        lambda w: f"/notifications/robots/{w['robot'].pk}/",
        {
            "name": "renamed",
            "platform": "dingtalk",
            "department": "",
            "webhook_url": "http://127.0.0.1:9/dingtalk?access_token=changed",
            "kinds": ["test_task_due"],
        },
    ),
    "test": ("post", lambda w: f"/notifications/robots/{w['robot'].pk}/test/", {}),
    "delete": ("post", lambda w: f"/notifications/robots/{w['robot'].pk}/delete/", {}),
    "retry": ("post", lambda w: f"/notifications/robots/messages/{w['post'].pk}/retry/", {}),
}
ROBOT_EXPECTED = {
    name: {
        "anonymous": LOGIN,
        "rep1": 403,
        "manager1": 403,
        "gm": 403,
        "admin": 302 if method == "post" else 200,
    }
    for name, (method, _u, _d) in ROBOT_VIEWS.items()
}


@pytest.mark.parametrize(("view", "actor", "expected"), matrix(ROBOT_EXPECTED))
def test_robot_pages_are_for_administrators(client, team, world, view, actor, expected):
    method, url, data = ROBOT_VIEWS[view]
    if data and "department" in data:
        data = {**data, "department": team.east.pk}
    act_as(client, team, actor)
    before = state()
    response = getattr(client, method)(url(world), data)
    assert_status(response, expected)
    if method == "post":
        assert (state() != before) == (expected == 302)


def test_the_robot_page_masks_the_secret_and_the_token(client, team, world):
    client.force_login(team.admin)
    body = client.get(f"/notifications/robots/{world['robot'].pk}/").content.decode()
    assert "SECabcdefghijklmnopqrstuvwxyz0123456789" not in body and "SECa••••89" in body
    assert world["robot"].webhook_url not in body and "access_token=••••" not in body
    assert "?acce••••" in body
    assert "IP allowlist" in body and "Keyword" in body and "Send a test message" in body


def test_saving_without_a_secret_keeps_it(client, team, world):
    client.force_login(team.admin)
    robot = world["robot"]
    client.post(
        f"/notifications/robots/{robot.pk}/",
        {
            "name": "renamed",
            "platform": "dingtalk",
            "department": team.east.pk,
            "webhook_url": robot.webhook_url,
            "kinds": ["test_deal_won"],
            "is_active": "on",
        },
    )
    robot.refresh_from_db()
    assert (robot.name, robot.secret) == ("renamed", "SECabcdefghijklmnopqrstuvwxyz0123456789")


def test_a_bad_robot_is_refused_with_reasons_and_nothing_saved(client, team):
    client.force_login(team.admin)
    response = client.post(
        "/notifications/robots/",
        {
            "name": "x",
            "platform": "wecom",
            "department": team.east.pk,
            "webhook_url": "ftp://x",
            "secret": "SECx",
            "kinds": ["test_deal_won"],
        },
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Only http:// and https:// addresses are accepted." in body
    assert "WeCom robots are not signed; leave the secret empty." in body
    assert Robot.objects.count() == 0


def test_the_test_button_posts_and_shows_the_result_in_the_log(client, team, world, receiver):
    client.force_login(team.admin)
    response = client.post(f"/notifications/robots/{world['robot'].pk}/test/", follow=True)
    body = response.content.decode()
    assert "The test message was delivered; look in the group chat." in body
    assert len(receiver.received) == 1 and "delivered" in body


def test_the_robot_pages_run_a_fixed_number_of_queries(client, team, world, robot_of, django_assert_max_num_queries):
    for n in range(20):
        robot = robot_of("wecom", team.south, token=f"t{n}")
        RobotPost.objects.create(robot=world["robot"], title=f"p{n}", text="x")
    client.force_login(team.admin)
    for url in ("/notifications/robots/", f"/notifications/robots/{world['robot'].pk}/"):
        with django_assert_max_num_queries(12):
            assert client.get(url).status_code == 200
    assert robot.pk
