"""Two reps quoting one customer two prices for the same specification (SAL-4): both are warned."""

from decimal import Decimal

import pytest
from django.urls import reverse

from kehu.notifications.models import Notification
from kehu.quotes.events import QuoteEvent
from kehu.quotes.insights import price_conflicts
from kehu.quotes.insights_services import price_conflicts_tell
from kehu.quotes.models import PriceConflictNotice, QuoteLine, QuoteState
from kehu.quotes.tests.insights_factories import make_product, make_quote, spec_of

D = Decimal


@pytest.fixture
def pump(db):
    return make_product("P-200", "离心泵 XJ-200", specs=2)


@pytest.fixture
def customer(team, customer_of):
    return customer_of(team.rep1, name="苏州华星精密机械有限公司")


def panel(client, user, quote):
    client.force_login(user)
    response = client.get(reverse("quote_insights:panel", args=[quote.pk]), headers={"HX-Request": "true"})
    assert response.status_code == 200
    return response.content.decode()


def test_two_reps_different_prices_both_see_the_warning(team, customer, pump, client):
    a = spec_of(pump)
    mine = make_quote(customer, team.rep1, [(a, "1250")])
    theirs = make_quote(customer, team.rep2, [(a, "1180")], state=QuoteState.SENT)

    (conflict,) = price_conflicts(mine, team.rep1)
    assert (conflict.quote_id, conflict.who, conflict.link) == (theirs.pk, "rep2", "")
    assert [(c.code, c.price_here, c.price_there) for c in conflict.lines] == [("P-200-A", D("1250"), D("1180"))]
    (back,) = price_conflicts(theirs, team.rep2)
    assert (back.quote_id, back.who, back.lines[0].price_here, back.lines[0].price_there) == (
        mine.pk, "rep1", D("1180"), D("1250"),
    )  # fmt: skip

    # Each rep's panel names the other quote, its rep and both prices, without a link they could not follow.
    page = panel(client, team.rep1, mine)
    assert f"{theirs.number} by rep2 (Sent) quotes this customer a different price:" in page
    assert "¥1,250.00 here, ¥1,180.00 there" in page and f"/quotes/{theirs.pk}/" not in page
    page = panel(client, team.rep2, theirs)
    assert f"{mine.number} by rep1 (Draft) quotes this customer a different price:" in page
    assert "¥1,180.00 here, ¥1,250.00 there" in page
    # Their manager may open both quotes: the warning links to the other one.
    page = panel(client, team.manager1, mine)
    assert f'<a href="/quotes/{theirs.pk}/">{theirs.number}</a> by rep2' in page


def test_equal_prices_warn_nobody(team, customer, pump, client):
    a = spec_of(pump)
    mine = make_quote(customer, team.rep1, [(a, "1250")])
    make_quote(customer, team.rep2, [(a, "1250.0000")], state=QuoteState.APPROVED)
    assert price_conflicts(mine) == []
    assert "quotes this customer a different price" not in panel(client, team.rep1, mine)


@pytest.mark.parametrize(
    "closed", [QuoteState.ACCEPTED, QuoteState.REJECTED, QuoteState.EXPIRED, QuoteState.SUPERSEDED]
)
def test_a_closed_quote_warns_nobody(team, customer, pump, closed):
    a = spec_of(pump)
    mine = make_quote(customer, team.rep1, [(a, "1250")])
    other = make_quote(customer, team.rep2, [(a, "1180")], state=closed)
    assert price_conflicts(mine) == []
    assert price_conflicts(other) == []


def test_only_other_reps_other_customers_and_the_same_specification_count(team, customer, customer_of, pump):
    a, b = spec_of(pump, 0), spec_of(pump, 1)
    mine = make_quote(customer, team.rep1, [(a, "1250")])
    make_quote(customer, team.rep1, [(a, "1100")])  # the same rep's own other quote
    make_quote(customer, team.rep2, [(b, "1100")])  # another specification of the product
    make_quote(customer_of(team.rep2, name="别家客户"), team.rep2, [(a, "1100")])  # another customer
    gone = make_quote(customer, team.rep2, [(a, "1100")])
    gone.deleted_at = gone.created_at
    gone.save()
    assert price_conflicts(mine) == []


def _told(user):
    return list(
        Notification.objects.filter(recipient=user, kind=QuoteEvent.PRICE_CONFLICT).values_list("summary", "link")
    )


def test_both_owners_are_told_once_until_the_prices_change(team, customer, pump, django_capture_on_commit_callbacks):
    a = spec_of(pump)
    mine = make_quote(customer, team.rep1, [(a, "1250")])
    theirs = make_quote(customer, team.rep2, [(a, "1180")], state=QuoteState.SENT)

    with django_capture_on_commit_callbacks(execute=True):
        assert price_conflicts_tell(mine, team.rep1) == 1
    assert _told(team.rep1) == [
        (f"{theirs.number} by rep2 quotes 苏州华星精密机械有限公司 P-200-A at ¥1,180.00; your {mine.number} says ¥1,250.00.",
         f"/quotes/{mine.pk}/"),
    ]  # fmt: skip
    assert _told(team.rep2) == [
        (f"{mine.number} by rep1 quotes 苏州华星精密机械有限公司 P-200-A at ¥1,250.00; your {theirs.number} says ¥1,180.00.",
         f"/quotes/{theirs.pk}/"),
    ]  # fmt: skip

    # Asked again, from either side, with the same prices: nobody is told twice.
    with django_capture_on_commit_callbacks(execute=True):
        assert price_conflicts_tell(mine, team.rep1) == 0
        assert price_conflicts_tell(theirs, team.rep2) == 0
    assert len(_told(team.rep1)) == len(_told(team.rep2)) == 1

    # A new price is a new conflict: told again.
    QuoteLine.objects.filter(quote=theirs).update(unit_price=D("1150"))
    with django_capture_on_commit_callbacks(execute=True):
        assert price_conflicts_tell(theirs, team.rep2) == 1
    assert len(_told(team.rep1)) == len(_told(team.rep2)) == 2

    # Agreed: the pair is forgotten, and a later difference is told again.
    QuoteLine.objects.filter(quote=theirs).update(unit_price=D("1250"))
    assert price_conflicts_tell(theirs, team.rep2) == 0
    assert not PriceConflictNotice.objects.exists()
    QuoteLine.objects.filter(quote=theirs).update(unit_price=D("1150"))
    with django_capture_on_commit_callbacks(execute=True):
        assert price_conflicts_tell(mine, team.manager1) == 1
    assert len(_told(team.rep1)) == len(_told(team.rep2)) == 3


def test_the_summary_is_in_each_owners_language(team, customer, pump, django_capture_on_commit_callbacks):
    team.rep2.language = "zh-hans"
    team.rep2.save()
    a = spec_of(pump)
    mine = make_quote(customer, team.rep1, [(a, "1250"), (spec_of(pump, 1), "1300")])
    make_quote(customer, team.rep2, [(a, "1180"), (spec_of(pump, 1), "1290")], state=QuoteState.SENT)
    with django_capture_on_commit_callbacks(execute=True):
        price_conflicts_tell(mine, team.rep1)
    ((summary, _link),) = _told(team.rep2)
    assert summary.startswith(f"{mine.number}（rep1）给 苏州华星精密机械有限公司 的 P-200-A 报价 ¥1,250.00")
    ((summary, _link),) = _told(team.rep1)
    assert summary.endswith("1 more product differs.")


def test_through_the_quote_services_two_reps_are_warned(team, customer_of, client, django_capture_on_commit_callbacks):
    """The issue's test, with quotes made and priced by the quote services: rep1 and rep2 (on the
    account team) quote one customer; different prices → both warned and told; the same price → no
    warning; once one quote is accepted → no warning."""
    from kehu.customers.teams import team_member_add
    from kehu.quotes import services
    from kehu.quotes.tests.factories import Book
    from kehu.quotes.tests.factories import make_quote as quote_by_services

    book = Book()
    customer = customer_of(team.rep1, name="苏州华星精密机械有限公司")
    team_member_add(customer=customer, user=team.rep2, role="other", actor=team.manager1)
    mine = quote_by_services(customer, team.rep1, [(book.lathe_a.pk, 3)])
    theirs = quote_by_services(customer, team.rep2, [(book.lathe_a.pk, 5)])
    assert price_conflicts(mine) == []  # both at the book price: 100.00

    with django_capture_on_commit_callbacks(execute=True):
        services.quote_line_update(line=theirs.lines.get(), actor=team.rep2, unit_price="96")
        # The line service told both owners; asking again tells nobody twice.
        assert price_conflicts_tell(theirs, team.rep2) == 0
    assert "¥100.00 here, ¥96.00 there" in panel(client, team.rep1, mine)
    assert "¥96.00 here, ¥100.00 there" in panel(client, team.rep2, theirs)
    assert len(_told(team.rep1)) == len(_told(team.rep2)) == 1

    with django_capture_on_commit_callbacks(execute=True):
        services.quote_line_update(line=mine.lines.get(), actor=team.rep1, unit_price="96")
        assert price_conflicts_tell(mine, team.rep1) == 0
    assert "quotes this customer a different price" not in panel(client, team.rep1, mine)

    services.quote_line_update(line=mine.lines.get(), actor=team.rep1, unit_price="98")
    services.quote_submit(quote=mine, actor=team.rep1)
    mine.refresh_from_db()
    services.quote_mark_sent(quote=mine, actor=team.rep1)
    mine.refresh_from_db()
    assert price_conflicts(mine) != []
    services.quote_accept(quote=mine, actor=team.rep1)
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert price_conflicts(mine) == [] and price_conflicts(theirs) == []
    assert "quotes this customer a different price" not in panel(client, team.rep2, theirs)
