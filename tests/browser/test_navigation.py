"""The menu in sections: one line at 1366 px in Chinese and English, a collapsed menu with
tap-to-open sections on a 390 px phone, a section name that still leads somewhere without
JavaScript, and wide pages using the screen (the board shows four stages at 1366 px)."""

from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from .helpers import no_horizontal_overflow, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHINESE_CATALOGUE = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.mo"
LANGUAGES = [
    pytest.param("en", id="en"),
    pytest.param(
        "zh-hans",
        id="zh",
        marks=pytest.mark.skipif(not CHINESE_CATALOGUE.exists(), reason="Chinese translations are not compiled"),
    ),
]
WORDS = {
    "en": {
        "customers": "Customers",
        "list": "Customer list",
        "map": "Map",
        "sales": "Sales",
        "board": "Opportunity board",
    },
    "zh-hans": {"customers": "客户", "list": "客户列表", "map": "地图", "sales": "销售", "board": "商机看板"},
}
DESKTOP = {"viewport": {"width": 1366, "height": 768}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


@pytest.fixture
def administrator(make_user):
    """The role with the most sections, and a long name (欧阳 is a two-character family name)."""
    from kehu.users.roles import Role

    def make(language):
        return make_user(
            f"admin-{language}",
            role=Role.ADMINISTRATOR,
            last_name="欧阳",
            first_name="文静",
            language=language,
            is_superuser=True,
        )

    return make


def _top_level_boxes(page):
    return page.evaluate(
        """() => [...document.querySelectorAll('#navbar-menu > ul > li')].map(li => {
            const r = li.getBoundingClientRect();
            return {text: li.innerText.trim(), top: Math.round(r.top), height: Math.round(r.height)};
        })"""
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_menu_stays_one_line_at_1366_px(live_server, make_context, administrator, language):
    user = administrator(language)
    page = make_context(**DESKTOP).new_page()
    sign_in(page, live_server.url, user.username)
    words = WORDS[language]

    header_height = page.locator("header.navbar").evaluate("h => h.getBoundingClientRect().height")
    assert header_height <= 64, header_height
    boxes = _top_level_boxes(page)
    assert [b["text"] for b in boxes][-2:] == ["欧阳文静", "Log out" if language == "en" else "退出登录"]
    # dashboard, customers, sales, products, orders, service, marketing, analytics, settings, to approve,
    # name, log out
    assert len(boxes) == 12
    assert len({b["top"] for b in boxes}) == 1, boxes
    assert max(b["height"] for b in boxes) <= 48, boxes
    assert no_horizontal_overflow(page)

    # A section opens on click; its pages are listed; choosing one lights the section up.
    menu = page.locator("#main-menu")
    menu.get_by_role("button", name=words["customers"], exact=True).click()
    expect(menu.get_by_role("link", name=words["map"], exact=True)).to_be_visible()
    menu.get_by_role("link", name=words["map"], exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/customers/map/")
    expect(page.locator('#main-menu > li.active[data-section="customers"]')).to_have_count(1)


@pytest.mark.parametrize("language", LANGUAGES)
def test_on_a_phone_the_menu_collapses_and_sections_open_by_tap(live_server, make_context, administrator, language):
    user = administrator(language)
    page = make_context(**PHONE).new_page()
    sign_in(page, live_server.url, user.username)
    words = WORDS[language]

    menu = page.locator("#navbar-menu")
    toggler = page.locator(".navbar-toggler")
    expect(toggler).to_be_visible()
    expect(menu).to_be_hidden()
    assert no_horizontal_overflow(page)
    toggler.tap()
    expect(menu).to_be_visible()
    expect(toggler).to_have_attribute("aria-expanded", "true")
    board = menu.get_by_role("link", name=words["board"], exact=True)
    expect(board).to_be_hidden()
    menu.get_by_role("button", name=words["sales"], exact=True).tap()
    expect(board).to_be_visible()
    assert no_horizontal_overflow(page)
    board.tap()
    expect(page).to_have_url(f"{live_server.url}/sales/")
    expect(page.locator("#navbar-menu")).to_be_hidden()


def test_without_javascript_a_section_name_opens_its_first_page(live_server, make_context, administrator):
    user = administrator("en")
    page = make_context(**DESKTOP, java_script_enabled=False).new_page()
    sign_in(page, live_server.url, user.username)
    page.locator("#main-menu").get_by_role("button", name="Customers", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/customers/")


def test_settings_is_one_entry_with_the_areas_behind_it(live_server, make_context, administrator):
    user = administrator("en")
    page = make_context(**DESKTOP).new_page()
    sign_in(page, live_server.url, user.username)
    page.locator("#main-menu").get_by_role("link", name="Settings", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/settings/")
    expect(page.locator(".settings-areas .card")).to_have_count(
        22
    )  # with pricing, quote documents, contracts, credit, service levels, engineers, the service mailbox, sign-in log
    page.locator("#settings-outbox").click()
    expect(page.locator("h1")).to_have_text("Mail outbox")
    expect(page.locator('#main-menu > li.active[data-section="settings"]')).to_have_count(1)


def test_the_board_shows_four_of_six_stages_at_1366_px(live_server, make_context, make_user):
    from kehu.sales.defaults import seed_pipelines
    from kehu.sales.models import Pipeline, Stage

    seed_pipelines(Pipeline, Stage)  # a transactional test empties what the migration filled
    assert Stage.objects.filter(pipeline__code="direct").count() == 6
    rep = make_user("zhangwei", last_name="张", first_name="伟")
    page = make_context(**DESKTOP).new_page()
    sign_in(page, live_server.url, rep.username)
    page.goto(f"{live_server.url}/sales/")
    fully_visible = page.evaluate(
        """() => {
            const width = document.documentElement.clientWidth;
            const board = document.getElementById('board').getBoundingClientRect();
            return [...document.querySelectorAll('.board-column')].filter(c => {
                const r = c.getBoundingClientRect();
                return r.left >= 0 && r.right <= Math.min(width, board.right) + 0.5;
            }).length;
        }"""
    )
    assert fully_visible >= 4
    assert no_horizontal_overflow(page)


def test_the_favicon_is_served(live_server, page):
    response = page.goto(f"{live_server.url}/static/kehu/favicon.svg")
    assert response.status == 200 and response.headers["content-type"].startswith("image/svg")
    response = page.goto(f"{live_server.url}/favicon.ico")
    assert response.status == 200 and response.url.endswith("/static/kehu/favicon.ico")
