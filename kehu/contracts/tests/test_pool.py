"""The pool's "signed contract" rule uses real contracts (through the SIGNED_CONTRACT lookup)."""

from datetime import timedelta

from django.utils import timezone

from kehu.contracts import services
from kehu.contracts.models import Contract
from kehu.customers.models import Customer
from kehu.pool.services import pool_recycle
from kehu.pool.tests.factories import make_pool


def test_a_customer_with_a_contract_in_force_stays_with_its_owner(signed, customer_of, team):
    make_pool(followup_days_prospect=10, warn_days=3, exempt_signed_contracts=True)
    without = customer_of(team.rep1, name="乙公司")
    start = timezone.now() - timedelta(days=30)
    Customer.objects.filter(pk__in=[signed.customer_id, without.pk]).update(created_at=start)
    assert pool_recycle(now=timezone.now()).recycled == [without.pk]
    assert Customer.objects.get(pk=signed.customer_id).owner_id == team.rep1.pk
    services.contract_transition(contract=signed, to="terminated", actor=team.rep1, reason="客户违约")
    assert Contract.objects.get(pk=signed.pk).stage == "terminated"
    assert pool_recycle(now=timezone.now() + timedelta(minutes=1)).recycled == [signed.customer_id]
