"""Signing in: by username or email, and throttled after repeated failures (django-axes)."""

import pytest

PASSWORD = "kehu-test-pw"  # conftest's Team password
LOCKED = "Too many failed sign-in attempts"


def _login(client, username, password):
    return client.post("/accounts/login/", {"username": username, "password": password})


def _fail(client, username, times):
    for _ in range(times):
        _login(client, username, "wrong-password")


def test_right_password_signs_in(client, team):
    response = _login(client, "rep1", PASSWORD)
    assert (response.status_code, response.url) == (302, "/")
    assert client.session["_auth_user_id"] == str(team.rep1.pk)


def test_email_signs_in_like_the_username(client, team):
    _login(client, "REP1@example.com", PASSWORD)
    assert client.session["_auth_user_id"] == str(team.rep1.pk)


def test_wrong_password_shows_the_form_again(client, team):
    response = _login(client, "rep1", "wrong-password")
    assert response.status_code == 200
    assert response.context["form"].errors
    assert "_auth_user_id" not in client.session


def test_after_five_failures_the_right_password_is_refused(client, team):
    _fail(client, "rep1", 5)
    response = _login(client, "rep1", PASSWORD)
    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_fifth_failure_already_shows_the_lockout_page(client, team):
    _fail(client, "rep1", 4)
    response = _login(client, "rep1", "wrong-password")
    assert LOCKED in response.content.decode()


def test_four_failures_still_allow_the_right_password(client, team):
    _fail(client, "rep1", 4)
    _login(client, "rep1", PASSWORD)
    assert client.session["_auth_user_id"] == str(team.rep1.pk)


def test_lockout_is_per_username(client, team):
    _fail(client, "rep1", 5)
    _login(client, "rep2", PASSWORD)
    assert client.session["_auth_user_id"] == str(team.rep2.pk)


@pytest.mark.parametrize("path", ["/accounts/login/", "/accounts/password-reset/", "/accounts/register/"])
def test_public_pages_open_without_login(client, team, path):
    assert client.get(path).status_code == 200


def test_signed_in_user_visiting_login_goes_to_the_dashboard(client, team):
    client.force_login(team.rep1)
    response = client.get("/accounts/login/")
    assert (response.status_code, response.url) == (302, "/")


def test_the_lockout_page_uses_the_layout_and_leads_back(client, team, settings):
    from datetime import timedelta

    settings.AXES_COOLOFF_TIME = timedelta(minutes=30)
    _fail(client, "rep1", 5)
    response = _login(client, "rep1", PASSWORD)
    html = response.content.decode()
    assert response.status_code == 429
    assert '<html lang="en">' in html and "/static/kehu/kehu.css" in html
    assert "paused for 30 minutes" in html
    assert 'href="/accounts/password-reset/">Reset password</a>' in html
    assert 'href="/accounts/login/">Back to sign-in</a>' in html


def test_the_lockout_page_speaks_the_browsers_language(client, team):
    _fail(client, "rep1", 5)
    response = client.post(
        "/accounts/login/", {"username": "rep1", "password": PASSWORD}, headers={"accept-language": "zh-CN"}
    )
    html = response.content.decode()
    assert response.status_code == 429 and '<html lang="zh-hans">' in html
    assert "登录失败次数过多" in html and "返回登录" in html
