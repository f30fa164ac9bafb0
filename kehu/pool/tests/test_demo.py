"""The demo company comes with pools, a dozen pool customers with their history, and an exemption."""

from io import StringIO

import pytest
from django.core.management import call_command

from kehu.customers.models import Customer, TimelineEntry
from kehu.pool.events import PoolEvent
from kehu.pool.models import CustomerPoolState, Pool
from kehu.pool.selectors import PoolFilters, pool_customer_list
from kehu.users.models import User


@pytest.mark.django_db
def test_demo_data_fills_the_pool():
    call_command("demo_data", customers=300, seed=7, stdout=StringIO())
    assert set(Pool.objects.values_list("name", flat=True)) == {"华东公海", "华南公海", "总公海"}
    pooled = Customer.objects.filter(owner__isnull=True)
    assert 6 <= pooled.count() <= 12
    for customer in pooled:
        assert TimelineEntry.objects.filter(
            customer=customer, kind__in=[PoolEvent.POOL_RELEASED, PoolEvent.POOL_RECYCLED]
        ).exists()
    rep = User.objects.get(username="rep1")
    assert list(pool_customer_list(rep, PoolFilters())) != []
    assert CustomerPoolState.objects.filter(exempt_until__isnull=False).count() == 1
    for login in ("rep1", "rep2", "rep3"):
        assert Customer.objects.filter(owner__username=login).exists()
