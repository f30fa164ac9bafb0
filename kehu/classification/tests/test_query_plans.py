"""The classification lists and the time report read through indexes (SQLite plans)."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kehu.classification import selectors

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="EXPLAIN QUERY PLAN is SQLite's")


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["gm", "manager1"])
def test_a_page_of_open_suggestions_walks_the_status_index(team, who):
    plan = selectors.suggestion_list(getattr(team, who))[:51].explain()
    assert "suggestion_status_idx" in plan
    assert "TEMP B-TREE" not in plan


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["gm", "manager1"])
def test_the_time_report_reads_activities_by_author_and_time(team, who):
    with CaptureQueriesContext(connection) as ctx:
        selectors.time_report(getattr(team, who), date(2026, 10, 1), date(2026, 10, 31))
    (sql,) = [q["sql"] for q in ctx.captured_queries if "activities_activity" in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql)
        plan = " ".join(str(row) for row in cursor.fetchall())
    assert "activity_owner_idx (owner_id=? AND occurred_at>? AND occurred_at<?)" in plan
    assert "SCAN activities_activity" not in plan


@pytest.mark.django_db
def test_the_evaluations_of_a_customer_walk_their_index(team, customer_of):
    customer = customer_of(team.rep1)
    assert "key_eval_customer_idx" in selectors.key_evaluations_of(customer)[:5].explain()
    assert "dealer_eval_customer_idx" in selectors.dealer_evaluations_of(customer)[:5].explain()
    assert "credit_customer_idx" in selectors.credit_records_of(customer)[:1].explain()
