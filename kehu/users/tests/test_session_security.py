"""Sessions end after inactivity and after their lifetime; cookies and HSTS follow HTTPS; the password rule."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from kehu.users.models import SignInEvent
from kehu.users.security import LAST_SEEN, SIGNED_IN_AT


def _shift(client, key, seconds):
    session = client.session
    session[key] = session[key] - seconds
    session.save()


def _session_writes(queries) -> list[str]:
    return [q["sql"] for q in queries if "django_session" in q["sql"] and not q["sql"].lstrip().startswith("SELECT")]


def test_an_idle_session_is_signed_out_with_a_message(client, team, settings):
    settings.KEHU_SESSION_IDLE_MINUTES = 120
    client.force_login(team.rep1)
    assert client.get("/customers/").status_code == 200
    _shift(client, LAST_SEEN, 121 * 60)
    response = client.get("/customers/")
    assert (response.status_code, response.url) == (302, "/accounts/login/?next=/customers/")
    assert "_auth_user_id" not in client.session
    page = client.get(response.url)
    assert "You were signed out after 120 minutes without activity. Please sign in again." in page.content.decode()
    assert SignInEvent.objects.filter(user=team.rep1, result="timed_out").count() == 1


def test_an_idle_htmx_request_sends_the_whole_page_to_sign_in(client, team, settings):
    settings.KEHU_SESSION_IDLE_MINUTES = 120
    client.force_login(team.rep1)
    client.get("/accounts/ping/")
    _shift(client, LAST_SEEN, 121 * 60)
    response = client.get(
        "/customers/",
        headers={"hx-request": "true", "hx-current-url": "http://testserver/customers/?q=%E5%8D%8E"},
    )
    assert response.status_code == 200 and response.content == b""
    assert response.headers["HX-Redirect"] == "/accounts/login/?next=%2Fcustomers%2F"
    assert "_auth_user_id" not in client.session


def test_activity_keeps_the_session_and_the_stamp_is_written_at_most_once_a_minute(client, team, settings):
    settings.KEHU_SESSION_IDLE_MINUTES = 120
    client.force_login(team.rep1)
    client.get("/accounts/ping/")
    seen = client.session[LAST_SEEN]
    with CaptureQueriesContext(connection) as queries:
        for _request in range(3):
            assert client.get("/accounts/ping/").status_code == 200
    assert _session_writes(queries.captured_queries) == []
    assert client.session[LAST_SEEN] == seen
    _shift(client, LAST_SEEN, 119 * 60)  # idle for almost two hours: still in
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/accounts/ping/").status_code == 200
    assert len(_session_writes(queries.captured_queries)) == 1
    assert client.session[LAST_SEEN] >= seen


def test_a_session_ends_after_its_lifetime_however_busy(client, team, settings):
    settings.SESSION_COOKIE_AGE = 14 * 24 * 3600
    client.force_login(team.rep1)
    client.get("/accounts/ping/")
    _shift(client, SIGNED_IN_AT, 14 * 24 * 3600 + 5)
    response = client.get("/accounts/ping/")
    assert response.status_code == 302 and "_auth_user_id" not in client.session
    assert "Your session has ended; please sign in again." in client.get(response.url).content.decode()


def test_no_idle_limit_when_set_to_zero(client, team, settings):
    settings.KEHU_SESSION_IDLE_MINUTES = 0
    client.force_login(team.rep1)
    client.get("/accounts/ping/")
    _shift(client, LAST_SEEN, 30 * 24 * 3600)
    assert client.get("/accounts/ping/").status_code == 200


def test_the_idle_message_speaks_chinese(client, team, settings):
    settings.KEHU_SESSION_IDLE_MINUTES = 30
    client.force_login(team.rep1)
    client.get("/accounts/ping/")
    _shift(client, LAST_SEEN, 31 * 60)
    response = client.get("/customers/", headers={"accept-language": "zh-CN"}, follow=True)
    assert "30 分钟" in response.content.decode()


# ---- settings read from the environment ----

ROOT = Path(__file__).resolve().parents[3]
PRINT = (
    "import django, json, os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings'; django.setup();"
    "from django.conf import settings as s;"
    "print(json.dumps([s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_SAMESITE,"
    " s.SECURE_HSTS_SECONDS, s.KEHU_SESSION_IDLE_MINUTES,"
    " [v.get('OPTIONS', {}).get('min_length') for v in s.AUTH_PASSWORD_VALIDATORS if 'MinimumLength' in v['NAME']][0]]))"
)


def _settings_with(tmp_path, *envs):
    """The settings each environment gives (the processes run side by side)."""
    processes = []
    for env in envs:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("KEHU_")}
        clean.update({"KEHU_SECRET_KEY": "test", "KEHU_VAR_DIR": str(tmp_path), **env})
        processes.append(
            subprocess.Popen([sys.executable, "-c", PRINT], cwd=ROOT, env=clean, stdout=subprocess.PIPE, text=True)
        )
    return [json.loads(p.communicate(timeout=60)[0]) for p in processes]


def test_cookies_and_hsts_follow_the_https_proxy_setting(tmp_path):
    plain, behind_https, hsts_without_https, cookies_off = _settings_with(
        tmp_path,
        {},
        {"KEHU_BEHIND_HTTPS_PROXY": "1", "KEHU_HSTS_SECONDS": "31536000"},
        {"KEHU_HSTS_SECONDS": "3600", "KEHU_SESSION_IDLE_MINUTES": "30", "KEHU_PASSWORD_MIN_LENGTH": "12"},
        {"KEHU_BEHIND_HTTPS_PROXY": "1", "KEHU_SECURE_COOKIES": "0"},
    )
    assert plain == [False, False, "Lax", 0, 120, 10]
    assert behind_https == [True, True, "Lax", 31536000, 120, 10]
    # HSTS only where the site is HTTPS; secure cookies can still be switched off (a plain-HTTP test rig).
    assert hsts_without_https == [False, False, "Lax", 0, 30, 12]
    assert cookies_off[:2] == [False, False]


def test_an_hsts_header_behind_the_https_proxy(client, team, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 3600
    response = client.get("/accounts/login/", headers={"x-forwarded-proto": "https"})
    assert response.headers["Strict-Transport-Security"] == "max-age=3600"
    assert "Strict-Transport-Security" not in client.get("/accounts/login/").headers


# ---- the password rule ----


def _refusals(password) -> list[str]:
    try:
        validate_password(password)
    except ValidationError as exc:
        return [e.code for e in exc.error_list]
    return []


@pytest.mark.parametrize(
    ("password", "codes"),
    [
        ("Huaxing-2026", []),
        ("hangzhou-huaxing", []),  # letters and a symbol
        ("客户关系管理系统2026", []),  # Chinese characters count as letters
        ("short-1", ["password_too_short"]),
        ("onlyletterss", ["password_one_kind"]),
        ("8402957136", ["password_entirely_numeric", "password_one_kind"]),
    ],
)
def test_ten_characters_of_two_kinds(db, password, codes):
    assert _refusals(password) == codes


def test_the_rule_is_explained_in_both_languages(db):
    with translation.override("en"):
        with pytest.raises(ValidationError) as refused:
            validate_password("onlyletterss")
    assert refused.value.messages == ["The password must mix at least two of these: letters, digits, symbols."]
    with translation.override("zh-hans"):
        with pytest.raises(ValidationError) as refused:
            validate_password("onlyletterss")
    assert "字母" in refused.value.messages[0] and "数字" in refused.value.messages[0]


def test_setting_a_one_kind_password_is_refused_on_the_form(client, team):
    client.force_login(team.rep1)
    response = client.post(
        "/accounts/password/",
        {"old_password": "kehu-test-pw", "new_password1": "abcdefghijkl", "new_password2": "abcdefghijkl"},
    )
    assert "The password must mix at least two of these: letters, digits, symbols." in response.content.decode()
    team.rep1.refresh_from_db()
    assert team.rep1.check_password("kehu-test-pw")
