"""The Content-Security-Policy in a real browser: code put into a page does not run, and the pages
whose behaviour moved out of inline scripts (charts, the delete confirmation, a select that sends its
form) still work under it. Every browser test also fails on any refusal (conftest)."""

import pytest
from playwright.sync_api import expect

from .helpers import seed_sales_team, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_code_put_into_a_page_is_refused(live_server, page, content_policy_refusals):
    _manager, rep, _featured = seed_sales_team()
    sign_in(page, live_server.url, rep.username)
    page.goto(f"{live_server.url}/customers/")
    page.evaluate(
        """() => {
          const s = document.createElement('script');
          s.textContent = 'window.__ran = 1';
          document.body.appendChild(s);
          const b = document.createElement('button');
          b.setAttribute('onclick', 'window.__clicked = 1');
          document.body.appendChild(b);
          b.click();
        }"""
    )
    assert page.evaluate("[typeof window.__ran, typeof window.__clicked]") == ["undefined", "undefined"]
    refused = list(content_policy_refusals)
    content_policy_refusals.clear()  # seen on purpose: the fixture would fail the test on them
    assert len(refused) == 2 and all("script-src 'self'" in r for r in refused), refused


def test_the_forecast_draws_its_chart_and_the_period_choice_sends_the_form(live_server, page):
    manager, _rep, _featured = seed_sales_team()
    sign_in(page, live_server.url, manager.username)
    page.goto(f"{live_server.url}/sales/forecast/")
    expect(page.locator("#forecast-chart canvas")).to_have_count(1)
    period = page.locator("select[name=period]")
    other = period.locator("option").nth(1).get_attribute("value")
    with page.expect_navigation():
        period.select_option(other)
    assert f"period={other}" in page.url
    expect(page.locator("#forecast-chart canvas")).to_have_count(1)


def test_a_delete_asks_first_and_a_no_keeps_the_record(live_server, page):
    from kehu.customers.models import Contact

    _manager, rep, featured = seed_sales_team()
    contact = Contact.objects.filter(customer=featured, deleted_at__isnull=True).first()
    sign_in(page, live_server.url, rep.username)
    page.goto(f"{live_server.url}/customers/contacts/{contact.pk}/edit/")
    asked = []
    page.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    page.get_by_role("button", name="Delete contact").click()
    page.wait_for_timeout(300)
    assert asked == ["Move this contact to the recycle bin?"]
    contact.refresh_from_db()
    assert contact.deleted_at is None

    page.once("dialog", lambda d: d.accept())
    with page.expect_navigation():
        page.get_by_role("button", name="Delete contact").click()
    contact.refresh_from_db()
    assert contact.deleted_at is not None
