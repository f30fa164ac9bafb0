"""A fresh install from the first page to a logged visit, with and without JavaScript."""

import re

import pytest
from playwright.sync_api import expect

from .helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CUSTOMER = "杭州华星精密机械有限公司"
REP_PASSWORD = "Huaxing-Sales-8817"


def _mark_page(page):
    """Tag the loaded document; the tag survives htmx swaps and disappears on a full reload."""
    page.evaluate("window.__kehuMark = 'same-document'")


def _same_document(page) -> bool:
    return page.evaluate("window.__kehuMark === 'same-document'")


def test_fresh_install_to_logged_visit(live_server, page, make_context, smtp_server):
    from kehu.activities.models import Activity
    from kehu.users.models import User

    url = live_server.url

    # An empty database sends the first visitor to the set-up page.
    page.goto(f"{url}/accounts/login/")
    expect(page).to_have_url(f"{url}/accounts/setup/")
    page.fill("#id_company_name", "杭州客户科技有限公司")
    page.fill("#id_last_name", "赵")
    page.fill("#id_first_name", "敏")
    page.fill("#id_username", "zhaomin")
    page.fill("#id_email", "admin@example.com")
    page.fill("#id_password1", "Setup-Admin-2026!")
    page.fill("#id_password2", "Setup-Admin-2026!")
    page.get_by_role("button", name="Create company and administrator").click()
    expect(page).to_have_url(f"{url}/accounts/users/")
    expect(page.get_by_role("alert")).to_contain_text("Kehu is set up")

    # The administrator invites a sales rep; the invitation goes out through SMTP.
    page.get_by_role("link", name="Invite a colleague").click()
    page.fill("#id_email", "rep@example.com")
    page.select_option("#id_role", label="Sales rep")
    page.get_by_role("button", name="Send invitation").click()
    expect(page).to_have_url(f"{url}/accounts/invitations/")
    expect(page.get_by_role("alert")).to_contain_text("The invitation to rep@example.com is queued for sending.")

    mail = smtp_server.wait_for("rep@example.com")
    assert "杭州客户科技有限公司" in mail.subject
    links = [link for link in mail.links() if "/accounts/invitation/" in link]
    assert len(links) == 1, mail.body
    assert links[0].startswith(f"{url}/accounts/invitation/")
    # The pending invitation is listed with the same link to copy.
    page.locator("#invitations").get_by_text("Copy link").click()
    expect(page.locator("#invitations input[readonly]")).to_have_value(links[0])

    # The rep opens the link in their own browser and chooses a username and password.
    rep_page = make_context().new_page()
    rep_page.goto(links[0])
    expect(rep_page.locator("body")).to_contain_text("rep@example.com")
    rep_page.fill("#id_last_name", "张")
    rep_page.fill("#id_first_name", "伟")
    rep_page.fill("#id_username", "zhangwei")
    rep_page.fill("#id_password1", REP_PASSWORD)
    rep_page.fill("#id_password2", REP_PASSWORD)
    rep_page.get_by_role("button", name="Create my account").click()
    expect(rep_page).to_have_url(f"{url}/")
    expect(rep_page.get_by_role("alert")).to_contain_text("Welcome to Kehu")
    expect(rep_page.locator("header.navbar")).to_contain_text("张伟")
    rep = User.objects.get(username="zhangwei")
    assert (rep.email, rep.role) == ("rep@example.com", "sales_rep")

    # New customer → its 360° page.
    rep_page.locator("header.navbar").get_by_role("button", name="Customers").click()
    rep_page.locator("header.navbar").get_by_role("link", name="Customer list").click()
    rep_page.get_by_role("link", name="New customer").click()
    rep_page.fill("#id_name", CUSTOMER)
    rep_page.fill("#id_phone", "0571-88123456")
    rep_page.get_by_role("button", name="Save").click()
    expect(rep_page).to_have_url(re.compile(rf"{url}/customers/\d+/$"))
    expect(rep_page.locator("h1")).to_contain_text(CUSTOMER)
    detail_url = rep_page.url

    # A contact on the 360° page.
    rep_page.get_by_role("link", name="Add contact").click()
    rep_page.fill("#id_name", "王建国")
    rep_page.fill("#id_position", "采购部经理")
    rep_page.fill("#id_phones-0-value", "13857112345")
    rep_page.get_by_role("button", name="Save").click()
    expect(rep_page).to_have_url(f"{detail_url}#contacts")
    expect(rep_page.locator("#contacts")).to_contain_text("王建国")
    expect(rep_page.locator("#contacts")).to_contain_text("采购部经理")

    # Search the list by a Chinese substring: htmx swaps the results, the page stays.
    rep_page.locator("header.navbar").get_by_role("button", name="Customers").click()
    rep_page.locator("header.navbar").get_by_role("link", name="Customer list").click()
    expect(rep_page.locator("#results")).to_contain_text(CUSTOMER)
    _mark_page(rep_page)
    search = rep_page.locator("input[name=q]")
    with rep_page.expect_response(lambda r: "/customers/?" in r.url and r.request.headers.get("hx-request") == "true"):
        search.fill("不存在的公司")
    expect(rep_page.locator("#results")).to_contain_text("No customers match.")
    with rep_page.expect_response(lambda r: "q=%E5%8D%8E%E6%98%9F" in r.url and r.request.headers.get("hx-request")):
        search.fill("华星")
    expect(rep_page.locator("#results").get_by_role("link", name=CUSTOMER)).to_be_visible()
    expect(rep_page).to_have_url(re.compile(r"q=%E5%8D%8E%E6%98%9F"))
    assert _same_document(rep_page), "the search reloaded the page instead of swapping the results"

    # Open it and log a visit through htmx: it lands in the timeline without a reload.
    rep_page.locator("#results").get_by_role("link", name=CUSTOMER).click()
    expect(rep_page).to_have_url(detail_url)
    _mark_page(rep_page)
    form = rep_page.locator("#log-and-timeline form")
    form.locator("#id_kind").select_option("visit")
    form.locator("#id_subject").fill("上门拜访采购部，介绍五轴加工中心")
    form.locator("#id_content").fill("客户关注精度和交期，下周发报价。")
    form.locator("#id_duration_minutes").fill("90")
    form.locator("#id_contact").select_option(label="王建国")
    with rep_page.expect_response(lambda r: r.url.endswith("/log/") and r.request.method == "POST"):
        form.get_by_role("button", name="Log").click()
    timeline = rep_page.locator("#timeline-list")
    expect(timeline.locator(".timeline-entry.kind-visit")).to_contain_text("上门拜访采购部，介绍五轴加工中心")
    expect(timeline).to_contain_text("客户关注精度和交期")
    expect(rep_page.locator("#log-and-timeline #id_subject")).to_have_value("")
    assert _same_document(rep_page), "logging the activity reloaded the page"
    assert Activity.objects.filter(subject="上门拜访采购部，介绍五轴加工中心", owner=rep, duration_minutes=90).exists()

    # Without JavaScript the same form is a plain POST followed by a redirect.
    no_js = make_context(java_script_enabled=False).new_page()
    sign_in(no_js, url, "zhangwei", REP_PASSWORD)
    no_js.goto(detail_url)
    no_js.select_option("#id_kind", "call")
    no_js.fill("#id_subject", "电话确认技术参数")
    no_js.fill("#id_duration_minutes", "15")
    with no_js.expect_navigation():
        no_js.locator("#log-and-timeline form").get_by_role("button", name="Log").click()
    expect(no_js).to_have_url(f"{detail_url}#timeline")
    expect(no_js.locator("#timeline-list .timeline-entry.kind-call")).to_contain_text("电话确认技术参数")
    expect(no_js.locator("#timeline-list")).to_contain_text("上门拜访采购部，介绍五轴加工中心")
    assert Activity.objects.filter(customer__name=CUSTOMER).count() == 2
