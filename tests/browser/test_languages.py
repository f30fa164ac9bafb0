"""Chinese and English: the browser's language, the footer switch, and the account's choice."""

from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from .helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHINESE_CATALOGUE = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.mo"


def test_chinese_browser_gets_chinese_login_page(live_server, make_context, make_user):
    make_user("zhangwei")
    page = make_context(locale="zh-CN").new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")


@pytest.mark.skipif(not CHINESE_CATALOGUE.exists(), reason="Chinese translations are not compiled (make messages)")
def test_chinese_login_button_is_translated(live_server, make_context, make_user):
    make_user("zhangwei")
    page = make_context(locale="zh-CN").new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    expect(page.locator("form:has(#id_username) button[type=submit]")).to_have_text("登录")


def test_english_browser_gets_english_login_page(live_server, page, make_user):
    make_user("zhangwei")
    page.goto(f"{live_server.url}/accounts/login/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("form:has(#id_username) button[type=submit]")).to_have_text("Sign in")


def test_footer_switch_changes_language_and_remembers_it_on_the_account(live_server, make_context, make_user):
    url = live_server.url
    user = make_user("zhangwei")
    assert user.language == ""
    page = make_context(locale="zh-CN").new_page()
    sign_in(page, url, "zhangwei")
    page.goto(f"{url}/customers/")
    html = page.locator("html")
    footer = page.locator("footer")
    expect(html).to_have_attribute("lang", "zh-hans")

    with page.expect_navigation():
        footer.get_by_role("button", name="English").click()
    expect(page).to_have_url(f"{url}/customers/")
    expect(html).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Customers")
    expect(footer.get_by_role("button", name="English")).to_have_class("btn btn-sm btn-secondary")
    user.refresh_from_db()
    assert user.language == "en"

    # The account's choice beats the browser's Accept-Language on later pages.
    page.goto(f"{url}/")
    expect(html).to_have_attribute("lang", "en")

    with page.expect_navigation():
        footer.get_by_role("button", name="简体中文").click()
    expect(html).to_have_attribute("lang", "zh-hans")
    user.refresh_from_db()
    assert user.language == "zh-hans"

    # A fresh English browser: after signing in, the account's Chinese wins.
    english = make_context(locale="en-US").new_page()
    sign_in(english, url, "zhangwei")
    expect(english.locator("html")).to_have_attribute("lang", "zh-hans")
    english.goto(f"{url}/customers/")
    expect(english.locator("html")).to_have_attribute("lang", "zh-hans")
