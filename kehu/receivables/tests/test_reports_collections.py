"""Collection actuals (SAL-11): the forecast's collections row reads COLLECTED, the ranking per rep
in the reader's scope — refunds and reversals taken off."""

from datetime import date
from decimal import Decimal

import pytest

from kehu.receivables import ranking
from kehu.receivables.models import PaymentState
from kehu.receivables.tests.reports_fixtures import _credit_answers, customer, payment  # noqa: F401
from kehu.sales.forecast import forecast_for, year_period

pytestmark = pytest.mark.django_db


@pytest.fixture
def collected(team):
    east, east2, south = customer(team.rep1), customer(team.rep2), customer(team.rep3)
    payment(east, "1000", date(2026, 3, 5))
    payment(east, "200", date(2026, 3, 20), refund=True)
    payment(east2, "500", date(2026, 3, 9))
    wrong = payment(east2, "300", date(2026, 3, 10), state=PaymentState.REVERSED)
    payment(east2, "300", date(2026, 3, 11), reverses=wrong)
    payment(south, "4000", date(2026, 4, 1))
    payment(south, "77", date(2026, 4, 2), state=PaymentState.PENDING)  # not yet approved


def test_forecast_collections_row_has_actuals(team, collected):
    f = forecast_for(team.manager1, year_period(2026))
    assert f.collected[date(2026, 3, 1)] == Decimal("1300.00")  # 1000 − 200 + 500 (+300 − 300)
    assert f.collected[date(2026, 4, 1)] == Decimal("0")  # rep3 is not in manager1's team
    company = forecast_for(team.gm, year_period(2026))
    assert company.collected[date(2026, 4, 1)] == Decimal("4000.00")


def test_forecast_page_shows_the_collected_column(client, team, collected):
    client.force_login(team.gm)
    page = client.get("/sales/forecast/?period=2026").content.decode()
    assert "Collected" in page and "4,000" in page


def test_ranking_per_period_in_scope(team, collected):
    rows = ranking.collection_ranking(team.manager1, "year", today=date(2026, 4, 30))
    assert [(r.rank, r.owner_id, r.collected) for r in rows] == [
        (1, team.rep1.pk, Decimal("800.00")),
        (2, team.rep2.pk, Decimal("500.00")),
    ]
    company = ranking.collection_ranking(team.gm, "month", today=date(2026, 4, 30))
    assert [(r.owner_id, r.collected) for r in company] == [(team.rep3.pk, Decimal("4000.00"))]
    quarter = ranking.collection_ranking(team.gm, "quarter", today=date(2026, 4, 30))
    assert [r.owner_id for r in quarter] == [team.rep3.pk]
    assert ranking.period_bounds("quarter", date(2026, 8, 15)) == (date(2026, 7, 1), date(2026, 8, 15))
