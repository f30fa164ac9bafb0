"""Evaluations, credit and revenue validation in the services; the sales-time report's figures;
query counts of the lists."""

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kehu.activities.services import activity_delete, activity_log
from kehu.classification import selectors, services
from kehu.classification.models import ClassificationSettings, CreditRecord, DealerEvaluation, KeyAccountEvaluation
from kehu.core.models import AuditEntry
from kehu.customers.models import Customer, TimelineEntry

SCORES = {"enthusiasm": 3, "capability": 3, "credit": 3, "social": 3}


@pytest.fixture
def customer(team, customer_of):
    return customer_of(team.rep1, name="无锡恒通机电设备有限公司")


@pytest.mark.parametrize("field", list(SCORES))
@pytest.mark.parametrize("value", [0, 6, None])
def test_dealer_scores_out_of_range_are_refused(team, customer, field, value):
    with pytest.raises(ValidationError) as exc:
        services.dealer_evaluation_create(customer=customer, actor=team.rep1, **{**SCORES, field: value})
    assert field in exc.value.message_dict
    assert not DealerEvaluation.objects.exists()


def test_a_dealer_evaluation_is_recorded_with_timeline_and_audit(team, customer):
    evaluation = services.dealer_evaluation_create(
        customer=customer, actor=team.rep1, **{**SCORES, "credit": 5}, credit_notes="从不拖欠货款"
    )
    assert evaluation.total == 14
    assert TimelineEntry.objects.filter(customer=customer, kind="evaluated").count() == 1
    assert AuditEntry.objects.filter(target_type="classification.dealerevaluation", target_id=evaluation.pk).exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"potential_volume": Decimal("-1")}, "potential_volume"),
        ({"potential_margin": Decimal("101")}, "potential_margin"),
        ({"attractiveness": "huge"}, "attractiveness"),
        ({"relationship_state": ""}, "relationship_state"),
    ],
)
def test_key_evaluation_validation(team, customer, change, field):
    fields = {
        "attractiveness": "high",
        "potential_volume": Decimal("100"),
        "potential_margin": Decimal("10"),
        "relationship_state": "good",
        "relationship_level": "reactive",
    }
    with pytest.raises(ValidationError) as exc:
        services.key_evaluation_create(customer=customer, actor=team.rep1, **{**fields, **change})
    assert field in exc.value.message_dict
    assert not KeyAccountEvaluation.objects.exists()


@pytest.mark.parametrize("limit", [Decimal("-0.01"), "-5", "abc", "Infinity"])
def test_negative_or_bad_credit_limits_are_refused(team, customer, limit):
    with pytest.raises(ValidationError) as exc:
        services.credit_set(customer=customer, actor=team.manager1, rating="A", limit=limit)
    assert "limit" in exc.value.message_dict
    assert not CreditRecord.objects.exists()


def test_credit_history_is_kept_and_the_latest_is_in_force(team, customer):
    services.credit_set(customer=customer, actor=team.manager1, rating="B", limit=Decimal("10000"))
    services.credit_set(customer=customer, actor=team.gm, rating="AA", limit=Decimal("200000"))
    current = selectors.credit_current(customer)
    assert (current.rating, current.limit) == ("AA", Decimal("200000"))
    assert CreditRecord.objects.count() == 2
    last = TimelineEntry.objects.filter(customer=customer, kind="credit_changed").order_by("-id").first()
    assert last.payload["changes"] == {"rating": ["B", "AA"], "limit": ["10000.00", "200000.00"]}


@pytest.mark.parametrize("actor", ["rep1", "rep2"])
def test_credit_needs_the_permission(team, customer, actor):
    with pytest.raises(PermissionDenied):
        services.credit_set(customer=customer, actor=getattr(team, actor), rating="A", limit=1)


def test_evaluations_outside_scope_are_refused(team, customer):
    with pytest.raises(PermissionDenied):
        services.dealer_evaluation_create(customer=customer, actor=team.rep3, **SCORES)
    with pytest.raises(PermissionDenied):
        services.revenue_record(customer=customer, actor=team.manager2, year=2026, revenue=1, potential=1)


def test_negative_revenue_is_refused(team, customer):
    with pytest.raises(ValidationError):
        services.revenue_record(customer=customer, actor=team.rep1, year=2026, revenue=-1, potential=0)


def test_revenue_for_a_year_is_corrected_not_duplicated(team, customer):
    services.revenue_record(customer=customer, actor=team.rep1, year=2026, revenue=100, potential=0)
    services.revenue_record(customer=customer, actor=team.rep1, year=2026, revenue=250, potential=5)
    assert [(r.year, r.revenue, r.potential) for r in selectors.revenue_of(customer)] == [
        (2026, Decimal("250.00"), Decimal("5.00"))
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"key_share": 70, "ordinary_share": 40}, "ordinary_share"),
        ({"key_share": -1}, "key_share"),
        ({"credit_limit_key": -1}, "credit_limit_key"),
        ({"potential_weight": 11}, "potential_weight"),
    ],
)
def test_settings_validation(team, change, field):
    with pytest.raises(ValidationError) as exc:
        services.settings_update(actor=team.gm, **change)
    assert field in exc.value.message_dict
    assert ClassificationSettings.load().key_share == 10


def test_settings_are_for_the_general_manager_and_administrators(team):
    with pytest.raises(PermissionDenied):
        services.settings_update(actor=team.manager1, key_share=20)
    services.settings_update(actor=team.gm, key_share=20)
    assert ClassificationSettings.load().key_share == 20


# --- the sales-time report ------------------------------------------------------------------------

TZ = timezone.get_fixed_timezone(8 * 60)


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 10, day, hour, tzinfo=TZ)


@pytest.fixture
def logged(team, customer_of):
    """October 2026: rep1 120 min key + 60 ordinary; rep2 30 key + 90 prospect + one untimed;
    rep3 (south) 45 key. Outside the period or deleted: not counted."""
    key1 = customer_of(team.rep1, name="重点客户甲", tier="key")
    ord1 = customer_of(team.rep1, name="普通客户乙", tier="ordinary")
    key2 = customer_of(team.rep2, name="重点客户丙", tier="key")
    pro2 = customer_of(team.rep2, name="潜在客户丁", tier="prospect")
    key3 = customer_of(team.rep3, name="重点客户戊", tier="key")
    log = activity_log
    log(customer=key1, actor=team.rep1, subject="拜访", occurred_at=at(1), duration_minutes=90)
    log(customer=key1, actor=team.rep1, subject="电话", kind="call", occurred_at=at(31, 23), duration_minutes=30)
    log(customer=ord1, actor=team.rep1, subject="拜访", occurred_at=at(15), duration_minutes=60)
    log(customer=key2, actor=team.rep2, subject="拜访", occurred_at=at(2), duration_minutes=30)
    log(customer=pro2, actor=team.rep2, subject="拜访", occurred_at=at(3), duration_minutes=90)
    log(customer=pro2, actor=team.rep2, subject="便条", kind="note", occurred_at=at(4))
    log(customer=key3, actor=team.rep3, subject="拜访", occurred_at=at(5), duration_minutes=45)
    # outside the period: 30 Sep and 1 Nov (Shanghai time)
    log(
        customer=key1,
        actor=team.rep1,
        subject="早",
        occurred_at=datetime(2026, 9, 30, 23, tzinfo=TZ),
        duration_minutes=500,
    )
    log(
        customer=key1,
        actor=team.rep1,
        subject="晚",
        occurred_at=datetime(2026, 11, 1, 0, 30, tzinfo=TZ),
        duration_minutes=500,
    )
    gone = log(customer=ord1, actor=team.rep1, subject="删掉", occurred_at=at(6), duration_minutes=999)
    activity_delete(activity=gone, actor=team.rep1)
    return team


def figures(row):
    return (row.label, row.minutes, row.total, row.activities, row.untimed, row.key_share)


def test_time_report_figures_for_a_manager(logged):
    team = logged
    report = selectors.time_report(team.manager1, date(2026, 10, 1), date(2026, 10, 31))
    assert [figures(r) for r in report.reps] == [
        (team.rep1.display_name, {"prospect": 0, "ordinary": 60, "key": 120}, 180, 3, 0, Decimal("66.7")),
        (team.rep2.display_name, {"prospect": 90, "ordinary": 0, "key": 30}, 120, 3, 1, Decimal("25.0")),
    ]
    assert [figures(r) for r in report.teams] == [
        ("华东销售部", {"prospect": 90, "ordinary": 60, "key": 150}, 300, 6, 1, Decimal("50.0"))
    ]
    assert report.total.total == 300 and report.target == Decimal("60")


def test_time_report_for_the_general_manager_covers_both_teams(logged):
    report = selectors.time_report(logged.gm, date(2026, 10, 1), date(2026, 10, 31))
    assert sorted((r.label, r.total) for r in report.teams) == [("华东销售部", 300), ("华南销售部", 45)]
    assert report.total.minutes == {"prospect": 90, "ordinary": 60, "key": 195}


def test_time_report_for_a_rep_covers_only_themselves(logged):
    report = selectors.time_report(logged.rep2, date(2026, 10, 1), date(2026, 10, 31))
    assert [r.label for r in report.reps] == [logged.rep2.display_name]


def test_time_report_page_shows_the_figures(client, logged):
    client.force_login(logged.manager1)
    page = client.get("/classification/time/?start=2026-10-01&end=2026-10-31").content.decode()
    assert "华东销售部" in page and "key 50.0% (target 60%)" in page and "key 66.7% (target 60%)" in page
    assert "1 activity without a duration" in page
    bad = client.get("/classification/time/?start=2026-10-31&end=2026-10-01")
    assert bad.status_code == 200 and "The end comes before the start." in bad.content.decode()


def test_time_report_runs_one_query_for_the_activities(logged, django_assert_max_num_queries):
    with CaptureQueriesContext(connection) as ctx:
        selectors.time_report(logged.gm, date(2026, 10, 1), date(2026, 10, 31))
    activity_queries = [q for q in ctx.captured_queries if "activities_activity" in q["sql"]]
    assert len(activity_queries) == 1
    assert "GROUP BY" in activity_queries[0]["sql"]


# --- query counts ---------------------------------------------------------------------------------


def _queries(client, path) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx.captured_queries)


def test_lists_do_not_grow_with_the_data(client, team, customer_of, api_client):
    year = timezone.localdate().year

    def grow(n, start):
        for i in range(start, start + n):
            c = customer_of(team.rep1 if i % 2 else team.rep2, name=f"增长客户{i}", tier="key")
            services.revenue_record(customer=c, actor=c.owner, year=year, revenue=i, potential=0)
            services.credit_set(customer=c, actor=team.manager1, rating="A", limit=i)
            services.dealer_evaluation_create(customer=c, actor=c.owner, **SCORES)
        services.suggestions_refresh(year=year)

    grow(2, 0)
    client.force_login(team.manager1)
    api = api_client(team.manager1)
    paths = ["/classification/", "/classification/time/", f"/customers/{Customer.objects.first().pk}/"]
    api_paths = [
        "/api/v1/classification/suggestions",
        "/api/v1/classification/credit",
        "/api/v1/classification/evaluations/dealer",
    ]
    small = [_queries(client, p) for p in paths]
    api.get(api_paths[0])  # the token's last use is stamped once a minute
    with CaptureQueriesContext(connection) as ctx:
        for p in api_paths:
            api.get(p)
    small_api = len(ctx.captured_queries)
    grow(12, 100)
    assert [_queries(client, p) for p in paths] == small
    with CaptureQueriesContext(connection) as ctx:
        for p in api_paths:
            assert api.get(p).status_code == 200
    assert len(ctx.captured_queries) == small_api
