"""A test that commits leaves no rows in SQLite's full-text tables of the customer search (the
root conftest empties them): otherwise a later test's customers, made under the same ids, collide
with them. The second test runs after the first (pytest keeps a file's order)."""

import pytest
from django.db import connection

from kehu.customers.search import TRIGRAM_TABLE

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's full-text tables")


def _rows() -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {TRIGRAM_TABLE}")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_a_committing_test_writes_the_index(team):
    from kehu.customers.services import customer_create

    customer_create(actor=team.rep1, owner=team.rep1, name="全文索引测试有限公司")
    assert _rows() == 1


@pytest.mark.django_db(transaction=True)
def test_the_next_test_starts_with_an_empty_index():
    assert _rows() == 0
