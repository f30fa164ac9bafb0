"""Ageing buckets at their boundaries (SAL-9) on a controlled day: the summary from DueDay, the
customer rows from CustomerBalance and the plans, and `bucket_of` itself."""

from decimal import Decimal

import pytest

from kehu.receivables import ageing
from kehu.receivables.tests.reports_fixtures import TODAY, _credit_answers, customer, days_ago, plan, refresh  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (-1, None),
        (0, "d0_30"),
        (30, "d0_30"),
        (31, "d31_60"),
        (60, "d31_60"),
        (61, "d61_90"),
        (90, "d61_90"),
        (91, "d91_180"),
        (180, "d91_180"),
        (181, "d181"),
        (2000, "d181"),
    ],
)
def test_bucket_of_boundaries(days, bucket):
    assert ageing.bucket_of(days_ago(days), TODAY) == bucket


def test_bucket_of_no_date_is_not_due():
    assert ageing.bucket_of(None, TODAY) is None


@pytest.fixture
def boundary_plans(team):
    """rep1's customer owes 1 yuan at each side of each boundary (and 1000 not yet due, 7 partly paid)."""
    c = customer(team.rep1, "边界客户")
    amounts = {30: "1", 31: "2", 60: "4", 61: "8", 90: "16", 91: "32", 180: "64", 181: "128"}
    for days, amount in amounts.items():
        plan(c, amount, days_ago(days))
    plan(c, "1000", days_ago(-5))
    plan(c, "10", days_ago(0), received="3")  # due today, 7 outstanding
    plan(c, "500", days_ago(200), received="500")  # paid: not counted
    other = customer(team.rep3, "华南客户")
    plan(other, "300", days_ago(45))
    refresh([c.pk, other.pk])
    return c, other


def test_customer_rows_at_boundaries(team, boundary_plans):
    c, _other = boundary_plans
    page, rows = ageing.customer_page(team.admin, today=TODAY)
    row = next(r for r in rows if r.key == c.pk)
    assert row.buckets == {
        "d0_30": Decimal("8"),  # 30 days (1) + due today (7)
        "d31_60": Decimal("6"),  # 31 (2) + 60 (4)
        "d61_90": Decimal("24"),  # 61 (8) + 90 (16)
        "d91_180": Decimal("96"),  # 91 (32) + 180 (64)
        "d181": Decimal("128"),
    }
    assert row.due == Decimal("262")
    assert row.owed == Decimal("1262")
    assert row.not_due == Decimal("1000")
    assert page.count == 2


def test_summary_by_rep_and_department(team, boundary_plans):
    summary = ageing.ageing_summary(team.admin, level="rep", today=TODAY)
    by_rep = {r.key: r for r in summary.rows}
    rep1 = by_rep[team.rep1.pk]
    assert rep1.buckets == {
        "d0_30": Decimal("8"),
        "d31_60": Decimal("6"),
        "d61_90": Decimal("24"),
        "d91_180": Decimal("96"),
        "d181": Decimal("128"),
    }
    assert rep1.not_due == Decimal("1000")
    assert rep1.owed == Decimal("1262")
    assert by_rep[team.rep3.pk].buckets["d31_60"] == Decimal("300")
    assert summary.total.owed == Decimal("1562")
    departments = ageing.ageing_summary(team.admin, level="department", today=TODAY)
    assert {r.label: r.owed for r in departments.rows} == {"华东销售部": Decimal("1262"), "华南销售部": Decimal("300")}
    assert dict(departments.years) == {2025: Decimal("128"), 2026: Decimal("1434")}


def test_manager_sees_only_the_team(team, boundary_plans):
    summary = ageing.ageing_summary(team.manager2, level="rep", today=TODAY)
    assert [r.key for r in summary.rows] == [team.rep3.pk]
    assert summary.total.owed == Decimal("300")
    page, rows = ageing.customer_page(team.manager2, today=TODAY)
    assert [r.label for r in rows] == ["华南客户"]


def test_department_drill_down(team, boundary_plans):
    summary = ageing.ageing_summary(team.admin, level="rep", department=team.south.pk, today=TODAY)
    assert [r.key for r in summary.rows] == [team.rep3.pk]
    page, rows = ageing.customer_page(team.admin, owner=team.rep1.pk, today=TODAY)
    assert [r.label for r in rows] == ["边界客户"]


def test_rep_may_not_read_the_report(team, boundary_plans):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        ageing.ageing_summary(team.rep1)
