"""The customer map (CUS-8) in Chromium: points drawn by the vendored ECharts over the vendored
China outline, no request leaves the server, and clicking a point opens the customer's 360° page."""

from decimal import Decimal
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from .helpers import map_point, seed_sales_team, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

COORDINATES = {
    "杭州": (Decimal("30.274100"), Decimal("120.155100")),
    "苏州": (Decimal("31.299000"), Decimal("120.585300")),
    "宁波": (Decimal("29.868300"), Decimal("121.544000")),
    "合肥": (Decimal("31.820600"), Decimal("117.227200")),
}


def test_map_draws_points_offline_and_a_click_opens_the_customer(live_server, page):
    from kehu.customers.models import Customer

    _manager, rep, featured = seed_sales_team()
    for city, (lat, lon) in COORDINATES.items():
        Customer.objects.filter(city=city).update(latitude=lat, longitude=lon)
    on_map = Customer.objects.filter(owner=rep, latitude__isnull=False).count()
    assert on_map >= 2

    server = urlparse(live_server.url).netloc
    outside = []

    def guard(route):
        if urlparse(route.request.url).netloc != server:
            outside.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    page.route("**/*", guard)
    sign_in(page, live_server.url, rep.username)
    page.goto(f"{live_server.url}/customers/map/")
    expect(page.locator("#customer-map")).to_have_attribute("data-points", str(on_map))
    expect(page.locator("#map-status")).to_contain_text(str(on_map))

    drawn = page.evaluate(
        """() => {
        const chart = echarts.getInstanceByDom(document.getElementById('customer-map'));
        const option = chart.getOption();
        return {
          map: option.geo[0].map,
          registered: !!echarts.getMap('china'),
          series: option.series.map(s => ({id: s.id, color: s.itemStyle.color, n: s.data.length})),
        };
    }"""
    )
    assert drawn["map"] == "china" and drawn["registered"]
    assert sum(s["n"] for s in drawn["series"]) == on_map
    assert {s["id"]: s["color"] for s in drawn["series"]}["key"] == "#d63939"

    # A real click on the featured customer's point (key tier, Hangzhou), located by the chart itself.
    point = map_point(page, featured.pk)
    assert point is not None
    box = page.locator("#customer-map").bounding_box()
    with page.expect_navigation():
        page.mouse.click(box["x"] + point[0], box["y"] + point[1])
    assert page.url.rstrip("/").endswith(f"/customers/{featured.pk}")
    expect(page.locator("h1")).to_contain_text(featured.name)
    assert outside == [], f"requests left the server: {outside}"


def test_map_fits_a_phone(live_server, make_context):
    from kehu.customers.models import Customer

    from .helpers import no_horizontal_overflow

    _manager, rep, _featured = seed_sales_team()
    Customer.objects.filter(owner=rep).update(latitude=Decimal("31.2990"), longitude=Decimal("120.5853"))
    page = make_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True).new_page()
    sign_in(page, live_server.url, rep.username)
    page.goto(f"{live_server.url}/customers/map/")
    expect(page.locator("#customer-map")).to_have_attribute(
        "data-points", str(Customer.objects.filter(owner=rep).count())
    )
    assert no_horizontal_overflow(page)
