"""The opportunity board: drag a card to another stage, reload, it stays; without JavaScript the
stage menu on the card does the same; closing asks for a reason."""

import pytest
from playwright.sync_api import expect

from .helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _deal(rep):
    from kehu.customers.services import customer_create
    from kehu.sales.defaults import seed_pipelines
    from kehu.sales.models import Pipeline, Stage
    from kehu.sales.services import opportunity_create

    seed_pipelines(Pipeline, Stage)  # a transactional test empties what the migration filled
    customer = customer_create(actor=rep, owner=rep, name="苏州锦程电子科技有限公司")
    deal = opportunity_create(customer=customer, actor=rep, name="贴片机 3 台", amount=560000)
    return deal, {s.name: s for s in Stage.objects.filter(pipeline__code="direct")}


def test_drag_a_card_and_it_stays_after_reload(live_server, make_user, make_context):
    from kehu.sales.models import Opportunity

    rep = make_user("zhangwei", last_name="张", first_name="伟")
    deal, stages = _deal(rep)
    # Wide enough for all six columns: a drag that has to scroll the board is not what is tested here.
    page = make_context(viewport={"width": 1920, "height": 1000}).new_page()
    sign_in(page, live_server.url, rep.username)
    page.goto(f"{live_server.url}/sales/")
    card = page.locator(f"#opportunity-{deal.pk}")
    expect(page.locator(f"#stage-{stages['初步接洽'].pk}")).to_contain_text("贴片机 3 台")
    with page.expect_response(lambda r: r.url.endswith(f"/sales/opportunities/{deal.pk}/move/")) as moved:
        card.drag_to(page.locator(f"#stage-{stages['方案报价'].pk} .board-drop"))
    assert moved.value.status == 200
    page.reload()
    expect(page.locator(f"#stage-{stages['方案报价'].pk}")).to_contain_text("贴片机 3 台")
    expect(page.locator(f"#stage-{stages['初步接洽'].pk}")).not_to_contain_text("贴片机 3 台")
    assert Opportunity.objects.get(pk=deal.pk).stage == stages["方案报价"]

    # Dropping on 赢单 asks for the reason on the opportunity's page.
    with page.expect_response(lambda r: r.url.endswith(f"/sales/opportunities/{deal.pk}/move/")) as asked:
        page.locator(f"#opportunity-{deal.pk}").drag_to(page.locator(f"#stage-{stages['赢单'].pk} .board-drop"))
    assert asked.value.status == 204
    page.wait_for_url(f"**/sales/opportunities/{deal.pk}/?close=*")
    expect(page.locator("#move-stage")).to_have_value(str(stages["赢单"].pk))
    page.fill("#move-reason", "交期和价格都满足")
    with page.expect_navigation():
        page.locator("#close").get_by_role("button", name="Move").click()
    expect(page.locator("#stage-history")).to_contain_text("方案报价 → 赢单")
    assert Opportunity.objects.get(pk=deal.pk).close_reason == "交期和价格都满足"


def test_without_javascript_the_stage_menu_moves_the_card(live_server, make_user, make_context):
    rep = make_user("lina", last_name="李", first_name="娜")
    deal, stages = _deal(rep)
    page = make_context(java_script_enabled=False).new_page()
    sign_in(page, live_server.url, rep.username)
    page.goto(f"{live_server.url}/sales/")
    card = page.locator(f"#opportunity-{deal.pk}")
    card.locator("select[name=stage]").select_option(str(stages["需求确认"].pk))
    with page.expect_navigation():
        card.get_by_role("button", name="Move").click()
    expect(page.locator(f"#stage-{stages['需求确认'].pk}")).to_contain_text("贴片机 3 台")


def _head(page, stage):
    return page.locator(f"#stage-head-{stage.pk}")


def test_after_a_drag_both_column_headers_show_the_new_count_and_sum(live_server, make_user, make_context):
    from kehu.sales.services import opportunity_create, opportunity_move

    rep = make_user("huangting", last_name="黄", first_name="婷")
    deal, stages = _deal(rep)  # ¥560,000 in 初步接洽
    other = opportunity_create(customer=deal.customer, actor=rep, name="空压机组 8 台", amount=100000)
    opportunity_move(opportunity=other, stage=stages["方案报价"], actor=rep)
    page = make_context(viewport={"width": 1920, "height": 1000}, locale="zh-CN").new_page()
    sign_in(page, live_server.url, rep.username)
    page.goto(f"{live_server.url}/sales/")
    first, quote, needs = stages["初步接洽"], stages["方案报价"], stages["需求确认"]
    expect(_head(page, first).locator(".board-count")).to_have_text("1")
    expect(_head(page, first).locator(".board-sum")).to_have_text("¥560,000")
    expect(_head(page, quote).locator(".board-count")).to_have_text("1")
    expect(_head(page, quote).locator(".board-sum")).to_have_text("¥100,000")

    page.locator(f"#opportunity-{deal.pk}").drag_to(page.locator(f"#stage-{quote.pk} .board-drop"))
    # No reload: the answer swapped both headers in.
    expect(_head(page, quote).locator(".board-count")).to_have_text("2")
    expect(_head(page, quote).locator(".board-sum")).to_have_text("¥660,000")
    expect(_head(page, first).locator(".board-count")).to_have_text("0")
    expect(_head(page, first).locator(".board-sum")).to_have_text("¥0")
    expect(page.locator(f"#opportunity-{deal.pk}")).to_have_attribute("data-version", "2")

    # The card came back with its new version, so a second drag is not a stale edit.
    page.locator(f"#opportunity-{deal.pk}").drag_to(page.locator(f"#stage-{needs.pk} .board-drop"))
    expect(_head(page, needs).locator(".board-count")).to_have_text("1")
    expect(_head(page, needs).locator(".board-sum")).to_have_text("¥560,000")
    expect(_head(page, quote).locator(".board-count")).to_have_text("1")
    expect(_head(page, quote).locator(".board-sum")).to_have_text("¥100,000")
    expect(page.locator("#board-error")).to_be_hidden()
    expect(page.locator(f"#stage-{needs.pk} #opportunity-{deal.pk} select[name=stage]")).to_have_value(str(needs.pk))


def test_a_refused_drag_puts_the_card_back(live_server, make_user, make_context):
    from kehu.sales.models import Opportunity

    rep = make_user("wangfang", last_name="王", first_name="芳")
    deal, stages = _deal(rep)
    page = make_context(viewport={"width": 1920, "height": 1000}).new_page()
    sign_in(page, live_server.url, rep.username)
    page.goto(f"{live_server.url}/sales/")
    Opportunity.objects.filter(pk=deal.pk).update(version=7)  # someone else changed it meanwhile
    page.locator(f"#opportunity-{deal.pk}").drag_to(page.locator(f"#stage-{stages['方案报价'].pk} .board-drop"))
    expect(page.locator("#board-error")).to_be_visible()
    expect(page.locator(f"#stage-{stages['初步接洽'].pk} #opportunity-{deal.pk}")).to_be_visible()
    expect(_head(page, stages["方案报价"]).locator(".board-count")).to_have_text("0")
