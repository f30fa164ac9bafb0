"""The API under /api/v1/notifications: a person's own notifications and choices; 4xx with reasons."""

import pytest

from kehu.notifications.models import Notification, Preference

pytestmark = pytest.mark.django_db


@pytest.fixture
def notes(team):
    old = Notification.objects.create(recipient=team.rep1, kind="test_deal_won", summary="old", link="/sales/")
    new = Notification.objects.create(recipient=team.rep1, kind="test_task_due", summary="new", actor=team.manager1)
    theirs = Notification.objects.create(recipient=team.manager1, kind="test_deal_won", summary="theirs")
    return {"old": old, "new": new, "theirs": theirs}


def state():
    return list(Notification.objects.order_by("pk").values()), list(Preference.objects.order_by("pk").values())


API = {
    "list": ("get", lambda n: "/api/v1/notifications", None),
    "unread-count": ("get", lambda n: "/api/v1/notifications/unread-count", None),
    "read": ("post", lambda n: f"/api/v1/notifications/{n['new'].pk}/read", {}),
    "read-all": ("post", lambda n: "/api/v1/notifications/read-all", {}),
    "preferences": ("get", lambda n: "/api/v1/notifications/preferences", None),
    "preferences-put": (
        "put",
        lambda n: "/api/v1/notifications/preferences",
        {"preferences": [{"kind": "test_deal_won", "email": True}]},
    ),
}
EXPECTED = {
    "list": {"anonymous": 401, "rep1": 200, "rep2": 200, "manager1": 200, "admin": 200},
    "unread-count": {"anonymous": 401, "rep1": 200, "rep2": 200, "manager1": 200, "admin": 200},
    "read": {"anonymous": 401, "rep1": 200, "rep2": 404, "manager1": 404, "admin": 404},
    "read-all": {"anonymous": 401, "rep1": 200, "rep2": 200, "manager1": 200, "admin": 200},
    "preferences": {"anonymous": 401, "rep1": 200, "rep2": 200, "manager1": 200, "admin": 200},
    "preferences-put": {"anonymous": 401, "rep1": 200, "rep2": 200, "manager1": 200, "admin": 200},
}
CASES = [
    pytest.param(endpoint, actor, expected, id=f"{endpoint}-{actor}")
    for endpoint, table in EXPECTED.items()
    for actor, expected in table.items()
]


@pytest.mark.parametrize(("endpoint", "actor", "expected"), CASES)
def test_each_person_reaches_only_their_own(api_client, team, notes, endpoint, actor, expected):
    method, url, data = API[endpoint]
    client = api_client(None if actor == "anonymous" else getattr(team, actor))
    before = state()
    response = getattr(client, method)(url(notes), data) if data is not None else getattr(client, method)(url(notes))
    assert response.status_code == expected, response.content
    if expected >= 400:
        assert state() == before
    if endpoint == "list" and expected == 200:
        summaries = {i["summary"] for i in response.json()["items"]}
        assert summaries == {"rep1": {"old", "new"}, "manager1": {"theirs"}}.get(actor, set())
    if endpoint == "read-all" and expected == 200:
        read = set(Notification.objects.filter(read_at__isnull=False).values_list("recipient__username", flat=True))
        assert read == ({actor} if actor in ("rep1", "manager1") else set())


def test_the_list_pages_by_keyset_and_filters_unread(api_client, team, notes):
    client = api_client(team.rep1)
    first = client.get("/api/v1/notifications?limit=1").json()
    assert [i["summary"] for i in first["items"]] == ["new"]
    assert first["items"][0] == {
        "id": notes["new"].pk,
        "kind": "test_task_due",
        "kind_label": "Test task due",
        "summary": "new",
        "link": "",
        "actor_id": team.manager1.pk,
        "created_at": first["items"][0]["created_at"],
        "read_at": None,
    }
    second = client.get(f"/api/v1/notifications?limit=1&before={first['next_before']}").json()
    assert ([i["summary"] for i in second["items"]], second["next_before"]) == (["old"], None)
    client.post(f"/api/v1/notifications/{notes['new'].pk}/read")
    unread = client.get("/api/v1/notifications?unread=true").json()
    assert [i["summary"] for i in unread["items"]] == ["old"]
    assert client.get("/api/v1/notifications/unread-count").json() == {"count": 1, "count_is_capped": False}


def test_read_all_up_to_an_id(api_client, team, notes):
    body = api_client(team.rep1).post("/api/v1/notifications/read-all", {"up_to_id": notes["old"].pk}).json()
    assert body == {"updated": 1}
    assert list(Notification.objects.filter(recipient=team.rep1, read_at=None)) == [notes["new"]]


def test_the_unread_count_is_capped(api_client, team):
    Notification.objects.bulk_create([Notification(recipient=team.rep1, kind="test_deal_won") for _ in range(120)])
    assert api_client(team.rep1).get("/api/v1/notifications/unread-count").json() == {
        "count": 100,
        "count_is_capped": True,
    }


def test_preferences_show_defaults_and_change_only_what_is_given(api_client, team):
    client = api_client(team.rep1)
    rows = {r["kind"]: r for r in client.get("/api/v1/notifications/preferences").json()}
    assert rows["test_deal_won"] == {
        "kind": "test_deal_won",
        "label": "Test deal won",
        "in_app": True,
        "email": False,
        "digest": False,
    }
    assert "test_quiet" not in rows
    response = client.put(
        "/api/v1/notifications/preferences", {"preferences": [{"kind": "test_task_due", "digest": True}]}
    )
    changed = {r["kind"]: r for r in response.json()}
    assert (changed["test_task_due"]["in_app"], changed["test_task_due"]["digest"]) == (True, True)
    assert list(Preference.objects.values_list("kind", "in_app", "email", "digest")) == [
        ("test_task_due", True, False, True)
    ]


def test_an_unknown_kind_is_a_400_naming_it_and_changes_nothing(api_client, team):
    response = api_client(team.rep1).put(
        "/api/v1/notifications/preferences",
        {"preferences": [{"kind": "test_deal_won", "email": True}, {"kind": "no_such_kind", "email": True}]},
    )
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Invalid input.",
        "errors": {"kind": ["Unknown kind of event: no_such_kind."]},
    }
    assert Preference.objects.count() == 0


@pytest.mark.parametrize(
    "payload",
    [{"preferences": [{"kind": "test_deal_won", "email": "yes please"}]}, {"preferences": "all"}, {}],
)
def test_a_malformed_body_is_a_422(api_client, team, payload):
    response = api_client(team.rep1).put("/api/v1/notifications/preferences", payload)
    assert response.status_code == 422 and response.json()["detail"] == "Invalid input."


@pytest.mark.parametrize("path", ["/api/v1/notifications/0/read", "/api/v1/notifications/99999999999999999999/read"])
def test_a_bad_id_is_refused(api_client, team, path):
    assert api_client(team.rep1).post(path).status_code == 422


def test_the_list_runs_a_fixed_number_of_queries(api_client, team, django_assert_max_num_queries):
    Notification.objects.bulk_create(
        [Notification(recipient=team.rep1, kind="test_deal_won", actor=team.manager1) for _ in range(60)]
    )
    client = api_client(team.rep1)
    with django_assert_max_num_queries(6):
        assert len(client.get("/api/v1/notifications?limit=50").json()["items"]) == 50
