"""Two-factor sign-in: setting it up, the code step after the password, recovery codes, the policy."""

import re

import pytest
from django.test import Client

from kehu.users import security, totp
from kehu.users.models import CompanySettings, RecoveryCode, SignInEvent, TwoFactor, TwoFactorPolicy

PASSWORD = "kehu-test-pw"
LOGIN, CODE_STEP, ENROL_STEP = "/accounts/login/", "/accounts/sign-in/code/", "/accounts/sign-in/two-factor/"


def _policy(value):
    company = CompanySettings.load()
    company.two_factor_policy = value
    company.save()


@pytest.fixture(autouse=True)
def _nobody_required(db):
    """Each test states the policy it needs; by default nobody must (so the team signs in plainly)."""
    _policy(TwoFactorPolicy.NOBODY)


def _code(user, offset=0):
    """The code the person's app shows now (offset: one step later or earlier)."""
    secret = TwoFactor.objects.get(user=user).secret
    return totp.hotp(totp._key(secret), totp.step_at() + offset)


def _enrol(user) -> list[str]:
    security.two_factor_start(user=user)
    return security.two_factor_confirm(user=user, code=_code(user))


def _password(client, username, password=PASSWORD, next_url=""):
    data = {"username": username, "password": password}
    if next_url:
        data["next"] = next_url
    return client.post(LOGIN, data)


def _signed_in(client):
    return "_auth_user_id" in client.session


# ---- setting it up from one's own security page ----


def test_set_up_from_the_security_page_then_sign_in_with_a_code(client, team):
    client.force_login(team.rep1)
    page = client.get("/accounts/security/two-factor/")
    html = page.content.decode()
    assert page.status_code == 200
    # The QR code is inline SVG; no inline script or handler (the Content-Security-Policy allows none).
    assert "<svg" in html and not re.findall(r"<script(?![^>]*\bsrc=)", html) and "onclick" not in html
    secret = TwoFactor.objects.get(user=team.rep1).secret
    assert security.secret_for_typing(secret) in html
    assert TwoFactor.objects.get(user=team.rep1).confirmed_at is None

    # A reload shows the same secret (the app may have scanned it already).
    client.get("/accounts/security/two-factor/")
    assert TwoFactor.objects.get(user=team.rep1).secret == secret

    wrong = client.post("/accounts/security/two-factor/", {"code": "000000" if _code(team.rep1) != "000000" else "1"})
    assert wrong.status_code == 200 and "This code is not right" in wrong.content.decode()
    assert not security.two_factor_is_on(team.rep1)

    done = client.post("/accounts/security/two-factor/", {"code": _code(team.rep1)})
    codes = re.findall(r'<li class="col user-select-all">([a-z0-9]{5}-[a-z0-9]{5})</li>', done.content.decode())
    assert done.status_code == 200 and len(set(codes)) == 10
    assert security.two_factor_is_on(team.rep1)
    # Only keyed hashes are stored.
    stored = set(RecoveryCode.objects.filter(user=team.rep1).values_list("code_hash", flat=True))
    assert len(stored) == 10 and not {c.replace("-", "") for c in codes} & stored
    assert SignInEvent.objects.filter(user=team.rep1, result="two_factor_on").count() == 1
    # Set up once: the page now leads back to the security page.
    assert client.get("/accounts/security/two-factor/").url == "/accounts/security/"

    other = Client()
    first = _password(other, "rep1")
    assert (first.status_code, first.url) == (302, CODE_STEP)
    assert not _signed_in(other)  # the password alone does not sign in
    assert other.get("/customers/").status_code == 302
    done = other.post(CODE_STEP, {"code": _code(team.rep1, 1)})
    assert (done.status_code, done.url) == (302, "/")
    assert other.session["_auth_user_id"] == str(team.rep1.pk)
    event = SignInEvent.objects.filter(user=team.rep1, result="signed_in").latest("id")
    assert event.method == "code"


def test_a_wrong_code_keeps_the_session_signed_out(client, team):
    _enrol(team.rep1)
    _password(client, "rep1")
    right = _code(team.rep1, 1)
    response = client.post(CODE_STEP, {"code": "123456" if right != "123456" else "654321"})
    assert response.status_code == 200
    assert "This code is not right" in response.content.decode()
    assert not _signed_in(client)
    assert SignInEvent.objects.filter(user=team.rep1, result="code_failed").count() == 1


def test_a_code_works_once(client, team):
    _enrol(team.rep1)
    code = _code(team.rep1, 1)
    _password(client, "rep1")
    client.post(CODE_STEP, {"code": code})
    assert _signed_in(client)

    second = Client()
    _password(second, "rep1")
    response = second.post(CODE_STEP, {"code": code})
    assert "This code is not right" in response.content.decode()
    assert not _signed_in(second)
    # An older code than the last one accepted is refused as well.
    assert not second.post(CODE_STEP, {"code": _code(team.rep1, 0)}).wsgi_request.user.is_authenticated
    assert not _signed_in(second)


def test_the_code_used_to_switch_it_on_does_not_sign_in(client, team):
    security.two_factor_start(user=team.rep1)
    code = _code(team.rep1)
    security.two_factor_confirm(user=team.rep1, code=code)
    _password(client, "rep1")
    client.post(CODE_STEP, {"code": code})
    assert not _signed_in(client)


def test_a_recovery_code_signs_in_once(client, team):
    codes = _enrol(team.rep1)
    _password(client, "rep1")
    response = client.post(CODE_STEP, {"code": codes[3].upper().replace("-", " ")}, follow=True)
    assert _signed_in(client)
    assert "You signed in with a recovery code; it cannot be used again. 9 are left." in response.content.decode()
    assert SignInEvent.objects.filter(user=team.rep1, result="signed_in").latest("id").method == "recovery"

    again = Client()
    _password(again, "rep1")
    refused = again.post(CODE_STEP, {"code": codes[3]})
    assert "This code is not right" in refused.content.decode() and not _signed_in(again)
    again.post(CODE_STEP, {"code": codes[4]})
    assert _signed_in(again)
    assert security.recovery_codes_left(team.rep1) == 8


def test_five_wrong_codes_pause_the_code_step_even_for_the_right_code(client, team, settings):
    _enrol(team.rep1)
    _password(client, "rep1")
    right = _code(team.rep1, 1)
    wrong = "111111" if right != "111111" else "222222"
    for _attempt in range(4):
        assert client.post(CODE_STEP, {"code": wrong}).status_code == 200
    fifth = client.post(CODE_STEP, {"code": wrong})
    assert fifth.status_code == 429
    assert "Too many wrong codes; the code step is paused for 15 minutes." in fifth.content.decode()
    # A new session with the right password does not start the count again.
    fresh = Client()
    _password(fresh, "rep1")
    locked = fresh.post(CODE_STEP, {"code": right})
    assert locked.status_code == 429 and not _signed_in(fresh)
    results = list(SignInEvent.objects.filter(user=team.rep1).values_list("result", flat=True).order_by("id"))
    assert results[-5:] == ["code_failed"] * 4 + ["code_locked"]


def test_anonymous_visitors_cannot_reach_the_second_step(client, team):
    _enrol(team.rep1)
    for url in (CODE_STEP, ENROL_STEP):
        response = client.get(url)
        assert (response.status_code, response.url) == (302, LOGIN)
        response = client.post(url, {"code": "123456"})
        assert (response.status_code, response.url) == (302, LOGIN)
    assert not _signed_in(client)
    # A wrong password does not open it either.
    _password(client, "rep1", "wrong-password")
    assert client.get(CODE_STEP).url == LOGIN


def test_the_second_step_expires(client, team, monkeypatch):
    _enrol(team.rep1)
    _password(client, "rep1")
    session = client.session
    pending = session["kehu_pending_sign_in"]
    pending["at"] -= 16 * 60
    session["kehu_pending_sign_in"] = pending
    session.save()
    response = client.post(CODE_STEP, {"code": _code(team.rep1, 1)})
    assert (response.status_code, response.url) == (302, LOGIN)
    assert not _signed_in(client)


def test_the_next_page_survives_the_code_step(client, team):
    _enrol(team.rep1)
    _password(client, "rep1", next_url="/customers/")
    assert client.post(CODE_STEP, {"code": _code(team.rep1, 1)}).url == "/customers/"


def test_an_outside_next_page_is_not_followed(client, team):
    _enrol(team.rep1)
    _password(client, "rep1", next_url="https://evil.example/")
    assert client.post(CODE_STEP, {"code": _code(team.rep1, 1)}).url == "/"


# ---- the policy ----


def test_by_default_administrators_must_set_it_up_before_anything_else(client, team):
    _policy(TwoFactorPolicy.ADMINISTRATORS)
    assert CompanySettings._meta.get_field("two_factor_policy").default == TwoFactorPolicy.ADMINISTRATORS
    first = _password(client, "admin")
    assert (first.status_code, first.url) == (302, ENROL_STEP)
    assert not _signed_in(client)
    assert client.get("/accounts/users/").status_code == 302  # nothing else opens
    page = client.get(ENROL_STEP)
    assert "Your company requires a code from an authenticator app" in page.content.decode()
    done = client.post(ENROL_STEP, {"code": _code(team.admin)})
    assert done.status_code == 200 and "Your recovery codes" in done.content.decode()
    assert _signed_in(client) and security.two_factor_is_on(team.admin)
    assert 'href="/"' in done.content.decode()
    # A sales rep is not asked.
    rep = Client()
    _password(rep, "rep1")
    assert _signed_in(rep)


def test_everyone_policy_asks_a_rep_too(client, team):
    _policy(TwoFactorPolicy.EVERYONE)
    assert _password(client, "rep1").url == ENROL_STEP
    assert not _signed_in(client)


def test_nobody_policy_lets_an_administrator_in_with_the_password(client, team):
    _password(client, "admin")
    assert _signed_in(client)


def test_who_has_it_on_is_asked_whatever_the_policy(client, team):
    _enrol(team.rep1)
    assert _password(client, "rep1").url == CODE_STEP


def test_the_policy_is_a_company_setting(client, team):
    client.force_login(team.admin)
    page = client.get("/accounts/settings/")
    assert 'name="two_factor_policy"' in page.content.decode()
    client.post(
        "/accounts/settings/",
        {"company_name": "华星", "allow_self_registration": "on", "two_factor_policy": "everyone"},
    )
    assert CompanySettings.load().two_factor_policy == "everyone"
    client.force_login(team.manager1)
    assert client.post("/accounts/settings/", {"company_name": "x", "two_factor_policy": "nobody"}).status_code == 403
    assert CompanySettings.load().two_factor_policy == "everyone"


# ---- switching off, new recovery codes, an administrator's reset ----


def test_switching_off_needs_the_password_and_a_code(client, team):
    codes = _enrol(team.rep1)
    client.force_login(team.rep1)
    bad = client.post(
        "/accounts/security/", {"action": "disable", "off-password": "wrong", "off-code": _code(team.rep1, 1)}
    )
    assert "The password is not right." in bad.content.decode()
    bad = client.post("/accounts/security/", {"action": "disable", "off-password": PASSWORD, "off-code": "999999x"})
    assert "This code is not right." in bad.content.decode()
    assert security.two_factor_is_on(team.rep1)
    done = client.post("/accounts/security/", {"action": "disable", "off-password": PASSWORD, "off-code": codes[0]})
    assert done.url == "/accounts/security/"
    assert not TwoFactor.objects.filter(user=team.rep1).exists()
    assert not RecoveryCode.objects.filter(user=team.rep1).exists()
    assert _password(Client(), "rep1").url == "/"


def test_who_must_have_it_cannot_switch_it_off(client, team):
    _policy(TwoFactorPolicy.EVERYONE)
    _enrol(team.rep1)
    client.force_login(team.rep1)
    page = client.get("/accounts/security/")
    assert "cannot be switched off here" in page.content.decode()
    refused = client.post(
        "/accounts/security/", {"action": "disable", "off-password": PASSWORD, "off-code": _code(team.rep1, 1)}
    )
    assert "it cannot be switched off" in refused.content.decode()
    assert security.two_factor_is_on(team.rep1)


def test_new_recovery_codes_replace_the_old(client, team):
    old = _enrol(team.rep1)
    client.force_login(team.rep1)
    page = client.post("/accounts/security/", {"action": "renew", "renew-code": _code(team.rep1, 1)})
    new = re.findall(r">([a-z0-9]{5}-[a-z0-9]{5})<", page.content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    other = Client()
    _password(other, "rep1")
    other.post(CODE_STEP, {"code": old[0]})
    assert not _signed_in(other)
    other.post(CODE_STEP, {"code": new[0]})
    assert _signed_in(other)


def test_an_administrator_switches_someones_two_factor_off(client, team):
    _enrol(team.rep1)
    client.force_login(team.manager1)
    assert client.post(f"/accounts/users/{team.rep1.pk}/two-factor/reset/").status_code == 403
    assert security.two_factor_is_on(team.rep1)
    client.force_login(team.admin)
    assert "Switch two-factor sign-in off" in client.get(f"/accounts/users/{team.rep1.pk}/").content.decode()
    assert client.get(f"/accounts/users/{team.rep1.pk}/two-factor/reset/").status_code == 405
    client.post(f"/accounts/users/{team.rep1.pk}/two-factor/reset/")
    assert not security.two_factor_is_on(team.rep1)


def test_the_security_pages_need_a_sign_in(client, team):
    _enrol(team.rep1)
    for url in ("/accounts/security/", "/accounts/security/two-factor/", "/accounts/sign-in-log/"):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(LOGIN)
    posts = [
        ("/accounts/security/", {"action": "disable", "off-password": PASSWORD, "off-code": _code(team.rep1, 1)}),
        ("/accounts/security/two-factor/", {"code": "123456"}),
        (f"/accounts/users/{team.rep1.pk}/two-factor/reset/", {}),
    ]
    for url, data in posts:
        response = client.post(url, data)
        assert response.status_code == 302 and response.url.startswith(LOGIN)
    assert list(TwoFactor.objects.values_list("user__username", flat=True)) == ["rep1"]
    assert security.two_factor_is_on(team.rep1) and security.recovery_codes_left(team.rep1) == 10


# ---- the API ----

TOKEN_URL = "/api/v1/auth/token"


def _token(client, username, **extra):
    return client.post(
        TOKEN_URL, {"username": username, "password": PASSWORD, **extra}, content_type="application/json"
    )


def test_an_api_token_needs_the_code_when_two_factor_is_on(client, team):
    _enrol(team.rep1)
    missing = _token(client, "rep1")
    assert missing.status_code == 401 and "send the current code" in missing.json()["detail"]
    wrong = _token(client, "rep1", code="12345x")
    assert (wrong.status_code, wrong.json()) == (401, {"detail": "Wrong two-factor code.", "errors": {}})
    code = _code(team.rep1, 1)
    ok = _token(client, "rep1", code=code)
    assert ok.status_code == 200
    token = ok.json()["token"]
    assert client.get("/api/v1/customers/", headers={"authorization": f"Bearer {token}"}).status_code == 200
    assert _token(client, "rep1", code=code).status_code == 401  # used once
    assert SignInEvent.objects.filter(user=team.rep1, result="signed_in", method="api").count() == 1


def test_an_api_token_waits_for_the_required_set_up(client, team):
    _policy(TwoFactorPolicy.ADMINISTRATORS)
    response = _token(client, "admin")
    assert response.status_code == 403 and "Set up two-factor sign-in first" in response.json()["detail"]
    assert _token(client, "rep1").status_code == 200


def test_a_half_signed_in_session_does_not_open_the_api(client, team):
    _enrol(team.rep1)
    _password(client, "rep1")
    assert client.get("/api/v1/customers/").status_code == 401


def test_an_administrator_invited_sets_up_two_factor_before_signing_in(client, team):
    from kehu.users.services import invitation_create, invitation_link

    _policy(TwoFactorPolicy.ADMINISTRATORS)
    invitation = invitation_create(
        email="it@example.com", role="administrator", department=None, manager=None, actor=team.admin, base_url="/"
    )
    link = invitation_link(invitation, "http://testserver/")
    response = client.post(link, {"username": "itadmin", "password1": "It-admin-2026!", "password2": "It-admin-2026!"})
    assert (response.status_code, response.url) == (302, ENROL_STEP)
    assert not _signed_in(client)
