"""Password reset with the mail going through a real SMTP server."""

import re

import pytest
from playwright.sync_api import expect

from .helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "Xinmima-Reset-2026"


def _ask_for_reset(page, url, address):
    page.goto(f"{url}/accounts/password-reset/")
    page.fill("#id_email", address)
    page.get_by_role("button", name="Send reset link").click()
    expect(page).to_have_url(f"{url}/accounts/password-reset/sent/")
    expect(page.locator("h2")).to_have_text("Check your email")


def test_password_reset_through_smtp(live_server, page, smtp_server, make_user):
    url = live_server.url
    make_user("liuyang", email="liuyang@example.com", last_name="刘", first_name="洋")

    _ask_for_reset(page, url, "liuyang@example.com")
    mail = smtp_server.wait_for("liuyang@example.com")
    assert mail.subject == "Kehu: set a new password"
    links = [link for link in mail.links() if "/accounts/reset/" in link]
    assert len(links) == 1, mail.body
    link = links[0]
    assert re.fullmatch(rf"{re.escape(url)}/accounts/reset/[\w-]+/[\w-]+/", link), link

    page.goto(link)
    page.fill("#id_new_password1", NEW_PASSWORD)
    page.fill("#id_new_password2", NEW_PASSWORD)
    page.get_by_role("button", name="Set password").click()
    expect(page).to_have_url(f"{url}/accounts/reset/done/")
    expect(page.locator("h2")).to_have_text("Your new password is set")

    sign_in(page, url, "liuyang", NEW_PASSWORD)
    expect(page).to_have_url(f"{url}/")
    expect(page.locator("header.navbar")).to_contain_text("刘洋")

    # The link works once.
    page.goto(link)
    expect(page.locator("h2")).to_have_text("This link has expired or was already used")
    expect(page.locator("#id_new_password1")).to_have_count(0)
    assert len(smtp_server.messages) == 1


def test_password_reset_for_unknown_email_looks_the_same_and_sends_nothing(live_server, page, smtp_server, make_user):
    make_user("liuyang", email="liuyang@example.com")
    _ask_for_reset(page, live_server.url, "nobody@example.com")
    # Mail is sent during the request (immediate task backend), so it would be here already.
    assert smtp_server.messages == []
    # The same server does receive the mail for a known address: the silence above means something.
    _ask_for_reset(page, live_server.url, "liuyang@example.com")
    smtp_server.wait_for("liuyang@example.com")
    assert [m.rcpt_tos for m in smtp_server.messages] == [["liuyang@example.com"]]
