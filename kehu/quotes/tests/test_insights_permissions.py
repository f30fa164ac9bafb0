"""Who may read a quote's insights: the panel, a line's history popover and the API."""

from decimal import Decimal

import pytest
from django.urls import reverse

from kehu.quotes.models import QuoteState
from kehu.quotes.tests.insights_factories import make_product, make_quote, spec_of

API = "/api/v1/quotes"


@pytest.fixture
def quote(team, customer_of, db):
    pump = make_product("P-200", "离心泵 XJ-200")
    customer = customer_of(team.rep1, name="苏州华星精密机械有限公司")
    make_quote(customer, team.rep1, [(spec_of(pump), "1000", "5")], state=QuoteState.ACCEPTED, number="QT-OLD")
    make_quote(customer, team.rep2, [(spec_of(pump), "1180")], state=QuoteState.SENT, number="QT-REP2")
    return make_quote(customer, team.rep1, [(spec_of(pump), "1250")], number="QT-NOW")


def test_anonymous_is_sent_to_sign_in(client, quote):
    line = quote.lines.get()
    for url in (
        reverse("quote_insights:panel", args=[quote.pk]),
        reverse("quote_insights:line-history", args=[line.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("who", ["rep3", "manager2", "rep2"])
def test_people_outside_the_quotes_scope_get_not_found(client, team, quote, who):
    client.force_login(getattr(team, who))
    assert client.get(reverse("quote_insights:panel", args=[quote.pk])).status_code == 404
    assert client.get(reverse("quote_insights:line-history", args=[quote.lines.get().pk])).status_code == 404
    assert client.get(reverse("quote_insights:panel", args=[10**9])).status_code == 404


@pytest.mark.parametrize("who", ["rep1", "manager1", "gm", "admin"])
def test_the_owner_and_those_above_read_the_panel(client, team, quote, who):
    client.force_login(getattr(team, who))
    response = client.get(reverse("quote_insights:panel", args=[quote.pk]), headers={"HX-Request": "true"})
    page = response.content.decode()
    assert response.status_code == 200 and 'id="insights-panel"' in page and "<html" not in page
    assert "QT-OLD" in page
    # rep1 may not open rep2's quote: named, not linked; the managers may.
    named = "QT-REP2" if who == "rep1" else f'<a href="/quotes/{quote.pk - 1}/">QT-REP2</a>'
    assert f"{named} by rep2 (Sent) quotes this customer a different price:" in page
    # Without htmx the panel comes on a page of its own.
    page = client.get(reverse("quote_insights:panel", args=[quote.pk])).content.decode()
    assert "<html" in page and 'id="insights-panel"' in page


def test_the_line_popover_shows_the_last_accepted_price(client, team, quote):
    client.force_login(team.rep1)
    response = client.get(reverse("quote_insights:line-history", args=[quote.lines.get().pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert 'Last accepted: <strong class="text-success">¥1,000.00</strong>' in page
    assert "QT-REP2" in page and "(−5%)" in page


def test_the_panel_refuses_to_be_written(client, team, quote):
    client.force_login(team.rep1)
    assert client.post(reverse("quote_insights:panel", args=[quote.pk])).status_code == 405


def test_api_permissions(api_client, team, quote):
    assert api_client().get(f"{API}/{quote.pk}/insights").status_code == 401
    assert api_client(team.rep3).get(f"{API}/{quote.pk}/insights").status_code == 404
    assert api_client(team.rep2).get(f"{API}/{quote.pk}/insights").status_code == 404
    assert api_client(team.rep1).get(f"{API}/0/insights").status_code == 422
    for user in (team.rep1, team.manager1):
        response = api_client(user).get(f"{API}/{quote.pk}/insights")
        assert response.status_code == 200


def test_api_body(api_client, team, quote):
    body = api_client(team.rep1).get(f"{API}/{quote.pk}/insights").json()
    assert body["quote_id"] == quote.pk and body["suggestions"] == [] and body["suggestions_counted_at"] is None
    (history,) = body["history"]
    assert [(e["reference"], e["unit_price"], e["state"], e["who"]) for e in history["entries"]] == [
        ("QT-REP2", "1180.0000", "sent", "rep2"),
        ("QT-OLD", "1000.0000", "accepted", "rep1"),
    ]
    assert history["last_accepted"]["discount"] == "5.00" and history["entries"][0]["link"] == ""
    (conflict,) = body["conflicts"]
    assert (conflict["reference"], conflict["who"], conflict["link"]) == ("QT-REP2", "rep2", "")
    assert [(line["price_here"], line["price_there"]) for line in conflict["lines"]] == [("1250.0000", "1180.0000")]
    assert Decimal(conflict["lines"][0]["price_here"]) == Decimal("1250")
