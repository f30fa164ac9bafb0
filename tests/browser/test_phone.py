"""A phone-sized screen (375×740): no sideways scrolling, and the menu opens from the toggler."""

import pytest
from playwright.sync_api import expect

from .helpers import no_horizontal_overflow, seed_sales_team, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


def test_customer_list_and_360_page_fit_a_phone(live_server, make_context):
    _manager, rep, featured = seed_sales_team()
    page = make_context(**PHONE).new_page()
    sign_in(page, live_server.url, rep.username)

    page.goto(f"{live_server.url}/customers/")
    expect(page.locator("#results")).to_contain_text(featured.name)
    assert no_horizontal_overflow(page), page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")

    # The navbar is collapsed behind the toggler on a phone; the toggler opens it.
    menu = page.locator("#navbar-menu")
    toggler = page.locator(".navbar-toggler")
    expect(toggler).to_be_visible()
    expect(menu).to_be_hidden()
    toggler.click()
    expect(menu).to_be_visible()
    expect(toggler).to_have_attribute("aria-expanded", "true")
    expect(menu.get_by_role("button", name="Customers")).to_be_visible()
    menu.get_by_role("button", name="Sales").click()
    expect(menu.get_by_role("link", name="Activities")).to_be_visible()

    page.goto(f"{live_server.url}/customers/{featured.pk}/")
    expect(page.locator("h1")).to_contain_text(featured.name)
    expect(page.locator("#timeline-list")).to_contain_text("承诺提供报价单及试切方案")
    assert no_horizontal_overflow(page), page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    page.locator(".navbar-toggler").click()
    expect(page.locator("#navbar-menu").get_by_role("link", name="Dashboard")).to_be_visible()
