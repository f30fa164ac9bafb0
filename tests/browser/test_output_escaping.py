"""Data never becomes markup in the browser: a customer whose name is an HTML payload shows as
text in the map's tooltip (ECharts renders tooltip strings as HTML), and nothing of it runs."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from .helpers import map_point, seed_sales_team, sign_in, watch_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOSTILE = '<img src=x onerror="window.__pwned=1">'


def test_a_hostile_customer_name_shows_as_text_in_the_map_tooltip(live_server, page):
    from kehu.customers.models import Customer

    _manager, rep, featured = seed_sales_team()
    Customer.objects.filter(pk=featured.pk).update(
        name=HOSTILE, latitude=Decimal("30.274100"), longitude=Decimal("120.155100")
    )
    Customer.objects.filter(owner=rep).exclude(pk=featured.pk).update(latitude=None, longitude=None)
    seen = watch_page(page)
    sign_in(page, live_server.url, rep.username)
    page.goto(f"{live_server.url}/customers/map/")
    expect(page.locator("#customer-map")).to_have_attribute("data-points", "1")

    point = map_point(page, featured.pk)
    assert point is not None
    box = page.locator("#customer-map").bounding_box()
    page.mouse.move(box["x"] + point[0] + 3, box["y"] + point[1] + 3)
    page.mouse.move(box["x"] + point[0], box["y"] + point[1])

    # ECharts puts its tooltip in a div after the canvas, inside the chart's container.
    tooltip = page.locator("#customer-map > div").nth(1)
    expect(tooltip).to_be_visible()
    page.wait_for_timeout(300)  # an injected image would have failed to load and fired by now
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert tooltip.inner_text().strip() == HOSTILE
    assert tooltip.locator("img").count() == 0
    assert seen == {"dialogs": [], "errors": [], "requests": []}
