"""Pool pages and lists run a fixed number of queries, and the pool list walks an index."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kehu.customers.models import Customer
from kehu.pool.selectors import PoolFilters, pool_customer_list
from kehu.pool.services import handover_start, pool_recycle, pool_release
from kehu.pool.tests.factories import make_pool


def count_queries(client, path) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx.captured_queries)


def grow(team, customer_of, n, offset=0):
    for i in range(n):
        c = customer_of(team.rep1, name=f"公海客户{offset + i}有限公司", region="江苏")
        pool_release(customer=c, actor=team.rep1)
        Customer.objects.create(name=f"导入的无主客户{offset + i}", region="浙江")


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["rep2", "manager1", "admin"])
def test_the_pool_list_does_not_grow_with_the_data(client, team, customer_of, who):
    pool = make_pool(regions="江苏")
    grow(team, customer_of, 2)
    client.force_login(getattr(team, who))
    paths = ["/pool/", f"/pool/?pool={pool.pk}&tier=prospect", "/pool/?page=2"]
    small = [count_queries(client, p) for p in paths]
    grow(team, customer_of, 20, offset=2)
    assert [count_queries(client, p) for p in paths] == small


@pytest.mark.django_db
def test_the_pool_api_does_not_grow_with_the_data(team, customer_of, api_client):
    make_pool()
    grow(team, customer_of, 2)
    api = api_client(team.rep2)
    api.get("/api/v1/pool/customers")

    def n():
        with CaptureQueriesContext(connection) as ctx:
            assert api.get("/api/v1/pool/customers?limit=100").status_code == 200
        return len(ctx.captured_queries)

    small = n()
    grow(team, customer_of, 15, offset=2)
    assert n() == small


@pytest.mark.django_db
def test_the_brief_and_the_dashboard_do_not_grow_with_the_data(client, team, customer_of):
    from kehu.activities.services import activity_log
    from kehu.customers.services import contact_create

    def customers(n, offset):
        for i in range(n):
            c = customer_of(team.rep1, name=f"客户{offset + i}")
            contact_create(customer=c, actor=team.rep1, name=f"联系人{i}", buying_role="decision_maker")
            activity_log(customer=c, actor=team.rep1, kind="visit", subject="拜访")
            activity_log(customer=c, actor=team.rep1, kind="commitment", subject="报价", due_on="2030-01-01")

    make_pool(followup_days_prospect=1, warn_days=5)
    customers(2, 0)
    small_handover = handover_start(
        actor=team.manager1, customers=Customer.objects.filter(owner=team.rep1), to_user=team.rep2
    )
    customers(12, 2)
    big_handover = handover_start(
        actor=team.manager1, customers=Customer.objects.filter(owner=team.rep1), to_user=team.rep2
    )
    client.force_login(team.rep2)
    assert count_queries(client, f"/pool/handover/{small_handover.pk}/") == count_queries(
        client, f"/pool/handover/{big_handover.pk}/"
    )
    pool_recycle()
    dashboard_before = count_queries(client, "/")
    customers(5, 20)
    handover_start(actor=team.manager1, customers=Customer.objects.filter(owner=team.rep1), to_user=team.rep2)
    pool_recycle()
    assert count_queries(client, "/") == dashboard_before


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "sqlite", reason="EXPLAIN QUERY PLAN is SQLite's")
def test_the_pool_list_walks_the_owner_index(team):
    plan = pool_customer_list(team.rep1, PoolFilters())[:26].explain()
    assert "customer_owner_updated_idx" in plan
    assert "TEMP B-TREE" not in plan


@pytest.mark.django_db
def test_recycle_queries_do_not_grow_with_the_customers_of_a_batch(team, customer_of):
    make_pool(followup_days_prospect=10)
    from datetime import timedelta

    from django.utils import timezone

    def run(n, offset):
        for i in range(n):
            customer_of(team.rep1 if i % 2 else team.rep2, name=f"批次客户{offset + i}")
        with CaptureQueriesContext(connection) as ctx:
            result = pool_recycle(now=timezone.now() + timedelta(days=30))
        assert len(result.recycled) == n
        return len(ctx.captured_queries)

    assert run(3, 0) == run(30, 100)
