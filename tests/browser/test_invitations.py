"""The invitation list: the copy button puts the link on the clipboard; without JavaScript the
link is still there to select; a revoked link says so when the invitee opens it."""

import pytest
from playwright.sync_api import expect

from .helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def invited(make_user, smtp_server):
    from kehu.users.roles import Role
    from kehu.users.services import invitation_create

    admin = make_user("zhaomin", role=Role.ADMINISTRATOR, last_name="赵", first_name="敏", is_superuser=True)

    def make(base_url):
        invitation_create(email="wang@example.com", role=Role.SALES_REP, actor=admin, base_url=base_url)
        mail = smtp_server.wait_for("wang@example.com")
        return admin, next(link for link in mail.links() if "/accounts/invitation/" in link)

    return make


def test_copy_puts_the_mailed_link_on_the_clipboard(live_server, make_context, invited):
    admin, link = invited(live_server.url)
    context = make_context()
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    sign_in(page, live_server.url, admin.username)
    page.goto(f"{live_server.url}/accounts/invitations/")
    row = page.locator("#invitations tbody tr").first
    expect(row).to_contain_text("wang@example.com")
    row.get_by_text("Copy link").click()
    button = row.get_by_role("button", name="Copy", exact=True)
    expect(button).to_be_visible()
    button.click()
    expect(row.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == link


def test_without_javascript_the_link_is_shown_to_select(live_server, make_context, invited):
    admin, link = invited(live_server.url)
    page = make_context(java_script_enabled=False).new_page()
    sign_in(page, live_server.url, admin.username)
    page.goto(f"{live_server.url}/accounts/invitations/")
    row = page.locator("#invitations tbody tr").first
    row.get_by_text("Copy link").click()
    expect(row.locator("input[readonly]")).to_have_value(link)
    expect(row.locator("button[data-copy-from]")).to_be_hidden()


def test_a_revoked_link_says_so_when_opened(live_server, make_context, invited):
    admin, link = invited(live_server.url)
    page = make_context().new_page()
    sign_in(page, live_server.url, admin.username)
    page.goto(f"{live_server.url}/accounts/invitations/")
    page.locator("#invitations").get_by_role("button", name="Withdraw").click()
    expect(page.get_by_role("alert")).to_contain_text("is withdrawn")
    invitee = make_context().new_page()
    invitee.goto(link)
    expect(invitee.locator("h2")).to_have_text("This invitation was withdrawn.")
    expect(invitee.locator("#id_password1")).to_have_count(0)
