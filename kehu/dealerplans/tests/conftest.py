from datetime import date

import pytest

MAY = date(2026, 5, 1)


@pytest.fixture
def catalog(db):
    from kehu.dealerplans.tests.factories import Catalog

    return Catalog()


@pytest.fixture
def dealer(team, customer_of):
    from kehu.dealerplans.tests.factories import dealer

    return dealer(customer_of, team.rep1, region="浙江")


@pytest.fixture
def plan(dealer, catalog, team):
    """rep1's May 2026 draft for the dealer: 10 × CK6140-A (¥100,000) and 40 barrels of 液压油 (any spec, ¥20,000)."""
    from kehu.dealerplans import services

    made = services.plan_create(customer=dealer, month=MAY, actor=team.rep1, schedule="5月中旬到货")
    services.plan_line_put(
        plan=made, actor=team.rep1, product=catalog.lathe, specification=catalog.lathe_a, quantity=10, amount="100000"
    )
    services.plan_line_put(plan=made, actor=team.rep1, product=catalog.oil, quantity=40, amount="20000")
    made.refresh_from_db()
    return made
