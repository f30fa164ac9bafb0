"""Screenshots for the documentation: KEHU_SCREENSHOTS=1 make test-browser (otherwise skipped)."""

import os

import pytest
from django.conf import settings
from playwright.sync_api import expect

from .helpers import seed_sales_team, sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(os.environ.get("KEHU_SCREENSHOTS") != "1", reason="set KEHU_SCREENSHOTS=1 to take screenshots"),
]

OUT = settings.BASE_DIR / "docs" / "screenshots"


def test_screenshots(live_server, make_context):
    manager, _rep, featured = seed_sales_team()
    OUT.mkdir(parents=True, exist_ok=True)
    # Chinese, the product's default language; a sales manager sees the whole department.
    page = make_context(locale="zh-CN", viewport={"width": 1366, "height": 900}).new_page()
    sign_in(page, live_server.url, manager.username)

    page.goto(f"{live_server.url}/customers/{featured.pk}/")
    expect(page.locator("#timeline-list")).to_contain_text("承诺提供报价单及试切方案")
    page.evaluate("document.fonts.ready")
    page.screenshot(path=OUT / "customer-360.png")

    page.goto(f"{live_server.url}/customers/")
    expect(page.locator("#results")).to_contain_text("温州宏达五金贸易商行")
    page.evaluate("document.fonts.ready")
    page.screenshot(path=OUT / "customer-list.png")

    for name in ("customer-360.png", "customer-list.png"):
        assert (OUT / name).stat().st_size > 10_000


def test_screenshots_of_the_archive(live_server, make_context):
    """The demo company, as a sales manager sees its public pool, map, tier suggestions, pipeline board,
    forecast and leads."""
    from django.core.management import call_command
    from django.db import connection

    from kehu.classification.services import suggestions_refresh
    from kehu.customers.search import BIGRAM_TABLE, TRIGRAM_TABLE

    # The earlier test's search rows outlive the flush between transactional tests (virtual tables).
    with connection.cursor() as cursor:
        for table in (TRIGRAM_TABLE, BIGRAM_TABLE):
            cursor.execute(f"DELETE FROM {table}")
    call_command("demo_data", verbosity=0)
    suggestions_refresh()
    page = make_context(locale="zh-CN", viewport={"width": 1366, "height": 900}).new_page()
    sign_in(page, live_server.url, "manager1", password="kehu-demo")
    shots = {
        "public-pool.png": ("/pool/", "#pool-table"),
        "customer-map.png": ("/customers/map/", "#customer-map canvas"),
        "tier-suggestions.png": ("/classification/", "#bulk"),
        "pipeline-board.png": ("/sales/", "#board"),
        "forecast.png": ("/sales/forecast/", "#forecast-chart canvas"),
        "leads.png": ("/leads/", "#lead-table"),
    }
    for name, (path, ready) in shots.items():
        page.goto(f"{live_server.url}{path}")
        expect(page.locator(ready).first).to_be_visible()
        page.wait_for_timeout(500)  # the map draws after its data arrives
        page.evaluate("document.fonts.ready")
        page.screenshot(path=OUT / name)
        assert (OUT / name).stat().st_size > 10_000
