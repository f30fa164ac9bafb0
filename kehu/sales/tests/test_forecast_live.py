"""The forecast follows each change to a deal when it commits (only the cells it touched), shows
the rolling twelve months or a calendar year, flags open deals past their close date, and lists
only people with deals or targets in the period."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kehu.sales import services
from kehu.sales.forecast import (
    forecast_for,
    forecast_refresh,
    forecast_refresh_cells,
    period_from,
    rolling_period,
    year_period,
)
from kehu.sales.models import ForecastRow, Opportunity, Target
from kehu.sales.services import target_set
from kehu.sales.tests.factories import make_opportunity, stage
from kehu.users.models import User
from kehu.users.roles import Role

TODAY = timezone.localdate()
THIS = TODAY.replace(day=1)


def month(offset: int) -> date:
    """The first day of the month `offset` months from this one."""
    y, m = divmod(THIS.year * 12 + THIS.month - 1 + offset, 12)
    return date(y, m + 1, 1)


def rows() -> dict:
    return {
        (r.owner_id, r.month): (r.pipeline_amount, r.weighted_amount, r.committed_amount, r.won_amount, r.open_count)
        for r in ForecastRow.objects.all()
    }


@pytest.fixture
def live(django_capture_on_commit_callbacks):
    """Run what would run when the request's transaction commits."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def test_every_change_keeps_the_rows_equal_to_a_full_recount(team, customer_of, live):
    c1 = customer_of(team.rep1)

    def same_as_recount():
        incremental = rows()
        forecast_refresh()
        assert rows() == incremental
        return incremental

    with live():
        a = make_opportunity(c1, team.rep1, name="a", amount="100000", expected_close_on=month(1) + timedelta(days=9))
        b = make_opportunity(c1, team.rep1, name="b", amount="40000", expected_close_on=month(1))
    assert same_as_recount()[(team.rep1.pk, month(1))][0] == Decimal("140000.00")
    steps = [
        lambda: services.opportunity_update(opportunity=a, actor=team.rep1, expected_version=a.version, amount=120000),
        lambda: services.opportunity_update(
            opportunity=a, actor=team.rep1, expected_version=a.version, expected_close_on=month(3)
        ),
        lambda: services.opportunity_assign(opportunity=a, owner=team.rep2, actor=team.manager1),
        lambda: services.opportunity_move(opportunity=a, stage=stage("商务谈判"), actor=team.manager1),
        lambda: services.opportunity_move(opportunity=a, stage=stage("赢单"), actor=team.manager1, reason="交期"),
        lambda: services.opportunity_move(opportunity=b, stage=stage("输单"), actor=team.rep1, reason="价格"),
        lambda: services.opportunity_delete(opportunity=a, actor=team.manager1),
        lambda: services.opportunity_restore(opportunity=Opportunity.objects.get(pk=a.pk), actor=team.manager1),
        lambda: services.opportunity_move(
            opportunity=Opportunity.objects.get(pk=a.pk), stage=stage("需求确认"), actor=team.manager1
        ),
    ]
    seen = []
    for step in steps:
        with live():
            step()
        seen.append(same_as_recount())
    assert (team.rep1.pk, month(1)) not in seen[-1]  # b was lost, a moved away: nothing left there
    won = seen[4][(team.rep2.pk, THIS)]
    assert won[3] == Decimal("120000.00") and won[2] == Decimal("120000.00")  # won this month: 确定金额 too
    assert seen[6] == {}  # a deleted, b lost
    assert seen[-1][(team.rep2.pk, month(3))] == (
        Decimal("120000.00"),
        Decimal("30000.00"),
        Decimal("0.00"),
        Decimal("0.00"),
        1,
    )


def test_only_the_touched_cells_are_recomputed(team, customer_of, live, django_assert_max_num_queries):
    c1, c3 = customer_of(team.rep1), customer_of(team.rep3, name="深圳客户")
    deal = make_opportunity(c1, team.rep1, amount="100000", expected_close_on=month(2))
    for i in range(30):
        make_opportunity(c3, team.rep3, name=f"d{i}", amount="1000", expected_close_on=month(i % 12))
    forecast_refresh(now=timezone.now() - timedelta(hours=1))
    untouched = dict(ForecastRow.objects.exclude(owner=team.rep1).values_list("pk", "refreshed_at"))
    with live():
        services.opportunity_update(
            opportunity=deal, actor=team.rep1, expected_version=deal.version, expected_close_on=month(4)
        )
    assert dict(ForecastRow.objects.exclude(owner=team.rep1).values_list("pk", "refreshed_at")) == untouched
    assert set(ForecastRow.objects.filter(owner=team.rep1).values_list("month", flat=True)) == {month(4)}
    # Two cells (the month it left, the month it entered): three queries each, whatever the table holds.
    with django_assert_max_num_queries(6):
        forecast_refresh_cells({(team.rep1.pk, month(2)), (team.rep1.pk, month(4))})


def test_a_win_shows_in_the_forecast_in_the_same_request_cycle(client, team, customer_of, live):
    deal = make_opportunity(customer_of(team.rep1), team.rep1, amount="500000", expected_close_on=TODAY, at="方案报价")
    forecast_refresh()
    team.manager1.language = "zh-hans"
    team.manager1.save()
    client.force_login(team.manager1)
    page = client.get(reverse("sales:forecast")).content.decode()
    assert "250,000" in page  # weighted at 50%
    with live():
        response = client.post(
            reverse("sales:opportunity-move", args=[deal.pk]),
            {"stage": stage("赢单").pk, "version": deal.version, "reason": "价格和交期都满足"},
        )
    assert response.status_code == 302
    row = ForecastRow.objects.get(owner=team.rep1, month=THIS)
    assert (row.won_amount, row.weighted_amount, row.open_count) == (Decimal("500000.00"), Decimal("0.00"), 0)
    f = forecast_for(team.manager1, rolling_period())
    assert f.team[THIS].won == Decimal("500000.00") and f.team[THIS].committed == Decimal("500000.00")
    page = client.get(reverse("sales:forecast")).content.decode()
    team_row = (
        page.split('id="forecast-team"')[1].split(f'<td class="text-nowrap">{THIS:%Y-%m}</td>')[1].split("</tr>")[0]
    )
    assert "500,000" in team_row


def test_rolling_window_and_calendar_years(client, team, customer_of, api_client):
    c1 = customer_of(team.rep1)
    for offset, amount in ((0, "1000"), (11, "2000"), (12, "4000"), (-1, "8000")):
        make_opportunity(c1, team.rep1, name=f"m{offset}", amount=amount, expected_close_on=month(offset))
    forecast_refresh()
    f = forecast_for(team.manager1, rolling_period())
    assert f.months == [month(i) for i in range(12)]
    assert sum(c.pipeline for c in f.team.values()) == Decimal("3000.00")  # this month and month 11 only
    year = forecast_for(team.manager1, year_period(month(12).year))
    assert year.months[0] == date(month(12).year, 1, 1) and year.team[month(12)].pipeline == Decimal("4000.00")

    assert period_from(None).is_rolling and period_from("next12").is_rolling
    assert period_from("2027") == year_period(2027)
    for junk in ("1999", "2101", "20270", "abc", "-1", "２０２７"):
        assert period_from(junk).is_rolling, junk

    client.force_login(team.manager1)
    page = client.get(reverse("sales:forecast")).content.decode()
    assert "next 12 months" in page and f"{month(0):%Y-%m} – {month(11):%Y-%m}" in page
    assert '<option value="next12" selected>' in page
    page = client.get(reverse("sales:forecast") + f"?period={month(12).year}").content.decode()
    assert f'<option value="{month(12).year}" selected>' in page and f"{month(12).year}-01" in page
    assert client.get(reverse("sales:forecast") + "?year=2030").content.decode().count(">2030-") == 12
    assert client.get(reverse("sales:forecast") + "?period=9999-12-31").status_code == 200

    body = api_client(team.manager1).get("/api/v1/sales/forecast").json()
    assert body["year"] is None and body["start"] == str(month(0)) and body["end"] == str(month(11))
    assert len(body["team"]) == 12


def test_open_deals_past_their_close_date_are_flagged(client, team, customer_of, api_client):
    c1, c2, c3 = customer_of(team.rep1), customer_of(team.rep2, name="杭州客户"), customer_of(team.rep3)
    past = TODAY - timedelta(days=1)
    make_opportunity(c1, team.rep1, name="逾期一", amount="120000", expected_close_on=past)
    make_opportunity(c2, team.rep2, name="逾期二", amount="80000", expected_close_on=month(-2))
    make_opportunity(c1, team.rep1, name="按期", amount="5", expected_close_on=TODAY)
    make_opportunity(c1, team.rep1, name="已赢", amount="7", expected_close_on=past, at="赢单", reason="价格")
    make_opportunity(c1, team.rep1, name="已输", amount="9", expected_close_on=past, at="输单", reason="价格")
    gone = make_opportunity(c1, team.rep1, name="已删", amount="11", expected_close_on=past)
    Opportunity.objects.filter(pk=gone.pk).update(deleted_at=timezone.now())
    make_opportunity(c3, team.rep3, name="别组逾期", amount="13", expected_close_on=past)

    client.force_login(team.manager1)
    page = client.get(reverse("sales:forecast")).content.decode()
    flag = page.split('id="forecast-overdue"')[1].split("</div>")[0]
    assert "2 open deals worth ¥200,000 are past their expected close date" in flag
    link = reverse("sales:opportunity-list") + "?overdue=1&amp;sort=close"
    assert f'href="{link}"' in flag
    listing = client.get(reverse("sales:opportunity-list") + "?overdue=1&sort=close").content.decode()
    table = listing.split('id="opportunity-table"')[1]
    assert "逾期一" in table and "逾期二" in table
    for name in ("按期", "已赢", "已输", "已删", "别组逾期"):
        assert name not in table, name
    assert table.index("逾期二") < table.index("逾期一")  # soonest close date first

    client.force_login(team.rep1)
    listing = client.get(reverse("sales:opportunity-list") + "?overdue=1").content.decode()
    assert "逾期一" in listing and "逾期二" not in listing
    body = api_client(team.manager1).get("/api/v1/sales/forecast").json()
    assert body["overdue"] == {"count": 2, "amount": "200000.00"}

    Opportunity.objects.filter(expected_close_on__lt=TODAY).update(expected_close_on=TODAY)
    client.force_login(team.manager1)
    assert 'id="forecast-overdue"' not in client.get(reverse("sales:forecast")).content.decode()


def test_only_people_with_deals_or_targets_in_the_period_are_listed(client, team, customer_of):
    make_opportunity(customer_of(team.rep1), team.rep1, amount="1000", expected_close_on=month(1))
    make_opportunity(customer_of(team.rep2, name="杭州客户"), team.rep2, amount="1000", expected_close_on=month(13))
    target_set(actor=team.gm, level="rep", month=month(2), amount="50000", user=team.rep3)
    leaver = User.objects.create_user("leaver", role=Role.SALES_REP, department=team.east, manager=team.manager1)
    won = make_opportunity(customer_of(leaver, name="离职客户"), leaver, amount="3000", at="赢单", reason="价格")
    User.objects.filter(pk=leaver.pk).update(is_active=False)
    forecast_refresh()
    listed = {u.username for u, _cells, _total in forecast_for(team.gm, rolling_period()).reps}
    assert listed == {"rep1", "rep3", "leaver"}  # rep2's deal is after the window; the leaver's win counts
    assert forecast_for(team.gm, rolling_period()).team[THIS].won == Decimal("3000.00")
    assert {u.username for u, _c, _t in forecast_for(team.manager1, rolling_period()).reps} == {"rep1", "leaver"}
    client.force_login(team.gm)
    page = client.get(reverse("sales:forecast")).content.decode()
    table = page.split('id="forecast-reps"')[1].split("</table>")[0]  # not the CSRF token after it
    assert team.rep1.display_name in table and team.rep2.display_name not in table
    assert team.service1.display_name not in table and team.gm.display_name not in table
    assert won.pk


def test_the_page_reads_a_fixed_number_of_queries(client, team, customer_of):
    client.force_login(team.gm)
    make_opportunity(customer_of(team.rep1), team.rep1, amount="1000", expected_close_on=month(1))
    forecast_refresh()
    counts = []
    for n in (0, 6):
        for i in range(n):
            rep = User.objects.create_user(f"extra{i}", role=Role.SALES_REP, department=team.east)
            make_opportunity(customer_of(rep, name=f"客户{i}"), rep, amount="10", expected_close_on=month(i))
            target_set(actor=team.gm, level="rep", month=month(i), amount="10", user=rep)
        forecast_refresh()
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("sales:forecast")).status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts
    assert len(forecast_for(team.gm, rolling_period()).reps) == 7


def test_committed_amounts_are_called_queding_jine_in_chinese(client, team):
    team.manager1.language = "zh-hans"
    team.manager1.save()
    client.force_login(team.manager1)
    page = client.get(reverse("sales:forecast")).content.decode()
    assert "确定金额" in page and "承诺" not in page
    assert "未来 12 个月" in page
    assert Target.objects.count() == 0


@pytest.mark.skipif(connection.vendor != "sqlite", reason="EXPLAIN QUERY PLAN is SQLite's")
def test_overdue_deals_are_counted_from_the_index_alone(team, customer_of):
    from kehu.sales.selectors import overdue_deals

    make_opportunity(customer_of(team.rep1), team.rep1, amount="1000", expected_close_on=month(-1))
    for user in (team.gm, team.manager1):
        with CaptureQueriesContext(connection) as ctx:
            assert overdue_deals(user).count == 1
        sql = next(q["sql"] for q in ctx.captured_queries if "sales_opportunity" in q["sql"])
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN QUERY PLAN " + sql)
            plan = " ".join(str(row) for row in cursor.fetchall())
        assert "COVERING INDEX opp_forecast_cover_idx" in plan, plan
