"""POST/DELETE /api/v1/auth/token and bearer authentication."""

import pytest

from kehu.users.models import ApiToken, hash_token

TOKEN_URL = "/api/v1/auth/token"
PROBE_URL = "/api/v1/customers/"


@pytest.fixture
def login(client):
    def post(username, password="kehu-test-pw"):
        return client.post(TOKEN_URL, {"username": username, "password": password}, content_type="application/json")

    return post


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_right_credentials_give_a_token_that_works(team, login, client):
    response = login("rep1")
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"token"}
    assert body["token"]
    assert client.get(PROBE_URL, headers=bearer(body["token"])).status_code == 200


def test_wrong_password_is_401_with_detail(team, login):
    response = login("rep1", "not-the-password")
    assert response.status_code == 401
    assert response.json()["detail"]
    assert "token" not in response.json()


def test_unknown_user_is_401(team, login):
    response = login("nobody-here")
    assert response.status_code == 401
    assert response.json()["detail"]


def test_inactive_user_gets_no_token(team, login):
    team.rep2.is_active = False
    team.rep2.save()
    response = login("rep2")
    assert response.status_code == 401
    assert response.json()["detail"]
    assert not ApiToken.objects.filter(user=team.rep2).exists()


def test_token_of_a_deactivated_user_stops_working(team, api_client):
    api = api_client(team.rep2)
    assert api.get(PROBE_URL).status_code == 200
    team.rep2.is_active = False
    team.rep2.save()
    assert api.get(PROBE_URL).status_code == 401


def test_email_works_instead_of_username(team, login):
    response = login("rep1@example.com")
    assert response.status_code == 200, response.content
    token = ApiToken.objects.get(token_hash=hash_token(response.json()["token"]))
    assert token.user == team.rep1


def test_email_is_case_insensitive(team, login):
    assert login("REP1@Example.com").status_code == 200


def test_delete_revokes_the_token(team, login, client):
    raw = login("rep1").json()["token"]
    assert client.get(PROBE_URL, headers=bearer(raw)).status_code == 200
    response = client.delete(TOKEN_URL, headers=bearer(raw))
    assert response.status_code == 204
    response = client.get(PROBE_URL, headers=bearer(raw))
    assert response.status_code == 401
    assert response.json()["detail"]
    assert ApiToken.objects.get(token_hash=hash_token(raw)).revoked_at is not None


def test_revoking_one_token_leaves_the_others(team, login, client):
    first = login("rep1").json()["token"]
    second = login("rep1").json()["token"]
    assert client.delete(TOKEN_URL, headers=bearer(first)).status_code == 204
    assert client.get(PROBE_URL, headers=bearer(second)).status_code == 200


def test_delete_without_a_token_is_401(team, client):
    assert client.delete(TOKEN_URL).status_code == 401


def test_no_token_is_401(team, client):
    response = client.get(PROBE_URL)
    assert response.status_code == 401
    assert response.json()["detail"]


@pytest.mark.parametrize(
    "header",
    [
        "Bearer garbage",
        "Bearer kehu_" + "x" * 43,
        "Bearer " + "y" * 5000,
        "Basic cmVwMTprZWh1LXRlc3QtcHc=",
        "Bearer",
        "Token abc",
    ],
)
def test_garbage_token_is_401(team, client, header):
    response = client.get(PROBE_URL, headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json()["detail"]


def test_token_is_stored_hashed(team, login):
    raw = login("rep1").json()["token"]
    token = ApiToken.objects.get(user=team.rep1)
    assert token.token_hash != raw
    assert token.token_hash == hash_token(raw)
    for row in ApiToken.objects.values():
        assert raw not in [str(v) for v in row.values()]


def test_token_endpoint_refuses_bad_bodies(team, client):
    assert client.post(TOKEN_URL, {"username": "rep1"}, content_type="application/json").status_code == 422
    response = client.post(TOKEN_URL, "{not json", content_type="application/json")
    assert 400 <= response.status_code < 500
    response = client.post(
        TOKEN_URL, {"username": "rep1\x00", "password": "kehu-test-pw"}, content_type="application/json"
    )
    assert response.status_code == 422


def test_lockout_answers_in_the_api_error_format(team, login):
    # Bug: after too many failures django-axes swaps the API's JSON answer for its HTML lockout page.
    for _attempt in range(5):
        assert login("rep1", "not-the-password").status_code in (401, 403, 429)
    response = login("rep1")
    assert response.status_code in (403, 429)
    assert not ApiToken.objects.filter(user=team.rep1).exists()
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    assert response.json()["detail"]
