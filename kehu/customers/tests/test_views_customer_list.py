"""The customer list: a fixed number of queries whatever the number of rows, and an index-friendly plan."""

import pytest
from django.db import connection

from kehu.customers import selectors
from kehu.users.models import User


def _customers(team, customer_of, n):
    for i in range(n):
        customer_of(team.rep1 if i % 2 else team.rep2, name=f"无锡华星机械{i:02d}有限公司", phone="13812345678")


# Measured for 5 rows; the same bound must hold for 30 (a full page of 25 and a next page).
QUERY_BOUNDS = [
    ("rep1", "", 4),
    ("manager1", "", 6),
    ("gm", "", 5),
    ("manager1", "华星", 8),
    ("manager1", "华星机械", 8),
]


@pytest.mark.parametrize("rows", [5, 30])
@pytest.mark.parametrize(("actor", "q", "bound"), QUERY_BOUNDS, ids=[f"{a}-{q or 'all'}" for a, q, _ in QUERY_BOUNDS])
def test_list_query_count_does_not_grow_with_rows(
    client, team, customer_of, django_assert_max_num_queries, rows, actor, q, bound
):
    _customers(team, customer_of, rows)
    client.force_login(getattr(team, actor))
    with django_assert_max_num_queries(bound):
        response = client.get("/customers/", {"q": q} if q else None)
    assert response.status_code == 200


def test_list_shows_25_rows_and_a_next_page(client, team, customer_of):
    _customers(team, customer_of, 30)
    client.force_login(team.manager1)
    first = client.get("/customers/")
    second = client.get("/customers/", {"page": 2})
    assert (len(first.context["customers"]), first.context["has_next"], first.context["total"]) == (25, True, 30)
    assert (len(second.context["customers"]), second.context["has_next"]) == (5, False)


def test_list_pages_do_not_overlap(client, team, customer_of):
    _customers(team, customer_of, 30)
    client.force_login(team.manager1)
    first = {c.pk for c in client.get("/customers/").context["customers"]}
    second = {c.pk for c in client.get("/customers/", {"page": 2}).context["customers"]}
    assert not first & second
    assert len(first | second) == 30


@pytest.mark.skipif(connection.vendor != "sqlite", reason="EXPLAIN QUERY PLAN is SQLite's")
def test_manager_scope_list_walks_an_index_without_sorting(team, customer_of):
    _customers(team, customer_of, 5)
    manager = User.objects.get(pk=team.manager1.pk)
    qs = selectors.customer_list(manager, selectors.CustomerFilters())[:26]
    plan = qs.explain()
    assert "USING INDEX" in plan or "USING COVERING INDEX" in plan, plan
    assert "USE TEMP B-TREE FOR ORDER BY" not in plan, plan


@pytest.mark.django_db
@pytest.mark.parametrize("sort", ["updated", "-updated", "name", "-name", "created", "-created"])
def test_every_sort_order_walks_an_index_without_sorting(team, sort):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    plan = selectors.customer_list(team.manager1, selectors.CustomerFilters(sort=sort))[:26].explain()
    assert "TEMP B-TREE" not in plan, plan
