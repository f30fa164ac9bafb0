from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from kehu.core.schedule import discover
from kehu.sales.forecast import forecast_for, year_period
from kehu.sales.models import ForecastRow, Opportunity, Target
from kehu.sales.services import target_set
from kehu.sales.tasks import refresh_forecast
from kehu.sales.tests.factories import make_opportunity

YEAR = 2030


@pytest.fixture
def history(team, customer_of):
    c1, c3 = customer_of(team.rep1), customer_of(team.rep3, name="深圳客户")
    may = date(YEAR, 5, 20)
    make_opportunity(c1, team.rep1, amount="100000", expected_close_on=may)  # 10%: weighted 10,000
    make_opportunity(c1, team.rep1, amount="200000", expected_close_on=may, at="商务谈判")  # 75%: 150,000
    make_opportunity(c1, team.rep1, amount="999")  # no date: not forecast
    won = make_opportunity(c1, team.rep1, amount="50000", expected_close_on=may, at="赢单", reason="交期")
    Opportunity.objects.filter(pk=won.pk).update(closed_at=timezone.make_aware(timezone.datetime(YEAR, 5, 3, 10)))
    lost = make_opportunity(c1, team.rep1, amount="70000", expected_close_on=may, at="输单", reason="价格")
    make_opportunity(c3, team.rep3, amount="300000", expected_close_on=date(YEAR, 6, 1), at="方案报价")  # 50%
    deleted = make_opportunity(c1, team.rep1, amount="1000000", expected_close_on=may)
    Opportunity.objects.filter(pk=deleted.pk).update(deleted_at=timezone.now())
    assert lost.pk
    return team


def test_refresh_is_scheduled_and_idempotent(history):
    assert discover()["kehu.sales.tasks.refresh_forecast"].every == timedelta(minutes=15)
    assert refresh_forecast.enqueue().return_value == 2
    assert refresh_forecast.enqueue().return_value == 2
    rep1 = ForecastRow.objects.get(owner=history.rep1, month=date(YEAR, 5, 1))
    assert rep1.pipeline_amount == Decimal("300000.00")
    assert rep1.weighted_amount == Decimal("160000.00")
    assert rep1.committed_amount == Decimal("250000.00")  # 200,000 at 75% + 50,000 won
    assert rep1.won_amount == Decimal("50000.00") and rep1.open_count == 2
    rep3 = ForecastRow.objects.get(owner=history.rep3, month=date(YEAR, 6, 1))
    assert rep3.weighted_amount == Decimal("150000.00") and rep3.committed_amount == 0


def test_forecast_against_targets_in_scope(history):
    team = history
    target_set(actor=team.manager1, level="rep", month=date(YEAR, 5, 15), amount=Decimal("100000"), user=team.rep1)
    target_set(actor=team.manager1, level="department", month=date(YEAR, 5, 1), amount="400000", department=team.east)
    target_set(actor=team.gm, level="company", month=date(YEAR, 5, 1), amount="1000000")
    with pytest.raises(PermissionDenied):
        target_set(actor=team.manager1, level="rep", month=date(YEAR, 5, 1), amount="1", user=team.rep3)
    with pytest.raises(PermissionDenied):
        target_set(actor=team.rep1, level="rep", month=date(YEAR, 5, 1), amount="1", user=team.rep1)
    refresh_forecast.enqueue()
    f = forecast_for(team.manager1, year_period(YEAR))
    may = f.team[date(YEAR, 5, 1)]
    assert (may.weighted, may.committed, may.won, may.target) == (
        Decimal("160000.00"),
        Decimal("250000.00"),
        Decimal("50000.00"),
        Decimal("400000.00"),
    )
    assert f.team[date(YEAR, 6, 1)].weighted == 0  # rep3 is not in manager1's team
    rep1 = next(total for u, _cells, total in f.reps if u == team.rep1)
    assert rep1.target == Decimal("100000.00") and rep1.attainment == 50
    company = forecast_for(team.gm, year_period(YEAR))
    assert company.team[date(YEAR, 5, 1)].target == Decimal("1000000.00")
    assert company.team[date(YEAR, 6, 1)].weighted == Decimal("150000.00")
    assert Target.objects.count() == 3


def test_forecast_and_targets_pages(client, history):
    team = history
    refresh_forecast.enqueue()
    client.force_login(team.rep1)
    assert client.get(reverse("sales:forecast")).status_code == 403
    assert client.get(reverse("sales:targets")).status_code == 403
    assert (
        client.post(
            reverse("sales:targets"), {"level": "company", "metric": "sales", "month": "2030-05", "amount": "1"}
        ).status_code
        == 403
    )
    assert not Target.objects.exists()
    client.force_login(team.manager1)
    page = client.get(reverse("sales:forecast") + f"?year={YEAR}").content.decode()
    assert "echarts.min.js" in page and "160,000" in page and "a full recount runs every 15 minutes" in page
    response = client.post(
        reverse("sales:targets"),
        {"level": "rep", "metric": "sales", "month": "2030-05", "user": team.rep1.pk, "amount": "120000"},
    )
    assert response.status_code == 302
    assert Target.objects.get().amount == Decimal("120000.00")
