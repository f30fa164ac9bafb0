"""Only administrators manage webhooks, in the pages and in the API; denied writes change nothing (INT-4)."""

import pytest

from kehu.customers.tests.permissions import LOGIN, act_as, assert_status, matrix
from kehu.webhooks import services
from kehu.webhooks.models import WebhookDelivery, WebhookSubscription


@pytest.fixture
def sub(team):
    s = services.webhook_subscription_create(actor=team.admin, url="http://127.0.0.1:9/hook", events=["lead.created"])
    WebhookDelivery.objects.create(subscription=s, event="lead.created", payload={"lead_id": 1})
    # given up after its attempts; "retry now" sends it again (to a closed port here: it fails again)
    s.given_up = WebhookDelivery.objects.create(
        subscription=s, event="lead.created", payload={"lead_id": 2}, status="failed", attempts=6
    )
    return s


def state():
    return (
        list(WebhookSubscription.objects.order_by("pk").values()),
        list(WebhookDelivery.objects.order_by("pk").values()),
    )


VIEWS = {
    "list": ("get", lambda s: "/webhooks/", None),
    "create": (
        "post",
        lambda s: "/webhooks/",
        {"url": "https://example.org/h", "events": ["opportunity.won"], "is_active": "on"},
    ),
    "edit-get": ("get", lambda s: f"/webhooks/{s.pk}/", None),
    "edit": (
        "post",
        lambda s: f"/webhooks/{s.pk}/",
        {"url": "https://example.org/changed", "events": ["lead.created"]},
    ),
    "rotate": ("post", lambda s: f"/webhooks/{s.pk}/rotate-secret/", {}),
    "delete": ("post", lambda s: f"/webhooks/{s.pk}/delete/", {}),
    "deliveries": ("get", lambda s: "/webhooks/deliveries/", None),
    "retry": ("post", lambda s: f"/webhooks/deliveries/{s.given_up.pk}/retry/", {}),
}
DENIED = {"anonymous": LOGIN, "rep1": 403, "manager1": 403, "gm": 403}
EXPECTED = {name: {**DENIED, "admin": 302 if method == "post" else 200} for name, (method, _u, _d) in VIEWS.items()}


@pytest.mark.parametrize(("view", "actor", "expected"), matrix(EXPECTED))
def test_webhook_pages_are_for_administrators(client, team, sub, view, actor, expected):
    method, url, data = VIEWS[view]
    act_as(client, team, actor)
    before = state()
    response = getattr(client, method)(url(sub), data)
    assert_status(response, expected)
    if method == "post":
        assert (state() != before) == (expected == 302)


def test_the_delivery_log_shows_each_delivery(client, team, sub):
    client.force_login(team.admin)
    body = client.get("/webhooks/deliveries/").content.decode()
    assert "Lead created" in body and "lead.created" not in body and "http://127.0.0.1:9/hook" in body


API = {
    "list": ("get", lambda s: "/api/v1/webhooks/subscriptions", None),
    "create": (
        "post",
        lambda s: "/api/v1/webhooks/subscriptions",
        {"url": "https://example.org/h", "events": ["opportunity.lost"]},
    ),
    "read": ("get", lambda s: f"/api/v1/webhooks/subscriptions/{s.pk}", None),
    "update": ("patch", lambda s: f"/api/v1/webhooks/subscriptions/{s.pk}", {"is_active": False}),
    "delete": ("delete", lambda s: f"/api/v1/webhooks/subscriptions/{s.pk}", None),
    "deliveries": ("get", lambda s: "/api/v1/webhooks/deliveries", None),
    "retry": ("post", lambda s: f"/api/v1/webhooks/deliveries/{s.given_up.pk}/retry", {}),
}
API_EXPECTED = {
    name: {
        "anonymous": 401,
        "rep1": 403,
        "manager1": 403,
        "gm": 403,
        "admin": {"create": 201, "delete": 204}.get(name, 200),
    }
    for name in API
}


@pytest.mark.parametrize(("endpoint", "actor", "expected"), matrix(API_EXPECTED))
def test_webhook_api_is_for_administrators(api_client, team, sub, endpoint, actor, expected):
    method, url, data = API[endpoint]
    client = api_client(None if actor == "anonymous" else getattr(team, actor))
    before = state()
    response = getattr(client, method)(url(sub), data) if data is not None else getattr(client, method)(url(sub))
    assert response.status_code == expected, response.content
    assert (state() != before) == (method != "get" and expected < 300)


def test_the_api_refuses_a_non_http_url(api_client, team):
    response = api_client(team.admin).post(
        "/api/v1/webhooks/subscriptions", {"url": "file:///etc/passwd", "events": ["lead.created"]}
    )
    assert response.status_code in (400, 422)
    assert not WebhookSubscription.objects.exists()


def test_the_delivery_api_lists_the_log(api_client, team, sub):
    body = api_client(team.admin).get("/api/v1/webhooks/deliveries").json()
    assert body["count"] == 2 and body["items"][0]["event"] == "lead.created"


def test_the_pages_run_a_fixed_number_of_queries(client, team, sub, django_assert_max_num_queries):
    for n in range(30):
        other = services.webhook_subscription_create(
            actor=team.admin, url=f"https://example.com/{n}", events=["lead.created"]
        )
        WebhookDelivery.objects.create(subscription=other, event="lead.created", payload={"n": n})
    client.force_login(team.admin)
    for url in ("/webhooks/", "/webhooks/deliveries/"):
        with django_assert_max_num_queries(5):
            assert client.get(url).status_code == 200
