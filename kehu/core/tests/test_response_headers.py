"""Headers every answer carries: the Content-Security-Policy, no caching of pages and API answers,
and a write to an address without its trailing slash kept a write (308), never turned into a GET."""

import pytest

pytestmark = pytest.mark.django_db

POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def test_the_sign_in_page_carries_the_policy_and_is_not_kept(client, team):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == POLICY
    # Django's sign-in view says never_cache itself; the middleware leaves a chosen header alone.
    assert response["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"


def test_a_signed_in_page_and_an_api_answer_are_not_kept(client, team, api_client):
    client.force_login(team.rep1)
    page = client.get("/customers/")
    assert (page.status_code, page["Cache-Control"]) == (200, "no-store, private")
    assert page["Content-Security-Policy"] == POLICY
    answer = api_client(team.rep1).get("/api/v1/customers/")
    assert (answer.status_code, answer["Cache-Control"]) == (200, "no-store, private")
    refused = api_client().get("/api/v1/customers/")
    assert (refused.status_code, refused["Cache-Control"]) == (401, "no-store, private")


def test_a_view_that_chose_its_own_caching_keeps_it(client, team):
    from kehu.activities import calendar

    raw = calendar.calendar_token_regenerate(user=team.rep1)
    response = client.get(f"/activities/calendar/{raw}.ics")
    assert (response.status_code, response["Cache-Control"]) == (200, "private, no-store")


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_a_write_without_the_trailing_slash_is_sent_on_as_the_same_write(client, team, method):
    client.force_login(team.rep1)
    response = getattr(client, method)("/customers/new?x=1", data={"name": "新客户"})
    assert (response.status_code, response["Location"]) == (308, "/customers/new/?x=1")
    api = getattr(client, method)("/api/v1/customers", data={}, content_type="application/json")
    assert (api.status_code, api["Location"]) == (308, "/api/v1/customers/")


def test_a_write_sent_on_arrives_whole(team, api_client):
    from kehu.customers.models import Customer

    client = api_client(team.rep1)
    first = client.post("/api/v1/customers", {"name": "杭州新禾电子有限公司"})
    assert first.status_code == 308
    second = client.post(first["Location"], {"name": "杭州新禾电子有限公司"})
    assert second.status_code == 201, second.content
    assert Customer.objects.filter(name="杭州新禾电子有限公司", owner=team.rep1).count() == 1


def test_a_read_without_the_trailing_slash_still_moves_to_the_page(client, team):
    client.force_login(team.rep1)
    response = client.get("/customers")
    assert (response.status_code, response["Location"]) == (301, "/customers/")


def test_an_address_that_is_nowhere_with_or_without_slash_answers_404(client, team):
    client.force_login(team.rep1)
    assert client.post("/no-such-place", {"a": 1}).status_code == 404
