"""Who sees which quotes; the list's filters, pages and query counts; versions."""

from datetime import timedelta

import pytest
from django.db import connection
from django.http import Http404
from django.utils import timezone

from kehu.customers.teams import team_member_add
from kehu.quotes import selectors, services
from kehu.quotes.models import Quote, QuoteState
from kehu.quotes.selectors import QuoteFilters
from kehu.quotes.tests.factories import make_quote


@pytest.fixture
def quotes(book, team, customer_of):
    east = customer_of(team.rep1, name="苏州华星精密机械有限公司")
    east2 = customer_of(team.rep2, name="无锡恒通机电有限公司")
    south = customer_of(team.rep3, name="广州南方重工有限公司")
    return {
        "rep1": make_quote(east, team.rep1, [(book.lathe_a.pk, 1)]),
        "rep2": make_quote(east2, team.rep2, [(book.oil_46.pk, 2)]),
        "rep3": make_quote(south, team.rep3, [(book.lathe_b.pk, 3)]),
    }


def visible(user):
    return {q.owner.username for q in selectors.quote_qs_visible_to(user).select_related("owner")}


def test_who_sees_which_quotes(quotes, team):
    assert visible(team.rep1) == {"rep1"}
    assert visible(team.manager1) == {"rep1", "rep2"}
    assert visible(team.manager2) == {"rep3"}
    assert visible(team.gm) == {"rep1", "rep2", "rep3"}
    assert visible(team.service1) == set()  # no quote permission
    assert visible(team.marketing1) == set()
    from django.contrib.auth.models import AnonymousUser

    assert visible(AnonymousUser()) == set()


def test_account_team_members_read_but_do_not_change(quotes, team):
    quote = quotes["rep1"]
    team_member_add(customer=quote.customer, user=team.rep3, role="service_specialist", actor=team.manager1)
    rep3 = type(team.rep3).objects.get(pk=team.rep3.pk)  # the shares are cached per request (user object)
    assert visible(rep3) == {"rep1", "rep3"}
    assert selectors.quote_get(rep3, quote.pk) == quote
    assert services.may_change(rep3, quote) is False
    assert services.may_change(team.rep1, quote) and services.may_change(team.manager1, quote)


def test_quote_get_outside_the_scope_is_404(quotes, team):
    with pytest.raises(Http404):
        selectors.quote_get(team.rep1, quotes["rep2"].pk)
    for bad in ("x", None, 2**80, -1):
        with pytest.raises(Http404):
            selectors.quote_get(team.rep1, bad)


def test_filters(quotes, team, book):
    gm = team.gm
    services.quote_submit(quote=quotes["rep2"], actor=team.rep2)
    Quote.objects.filter(pk=quotes["rep3"].pk).update(valid_until=timezone.localdate() + timedelta(days=90))

    def numbers(**f):
        return [q.owner.username for q in selectors.quote_list(gm, QuoteFilters(**f), limit=10).rows]

    assert numbers(state=QuoteState.APPROVED) == ["rep2"]
    assert numbers(owner_id=team.rep3.pk) == ["rep3"]
    assert numbers(customer_id=quotes["rep1"].customer_id) == ["rep1"]
    assert numbers(q="恒通") == ["rep2"]
    assert numbers(q=quotes["rep3"].number.lower()) == ["rep3"]
    assert numbers(q=quotes["rep1"].number[:6]) == ["rep2", "rep3", "rep1"]
    assert numbers(valid_from=timezone.localdate() + timedelta(days=60)) == ["rep3"]
    assert numbers(valid_to=timezone.localdate() + timedelta(days=60)) == ["rep2", "rep1"]
    assert numbers(sort="valid_until") == ["rep1", "rep2", "rep3"]


def test_list_pages_and_query_count(book, team, customer_of, django_assert_max_num_queries):
    customer = customer_of(team.rep1)
    for _ in range(30):
        services.quote_create(customer=customer, actor=team.rep1)
    manager = type(team.manager1).objects.get(pk=team.manager1.pk)
    # The manager's scope and account-team shares (four queries, once per request), rows with their
    # customer and owner, the capped count.
    with django_assert_max_num_queries(6):
        page = selectors.quote_list(manager, QuoteFilters(), limit=25, offset=0)
        [(q.customer.name, q.owner.username) for q in page.rows]
    with django_assert_max_num_queries(2):
        selectors.quote_list(
            manager, QuoteFilters(state="draft", q=f"Q{timezone.localdate().year}-00"), limit=25, offset=0
        )
    # And the customers' search index once (on PostgreSQL a 1–2 character word also reads its share of
    # the customers first, kehu.customers.search.gram_share).
    with django_assert_max_num_queries(4 if connection.vendor == "postgresql" else 3):
        page = selectors.quote_list(manager, QuoteFilters(state="draft", q="华星"), limit=25, offset=0)
    assert page.count == 30
    assert (len(page.rows), page.count, page.has_next) == (25, 30, True)
    page = selectors.quote_list(manager, QuoteFilters(), limit=25, offset=25)
    assert (len(page.rows), page.has_next) == (5, False)


def test_versions_and_lines(quotes, team, book):
    quote = quotes["rep1"]
    services.quote_submit(quote=quote, actor=team.rep1)
    revision = services.quote_revise(quote=quote, actor=team.rep1)
    assert [(q.revision, q.state) for q in selectors.quote_versions(team.rep1, revision)] == [
        (1, QuoteState.SUPERSEDED),
        (2, QuoteState.DRAFT),
    ]
    assert [ln.code for ln in selectors.quote_lines(revision)] == ["CK6140-A"]
    assert selectors.quote_versions(team.rep2, revision) == []


def test_the_recycle_bin(quotes, team):
    services.quote_delete(quote=quotes["rep1"], actor=team.rep1)
    assert list(selectors.deleted_quotes_for(team.rep1)) == [quotes["rep1"]]
    assert list(selectors.deleted_quotes_for(team.rep2)) == []
    assert selectors.deleted_quote_get(team.manager1, quotes["rep1"].pk) == quotes["rep1"]
    with pytest.raises(Http404):
        selectors.deleted_quote_get(team.rep2, quotes["rep1"].pk)
