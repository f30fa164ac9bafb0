"""Hostile text stored in a customer's name, a contact, an activity's note, a deal and a service
ticket (the XSS payloads of kehu/core/tests/payloads.py) runs nowhere it is shown: the customer list,
the search results, the 360° page, the sales board and the ticket. No dialog opens, the page reports
no error, nothing the injected code would set is set, and Chromium refuses nothing under the
Content-Security-Policy (the `content_policy_refusals` fixture fails the test on any refusal)."""

import pytest
from playwright.sync_api import expect

from kehu.core.tests.payloads import PAYLOADS

from .helpers import seed_sales_team, sign_in, watch_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

XSS = {p.marker: p.text for p in PAYLOADS if p.family.startswith("xss") or p.family in ("template", "entities")}
# Code that would run if any of it became markup: it leaves a trace besides the dialog.
TRACE = "<img src=x onerror=\"window.__pwned='kxp30'\">"


def test_stored_payloads_run_nowhere(live_server, page):
    from kehu.activities.services import activity_log
    from kehu.customers.models import Customer
    from kehu.customers.services import contact_create, customer_update
    from kehu.sales.services import opportunity_create
    from kehu.support.services import ticket_open
    from kehu.users.models import User

    _manager, rep, customer = seed_sales_team()
    name = "kxp01 " + XSS["kxp02"] + TRACE
    customer = customer_update(
        customer=customer, actor=rep, expected_version=customer.version, name=name[:200], notes="\n".join(XSS.values())
    )
    contact_create(customer=customer, actor=rep, name=XSS["kxp03"][:50], position=XSS["kxp05"][:50])
    activity_log(customer=customer, actor=rep, kind="note", subject=XSS["kxp01"], content="\n".join(XSS.values()))
    deal = opportunity_create(customer=customer, actor=rep, name=XSS["kxp06"][:200])
    service = User.objects.filter(is_superuser=True).first() or rep
    ticket = ticket_open(actor=service, customer=customer, subject=XSS["kxp05"][:200])
    assert Customer.objects.get(pk=customer.pk).name == name[:200]

    seen = watch_page(page)
    sign_in(page, live_server.url, rep.username)
    pages = [
        ("/customers/", customer.name),
        ("/customers/?q=kxp01", customer.name),
        (f"/customers/{customer.pk}/", XSS["kxp06"][:40]),
        ("/sales/", deal.name[:40]),
        (f"/service/tickets/{ticket.pk}/", ticket.subject[:40]),
    ]
    for path, shown in pages:
        response = page.goto(live_server.url + path)
        assert response.status == 200, path
        expect(page.get_by_text(shown[:40]).first).to_be_attached()
        page.wait_for_timeout(150)  # an injected image would have failed to load and fired by now
        assert page.evaluate("typeof window.__pwned") == "undefined", path
        assert page.locator("[data-x], b[onmouseover], img[onerror], svg[onload]").count() == 0, path
    assert seen == {"dialogs": [], "errors": [], "requests": []}
