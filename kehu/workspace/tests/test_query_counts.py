"""Pages run a fixed number of queries whatever the amount of data behind them (no N+1)."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kehu.activities.services import activity_log
from kehu.customers.services import contact_create, fact_create


def queries(client, path) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx.captured_queries)


def grow(team, customer, n):
    for i in range(n):
        contact_create(customer=customer, actor=team.rep1, name=f"联系人{i}", mobile=f"1380000{i:04d}")
        fact_create(customer=customer, actor=team.rep1, title=f"信息{i}", level=1 + i % 4)
        activity_log(customer=customer, actor=team.rep1, kind="visit", subject=f"拜访{i}")
        activity_log(
            customer=customer,
            actor=team.rep2 if i % 2 else team.rep1,
            kind="commitment",
            subject=f"承诺{i}",
            due_on=date(2026, 12, 1),
        )


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["rep1", "manager1", "gm"])
def test_the_360_page_and_the_dashboard_do_not_grow_with_the_data(client, team, customer_of, who):
    customer = customer_of(team.rep1)
    grow(team, customer, 1)
    client.force_login(getattr(team, who))
    paths = [f"/customers/{customer.pk}/", "/", "/activities/", f"/activities/?customer={customer.pk}"]
    small = [queries(client, path) for path in paths]
    grow(team, customer, 12)
    for i in range(5):
        customer_of(team.rep2, name=f"另一个客户{i}有限公司")
    assert [queries(client, path) for path in paths] == small


@pytest.mark.django_db
def test_api_lists_do_not_grow_with_the_data(team, customer_of, api_client):
    customer = customer_of(team.rep1)
    grow(team, customer, 1)
    api = api_client(team.manager1)

    def api_queries(path):
        with CaptureQueriesContext(connection) as ctx:
            assert api.get(path).status_code == 200
        return len(ctx.captured_queries)

    paths = ["/api/v1/customers/", "/api/v1/contacts/", "/api/v1/activities/"]
    api_queries(paths[0])  # the token's first use records its last-used time once
    small = [api_queries(path) for path in paths]
    grow(team, customer, 12)
    for i in range(5):
        customer_of(team.rep2, name=f"另一个客户{i}有限公司")
    assert [api_queries(path) for path in paths] == small
