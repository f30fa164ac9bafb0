"""The pool's deal rules answered by the sales app through kehu.core.lookups: a customer with a deal
in progress stays with its owner (when the pool says so), and "no deal for N days" counts from the
last won deal."""

from datetime import timedelta

import pytest
from django.utils import timezone

from kehu.core import lookups
from kehu.customers.models import Customer
from kehu.pool.models import CustomerPoolState
from kehu.pool.services import pool_recycle
from kehu.pool.tests.factories import make_pool
from kehu.sales.models import Opportunity
from kehu.sales.services import opportunity_delete
from kehu.sales.tests.factories import make_opportunity

pytestmark = pytest.mark.django_db

T0 = timezone.now()


def days(n, hours=0):
    return T0 + timedelta(days=n, hours=hours)


def owned(customer_of, team, name, tier="prospect"):
    customer = customer_of(team.rep1, name=name, tier=tier)
    Customer.objects.filter(pk=customer.pk).update(created_at=T0)
    return Customer.objects.get(pk=customer.pk)


def test_sales_answers_the_pools_questions():
    assert lookups.answered(lookups.OPEN_DEAL) and lookups.answered(lookups.LAST_WON)
    assert lookups.answered(lookups.SIGNED_CONTRACT)  # the contracts app answers it


def test_a_customer_with_a_deal_in_progress_stays_until_the_deal_is_lost(team, customer_of):
    make_pool(followup_days_prospect=10, warn_days=3)
    with_deal = owned(customer_of, team, "甲公司")
    without = owned(customer_of, team, "乙公司")
    deal = make_opportunity(with_deal, team.rep1)

    assert pool_recycle(now=days(11)).recycled == [without.pk]
    assert Customer.objects.get(pk=with_deal.pk).owner_id == team.rep1.pk
    make_opportunity(with_deal, team.rep1, name="已输的单", at="输单")  # a lost deal exempts nothing
    opportunity_delete(opportunity=deal, actor=team.rep1)  # nor does a deleted one
    assert pool_recycle(now=days(12)).recycled == [with_deal.pk]


def test_the_pool_may_choose_not_to_exempt_deals(team, customer_of):
    make_pool(followup_days_prospect=10, exempt_open_deals=False)
    customer = owned(customer_of, team, "甲公司")
    make_opportunity(customer, team.rep1)
    assert pool_recycle(now=days(11)).recycled == [customer.pk]


def test_a_warning_given_before_the_deal_was_opened_is_withdrawn(team, customer_of):
    make_pool(followup_days_prospect=10, warn_days=3)
    customer = owned(customer_of, team, "甲公司")
    assert pool_recycle(now=days(8)).warned == [customer.pk]
    assert CustomerPoolState.objects.get(customer=customer).due_at is not None

    make_opportunity(customer, team.rep1)
    assert pool_recycle(now=days(9)).recycled == []
    state = CustomerPoolState.objects.get(customer=customer)
    assert (state.due_at, state.warned_at, state.due_rule) == (None, None, "")


def test_no_deal_rule_counts_from_the_last_won_deal(team, customer_of):
    make_pool(deal_days_key=30)
    customer = owned(customer_of, team, "甲公司", tier="key")
    other = owned(customer_of, team, "乙公司", tier="key")
    won = make_opportunity(customer, team.rep1, at="赢单", reason="价格合适")
    older = make_opportunity(customer, team.rep1, name="早先的单", at="赢单", reason="交期")
    Opportunity.objects.filter(pk=won.pk).update(closed_at=days(20))
    Opportunity.objects.filter(pk=older.pk).update(closed_at=days(5))

    assert lookups.ask(lookups.LAST_WON, [customer.pk, other.pk]) == {customer.pk: days(20)}
    assert pool_recycle(now=days(31)).recycled == [other.pk]
    assert pool_recycle(now=days(49)).recycled == []
    assert pool_recycle(now=days(50, 1)).recycled == [customer.pk]


def test_an_app_answering_twice_is_counted_once_and_answers_merge(team, customer_of):
    customer = owned(customer_of, team, "甲公司")
    make_opportunity(customer, team.rep1)
    extra = lookups.Question("test_only", "A question of this test.", "ids")
    try:
        lookups.answer(extra, lambda ids: {ids[0]})
        lookups.answer(extra, lambda ids: {-1})
        assert lookups.ask(extra, [customer.pk]) == {customer.pk, -1}
        assert lookups.ask(extra, []) == set()
    finally:
        lookups._answers.pop(extra.name, None)
    from kehu.sales.selectors import customers_with_open_deal

    lookups.answer(lookups.OPEN_DEAL, customers_with_open_deal)  # as a second ready() would
    assert lookups._answers[lookups.OPEN_DEAL.name].count(customers_with_open_deal) == 1
