"""Interface language (PLT-3): the user's choice wins, and the switch remembers it on the account."""

import re

import pytest
from django.utils import translation

from kehu.users.models import User


def _zh_catalogue_compiled() -> bool:
    with translation.override("zh-hans"):
        return translation.gettext("Customers") != "Customers"


def test_user_with_chinese_gets_a_chinese_page(client, team):
    User.objects.filter(pk=team.rep1.pk).update(language="zh-hans")
    client.force_login(User.objects.get(pk=team.rep1.pk))
    page = client.get("/").content.decode()
    assert '<html lang="zh-hans">' in page
    if _zh_catalogue_compiled():
        assert re.search(r'href="/"[^>]*>工作台</a>', page)


def test_user_without_a_choice_gets_the_default_language(client, team):
    client.force_login(team.rep1)
    assert '<html lang="en">' in client.get("/").content.decode()


def test_user_choice_wins_over_the_browser(client, team):
    User.objects.filter(pk=team.rep1.pk).update(language="en")
    client.force_login(User.objects.get(pk=team.rep1.pk))
    page = client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).content.decode()
    assert '<html lang="en">' in page


def test_language_switch_stores_the_choice_on_the_account(client, team):
    client.force_login(team.rep1)
    client.post("/accounts/language/", {"language": "zh-hans", "next": "/customers/"})
    assert User.objects.get(pk=team.rep1.pk).language == "zh-hans"


def test_language_switch_returns_to_the_page(client, team):
    client.force_login(team.rep1)
    response = client.post("/accounts/language/", {"language": "zh-hans", "next": "/customers/"})
    assert (response.status_code, response.url) == (302, "/customers/")
    assert response.cookies["django_language"].value == "zh-hans"


def test_next_page_after_the_switch_is_in_the_new_language(client, team):
    client.force_login(team.rep1)
    client.post("/accounts/language/", {"language": "zh-hans", "next": "/"})
    assert '<html lang="zh-hans">' in client.get("/").content.decode()


def test_unknown_language_is_ignored(client, team):
    client.force_login(team.rep1)
    client.post("/accounts/language/", {"language": "xx", "next": "/"})
    assert User.objects.get(pk=team.rep1.pk).language == ""


@pytest.mark.parametrize("target", ["//evil.example.com/", "https://evil.example.com/", ""])
def test_language_switch_never_redirects_off_site(client, team, target):
    client.force_login(team.rep1)
    response = client.post("/accounts/language/", {"language": "en", "next": target})
    assert response.url == "/"


def test_anonymous_language_switch_sets_the_cookie(client, team):
    response = client.post("/accounts/language/", {"language": "zh-hans", "next": "/accounts/login/"})
    assert response.cookies["django_language"].value == "zh-hans"
    assert '<html lang="zh-hans">' in client.get("/accounts/login/").content.decode()


def test_sign_in_applies_the_accounts_language(client, team):
    User.objects.filter(pk=team.rep1.pk).update(language="zh-hans")
    response = client.post("/accounts/login/", {"username": "rep1", "password": "kehu-test-pw"})
    assert response.cookies["django_language"].value == "zh-hans"
