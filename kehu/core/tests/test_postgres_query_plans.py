"""PostgreSQL: the list pages read the big tables through their indexes, never a whole table.

The SQLite plans are asserted next to each page's tests (EXPLAIN QUERY PLAN); these are the same
checks on PostgreSQL. Each page's queries are captured through the test client and explained with
`enable_seqscan` off: the planner then reads a table sequentially only when no index can answer
the query, so a "Seq Scan" on customers, opportunities or leads means a missing index, whatever
the few rows a test holds (at a million rows the benchmark measures the real choice:
bench/results/latest-pg.md)."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plans"),
]

BIG_TABLES = ("customers_customer", "sales_opportunity", "leads_lead")


@pytest.fixture
def company(team, customer_of):
    from kehu.leads.services import lead_create
    from kehu.sales.services import opportunity_create

    for owner in (team.rep1, team.rep2, team.rep3):
        for i in range(2):
            customer = customer_of(owner, name=f"无锡华星机械{owner.username}{i}有限公司", phone=f"0510-8888{i:04d}")
            opportunity_create(customer=customer, actor=owner, name="数控机床", amount=Decimal("100000"))
            lead_create(actor=owner, owner=owner, company_name=f"宁波恒达机电{i}有限公司", phone="057488881234")
    with connection.cursor() as cursor:
        for table in BIG_TABLES:
            cursor.execute(f"ANALYZE {table}")
    return team


def plans_of(client, user, path: str) -> list[tuple[str, str]]:
    """(query, plan) of every read of the big tables the page sends, explained with sequential scans off."""
    client.force_login(user)
    client.get(path)  # caches (content types, translations) filled
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    out = []
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for query in captured.captured_queries:
            sql = query["sql"]
            if sql.startswith("SELECT") and any(t in sql for t in BIG_TABLES):
                cursor.execute("EXPLAIN " + sql)
                out.append((sql, "\n".join(row[0] for row in cursor.fetchall())))
        cursor.execute("SET LOCAL enable_seqscan = on")
    return out


def seq_scans(plans) -> list[str]:
    found = []
    for sql, plan in plans:
        for table in re.findall(r"Seq Scan on (\w+)", plan):
            if table in BIG_TABLES:
                found.append(f"{table} in {sql[:300]}\n{plan}")
    return found


PAGES = [
    ("customer list", "/customers/"),
    ("search, 2 characters", "/customers/?q=华星"),
    ("search, 4 characters", "/customers/?q=华星机械"),
    ("search, phone fragment", "/customers/?q=88880001"),
    ("board", "/sales/"),
    ("lead list by score", "/leads/?sort=score"),
]


@pytest.mark.parametrize("who", ["rep1", "manager1", "gm"])
def test_pages_read_the_big_tables_through_indexes(client, company, who):
    """Each person's pages in one test: one company set up for all six."""
    found = []
    for page, path in PAGES:
        plans = plans_of(client, getattr(company, who), path)
        assert plans, f"the {page} sent no query on {BIG_TABLES}"
        found += [f"{page}: {scan}" for scan in seq_scans(plans)]
    assert not found, "\n\n".join(found)


def test_search_lookups_use_the_bigram_index_and_pg_trgm(company):
    """The lookups behind the search (every match of a word; the page's candidates are its newest
    2,000): one or two characters through the bigram array index, more through pg_trgm."""
    from kehu.customers.models import Customer
    from kehu.customers.search import GRAMS_SQL

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + GRAMS_SQL, ["华星"])
        short = "\n".join(row[0] for row in cursor.fetchall())
        sql, params = (
            Customer.objects.filter(search_text__contains="华星机械", deleted_at__isnull=True)
            .values("pk")
            .query.sql_with_params()
        )
        cursor.execute("EXPLAIN " + sql, params)
        long = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("SET LOCAL enable_seqscan = on")
    assert "Bitmap Index Scan on customer_search_grams" in short, short
    assert "Bitmap Index Scan on customer_search_trgm" in long, long
