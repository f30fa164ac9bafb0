import pytest
from django.db import connection

from kehu.core.dbstats import refresh_statistics
from kehu.core.schedule import discover
from kehu.customers.models import Customer


@pytest.mark.django_db
def test_refresh_statistics_analyses_every_table(team):
    Customer.objects.bulk_create(Customer(name=f"统计测试{i}有限公司", owner=team.rep1) for i in range(30))
    tables = refresh_statistics()
    assert {"customers_customer", "leads_lead", "sales_opportunity"} <= set(tables)
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT stat FROM sqlite_stat1 WHERE tbl = 'customers_customer' AND idx = 'customer_owner_updated_idx'"
            )
            # 30 rows, all of one owner: the planner learns that an owner holds them all.
            assert cursor.fetchone()[0].split()[:2] == ["30", "30"]


def test_statistics_are_refreshed_daily():
    jobs = discover()
    job = next(j for name, j in jobs.items() if name.endswith("refresh_database_statistics"))
    assert job.every.days == 1
