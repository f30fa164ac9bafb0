"""The 360° page reads through indexes, never sorting a customer's whole history (SQLite plans)."""

import pytest
from django.db import connection

from kehu.activities.selectors import open_commitments_of
from kehu.core.audit import audit_entries_for
from kehu.customers.models import TimelineEntry

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="EXPLAIN QUERY PLAN is SQLite's")


@pytest.mark.django_db
def test_open_commitments_use_the_customer_commitment_index(team, customer_of):
    plan = open_commitments_of(customer_of(team.rep1))[:21].explain()
    assert "activity_customer_commit_idx" in plan
    assert "TEMP B-TREE" not in plan


@pytest.mark.django_db
def test_one_page_of_the_timeline_walks_its_index(team, customer_of):
    customer = customer_of(team.rep1)
    plan = TimelineEntry.objects.filter(customer=customer).order_by("-occurred_at", "-id")[:31].explain()
    assert "timeline_customer_idx" in plan
    assert "TEMP B-TREE" not in plan


@pytest.mark.django_db
def test_the_audit_trail_of_a_record_walks_its_index(team, customer_of):
    plan = audit_entries_for(customer_of(team.rep1), 20).explain()
    assert "audit_target_idx" in plan
    assert "TEMP B-TREE" not in plan
