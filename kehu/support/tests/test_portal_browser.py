"""The self-service page in Chromium on a phone (390 px): a visitor types the problem, sees a suggested
article, opens a request anyway, receives the follow link by e-mail through a real SMTP server on
loopback, follows the ticket with it and writes to the service team; another visitor finds the answer
in a suggestion and opens no ticket (a deflection)."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (  # noqa: F401 (the browser tests' fixtures)
    browser_context_args,
    browser_type_launch_args,
    content_policy_refusals,
    context,
    make_context,
    make_user,
    smtp_server,
)
from tests.browser.helpers import no_horizontal_overflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 390, "height": 844}, "locale": "zh-CN", "is_mobile": True, "has_touch": True}


@pytest.fixture
def setting(make_user):  # noqa: F811
    from kehu.customers.services import contact_create, customer_create
    from kehu.support.tests.kb_setup import article
    from kehu.users.roles import Role

    rep = make_user("zhangwei", last_name="张", first_name="伟")
    editor = make_user("service1", role=Role.SERVICE_MANAGER)
    customer = customer_create(actor=rep, owner=rep, name="宁波精工机床有限公司")
    contact_create(customer=customer, actor=rep, name="李明", mobile="13812345678", email="li.ming@example.com")
    leak = article(
        editor,
        title_zh="液压站漏油怎么办",
        body_zh="先停机泄压。\n- 检查油管接头\n- 更换密封圈",
        title_en="Hydraulic unit leaking oil",
        body_en="Stop the machine.\n- Check the hose fittings",
        keywords="漏油 渗油",
    )
    article(editor, public=False, title_zh="内部：液压站漏油维修工时", body_zh="两小时。")
    return customer, leak


def test_a_visitor_opens_a_request_and_follows_it_with_the_mailed_link(
    live_server,
    make_context,  # noqa: F811
    smtp_server,  # noqa: F811
    setting,
):
    from kehu.support.models import Ticket

    customer, _leak = setting
    page = make_context(**PHONE).new_page()
    page.goto(f"{live_server.url}/help/request/")
    page.fill("#id_phone", "138 1234 5678")
    page.locator("#id_subject").press_sequentially("液压站漏油", delay=30)
    suggested = page.locator("#suggested")
    expect(suggested).to_contain_text("液压站漏油怎么办")
    expect(suggested).not_to_contain_text("内部")
    page.locator("details.suggestion summary").first.click()
    expect(suggested).to_contain_text("检查油管接头")
    assert no_horizontal_overflow(page)

    page.fill("#id_description", "早上开机后油箱下面有一滩油，看过文章还是不行。")
    page.click("#request-submit")
    expect(page.locator("#request-sent")).to_contain_text("我们已收到您的请求")

    mail = smtp_server.wait_for("li.ming@example.com")
    ticket = Ticket.objects.get()
    assert (ticket.customer_id, ticket.channel) == (customer.pk, "self_service")
    assert ticket.number in mail.subject
    links = [link for link in mail.links() if "/help/t/" in link]
    assert len(links) == 1 and re.fullmatch(rf"{re.escape(live_server.url)}/help/t/[\w-]+/", links[0]), mail.body

    page.goto(links[0])
    expect(page.locator("#follow")).to_contain_text(ticket.number)
    expect(page.locator("#follow-state")).to_have_text("请求已收到")
    expect(page.locator("#follow-conversation")).to_contain_text("早上开机后油箱下面有一滩油")
    assert no_horizontal_overflow(page)
    page.fill("#follow-body", "照片已拍好，油是从接头渗出来的。")
    page.locator("#follow-write button[type=submit]").click()
    expect(page.locator("#follow-conversation")).to_contain_text("照片已拍好")
    page.locator("#follow-confirm button[value=yes]").click()
    expect(page.locator("#follow-state")).to_have_text("已解决——请确认")
    assert no_horizontal_overflow(page)
    ticket.refresh_from_db()
    assert ticket.state == "resolved"
    assert list(ticket.messages.values_list("direction", flat=True)) == ["in", "in", "in"]


def test_a_visitor_who_finds_the_answer_opens_no_ticket(live_server, make_context, setting):  # noqa: F811
    from kehu.support.models import Deflection, PortalRequest, Ticket

    _customer, leak = setting
    page = make_context(**PHONE).new_page()
    page.goto(f"{live_server.url}/help/request/")
    page.locator("#id_subject").press_sequentially("漏油", delay=30)
    page.locator("details.suggestion summary").first.click()
    page.get_by_role("button", name="问题已解决").click()
    expect(page.locator("#deflected")).to_contain_text("液压站漏油怎么办")
    assert no_horizontal_overflow(page)
    assert list(Deflection.objects.values_list("article_id", flat=True)) == [leak.pk]
    assert not Ticket.objects.exists() and not PortalRequest.objects.exists()
