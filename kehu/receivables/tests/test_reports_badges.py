"""Overdue and over-limit shown where people look (WRN-1, CLS-4): badges on the customer list (asked
once per page, a fixed number of queries), owed / overdue / limit in the 360° header, the open money in
the handover brief."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kehu.classification.models import CreditRecord
from kehu.customers.models import Customer
from kehu.pool.services import handover_start
from kehu.receivables.tests.reports_fixtures import _credit_answers, customer, days_ago, order, plan, refresh  # noqa: F401

pytestmark = pytest.mark.django_db


def owing(team, n, today):
    """n customers of rep1: every even one overdue, every third one over its limit (a prospect: 0)."""
    made = []
    for i in range(n):
        c = customer(team.rep1, f"欠款客户{i:02d}", tier="prospect" if i % 3 == 0 else "ordinary")
        o = order(c, "1000", on=days_ago(40, today))
        plan(c, "1000", days_ago(10 if i % 2 == 0 else -10, today), order_=o)
        made.append(c)
    refresh([c.pk for c in made], today)
    return made


def page_queries(client, path) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200
    return len(ctx.captured_queries), response.content.decode()


def test_list_badges_with_a_fixed_number_of_queries(client, team):
    today = timezone.localdate()
    made = owing(team, 5, today)
    client.force_login(team.rep1)
    client.get("/customers/?sort=name")
    small, page = page_queries(client, "/customers/?sort=name")
    response = client.get("/customers/?sort=name")
    assert response.context["overdue"] == {made[0].pk, made[2].pk, made[4].pk}
    assert response.context["over_limit"] == {made[0].pk, made[3].pk}
    assert page.count(">overdue</span>") == 3 and page.count(">over credit limit</span>") == 2
    owing(team, 25, today)
    large, _page = page_queries(client, "/customers/?sort=name")
    assert large == small


def test_the_360_header_shows_owed_overdue_and_the_limit(client, team, finance):
    today = timezone.localdate()
    c = owing(team, 1, today)[0]  # a prospect: limit 0, 1000 overdue
    client.force_login(team.rep1)
    page = client.get(f"/customers/{c.pk}/").content.decode()
    assert 'id="money-header"' in page
    assert "¥1,000.00" in page and "over credit limit" in page
    assert f"/receivables/reports/statement/{c.pk}/" in page
    client.force_login(team.service1)  # no receivables permission: no header
    assert 'id="money-header"' not in client.get(f"/customers/{c.pk}/").content.decode()


def test_the_360_header_shows_the_latest_credit_record_s_limit(client, team, finance):
    today = timezone.localdate()
    c = owing(team, 1, today)[0]  # 1000 owed
    CreditRecord.objects.create(customer=c, rating="C", limit=Decimal("500"), investigated_on=today)
    CreditRecord.objects.create(customer=c, rating="A", limit=Decimal("1234.5"), investigated_on=today)
    client.force_login(team.rep1)

    def header() -> str:
        page = client.get(f"/customers/{c.pk}/").content.decode()
        start = page.index('id="money-header"')
        return page[start : page.index("</div>", start)]

    assert "Credit limit <strong>¥1,234.50</strong>" in header() and "over credit limit" not in header()
    CreditRecord.objects.create(customer=c, rating="C", limit=Decimal("999.99"), investigated_on=today)
    assert "Credit limit <strong>¥999.99</strong>" in header() and "over credit limit" in header()


def test_handover_brief_lists_open_money(client, team):
    today = timezone.localdate()
    made = owing(team, 2, today)
    handover = handover_start(
        actor=team.manager1, customers=Customer.objects.filter(pk__in=[m.pk for m in made]), to_user=team.rep2
    )
    client.force_login(team.rep2)
    page = client.get(f"/pool/handover/{handover.pk}/").content.decode()
    assert "Open contracts, orders and receivables" in page
    assert page.count('class="brief-money"') == 2
