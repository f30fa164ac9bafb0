"""The pool's rules on a controlled clock: recycle per tier, warnings once, limits, cool-down, exemptions."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from kehu.activities.services import activity_log
from kehu.core.models import AuditEntry
from kehu.customers.events import CustomerEvent
from kehu.customers.models import Customer, TimelineEntry
from kehu.pool.events import PoolEvent
from kehu.pool.models import CustomerPoolState, PoolMove
from kehu.pool.services import PoolConflictError, pool_assign, pool_claim, pool_exempt, pool_recycle, pool_release
from kehu.pool.tests.factories import make_pool

T0 = timezone.now()


def days(n, hours=0):
    return T0 + timedelta(days=n, hours=hours)


@pytest.fixture
def pool(team):
    return make_pool(followup_days_prospect=10, followup_days_ordinary=20, followup_days_key=40, warn_days=3)


def owned(customer_of, team, name, tier="prospect", at=T0):
    customer = customer_of(team.rep1, name=name, tier=tier)
    Customer.objects.filter(pk=customer.pk).update(created_at=at)
    customer.refresh_from_db()
    return customer


def owner_of(customer):
    return Customer.objects.get(pk=customer.pk).owner_id


def test_recycle_after_n_days_per_tier(team, customer_of, pool):
    prospect = owned(customer_of, team, "甲公司", "prospect")
    ordinary = owned(customer_of, team, "乙公司", "ordinary")
    key = owned(customer_of, team, "丙公司", "key")

    assert pool_recycle(now=days(9)).recycled == []
    assert pool_recycle(now=days(10, 1)).recycled == [prospect.pk]
    assert pool_recycle(now=days(20, 1)).recycled == [ordinary.pk]
    assert owner_of(key) == team.rep1.pk
    assert pool_recycle(now=days(40, 1)).recycled == [key.pk]
    assert owner_of(key) is None


def test_a_follow_up_resets_the_clock_but_a_note_does_not(team, customer_of, pool):
    visited = owned(customer_of, team, "拜访过的公司")
    noted = owned(customer_of, team, "只记了笔记的公司")
    activity_log(customer=visited, actor=team.rep1, kind="visit", subject="上门拜访", occurred_at=days(8))
    activity_log(customer=noted, actor=team.rep1, kind="note", subject="备注", occurred_at=days(8))

    result = pool_recycle(now=days(11))

    assert result.recycled == [noted.pk]
    assert owner_of(visited) == team.rep1.pk
    assert pool_recycle(now=days(18, 1)).recycled == [visited.pk]


def test_recycle_writes_timeline_audit_and_state_with_the_rule(team, customer_of, pool):
    customer = owned(customer_of, team, "甲公司")
    pool_recycle(now=days(11))

    entry = TimelineEntry.objects.get(customer=customer, kind=PoolEvent.POOL_RECYCLED)
    assert entry.payload["rule"] == "no_follow_up"
    assert entry.payload["days"] == 10
    assert entry.payload["pool"] == pool.pk
    assert entry.occurred_at == days(11)
    assert AuditEntry.objects.filter(target_id=customer.pk, changes__rule=[None, "no_follow_up"]).exists()
    state = CustomerPoolState.objects.get(customer=customer)
    assert (state.previous_owner, state.pool, state.entered_pool_at) == (team.rep1, pool, days(11))
    assert PoolMove.objects.filter(customer=customer, kind="recycle", from_owner=team.rep1).count() == 1


def test_owners_are_warned_once_and_a_second_run_changes_nothing(
    team, customer_of, pool, django_capture_on_commit_callbacks
):
    customer = owned(customer_of, team, "甲公司")
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        first = pool_recycle(now=days(7, 1))
    assert first.warned == [customer.pk]
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [team.rep1.email]
    assert "甲公司" in mail.outbox[0].body

    with django_capture_on_commit_callbacks(execute=True):
        assert pool_recycle(now=days(7, 2)).warned == []
        assert pool_recycle(now=days(8)).warned == []
    assert len(mail.outbox) == 1
    assert TimelineEntry.objects.filter(customer=customer, kind=PoolEvent.POOL_WARNED).count() == 1

    pool_recycle(now=days(11))
    timeline = TimelineEntry.objects.count()
    audit = AuditEntry.objects.count()
    again = pool_recycle(now=days(11))
    assert (again.recycled, again.warned) == ([], [])
    assert (TimelineEntry.objects.count(), AuditEntry.objects.count()) == (timeline, audit)


def test_a_follow_up_after_the_warning_means_a_new_warning_later(team, customer_of, pool):
    customer = owned(customer_of, team, "甲公司")
    pool_recycle(now=days(8))
    activity_log(customer=customer, actor=team.rep1, kind="call", subject="电话回访", occurred_at=days(9))
    assert pool_recycle(now=days(12)).recycled == []
    assert pool_recycle(now=days(16, 1)).warned == [customer.pk]
    assert TimelineEntry.objects.filter(customer=customer, kind=PoolEvent.POOL_WARNED).count() == 2


def test_no_deal_rule_counts_from_when_the_owner_took_the_customer(team, customer_of):
    make_pool(deal_days_key=30)
    customer = owned(customer_of, team, "甲公司", "key")
    pool_release(customer=customer, actor=team.rep1, now=days(1))
    pool_claim(customer=Customer.objects.get(pk=customer.pk), actor=team.rep2, now=days(2))
    activity_log(customer=customer, actor=team.rep2, kind="visit", subject="拜访", occurred_at=days(20))
    assert pool_recycle(now=days(31)).recycled == []
    assert pool_recycle(now=days(32, 1)).recycled == [customer.pk]
    assert TimelineEntry.objects.get(customer=customer, kind=PoolEvent.POOL_RECYCLED).payload["rule"] == "no_deal"


def test_exempt_customers_stay_until_the_date(team, customer_of, pool):
    customer = owned(customer_of, team, "甲公司")
    pool_exempt(customer=customer, actor=team.manager1, until=timezone.localdate(days(20)), reason="投标进行中")
    assert pool_recycle(now=days(15)).recycled == []
    assert pool_recycle(now=days(21)).recycled == [customer.pk]


def test_reps_may_not_exempt(team, customer_of, pool):
    customer = owned(customer_of, team, "甲公司")
    with pytest.raises(PermissionDenied):
        pool_exempt(customer=customer, actor=team.rep1, until=timezone.localdate(days(20)), reason="我想留着")
    assert not CustomerPoolState.objects.filter(customer=customer, exempt_until__isnull=False).exists()


def test_no_rules_no_recycle(team, customer_of):
    make_pool()
    owned(customer_of, team, "甲公司")
    assert pool_recycle(now=days(1000)).recycled == []


def test_claim_limit_on_customers_owned(team, customer_of):
    make_pool(max_owned=2)
    customer_of(team.rep2, name="已有客户")
    pooled = [customer_of(team.rep1, name=f"公海客户{i}") for i in range(2)]
    for c in pooled:
        pool_release(customer=c, actor=team.rep1)
    pool_claim(customer=Customer.objects.get(pk=pooled[0].pk), actor=team.rep2)
    with pytest.raises(PoolConflictError) as exc:
        pool_claim(customer=Customer.objects.get(pk=pooled[1].pk), actor=team.rep2)
    assert exc.value.conflict_code == "max_owned"
    assert owner_of(pooled[1]) is None
    with pytest.raises(PoolConflictError):
        pool_assign(customer=Customer.objects.get(pk=pooled[1].pk), to_user=team.rep2, actor=team.manager1)


def test_claims_per_day(team, customer_of):
    make_pool(max_claims_per_day=2)
    pooled = [customer_of(team.rep1, name=f"公海客户{i}") for i in range(3)]
    for c in pooled:
        pool_release(customer=c, actor=team.rep1, now=days(-1))
    now = timezone.localtime(days(1)).replace(hour=10)
    pool_claim(customer=Customer.objects.get(pk=pooled[0].pk), actor=team.rep2, now=now)
    pool_claim(customer=Customer.objects.get(pk=pooled[1].pk), actor=team.rep2, now=now + timedelta(minutes=5))
    with pytest.raises(PoolConflictError) as exc:
        pool_claim(customer=Customer.objects.get(pk=pooled[2].pk), actor=team.rep2, now=now + timedelta(minutes=9))
    assert exc.value.conflict_code == "max_claims_per_day"
    pool_claim(customer=Customer.objects.get(pk=pooled[2].pk), actor=team.rep2, now=now + timedelta(days=1))
    assert owner_of(pooled[2]) == team.rep2.pk


def test_previous_owner_waits_out_the_cooldown(team, customer_of, pool):
    pool.reclaim_cooldown_days = 7
    pool.save()
    customer = owned(customer_of, team, "甲公司")
    pool_recycle(now=days(11))
    with pytest.raises(PoolConflictError) as exc:
        pool_claim(customer=Customer.objects.get(pk=customer.pk), actor=team.rep1, now=days(17))
    assert exc.value.conflict_code == "cooldown"
    # Someone else may claim it at once; the previous owner after the cool-down.
    pool_claim(customer=Customer.objects.get(pk=customer.pk), actor=team.rep1, now=days(18, 1))
    assert owner_of(customer) == team.rep1.pk


def test_claim_of_a_customer_someone_else_owns_is_refused(team, customer_of, pool):
    customer = customer_of(team.rep1, name="甲公司")
    with pytest.raises(PoolConflictError):
        pool_claim(customer=customer, actor=team.rep2)
    assert owner_of(customer) == team.rep1.pk


def test_assign_only_inside_the_managers_scope(team, customer_of, pool):
    customer = customer_of(team.rep1, name="甲公司")
    pool_release(customer=customer, actor=team.rep1)
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        pool_assign(customer=Customer.objects.get(pk=customer.pk), to_user=team.rep3, actor=team.manager1)
    assert owner_of(customer) is None
    pool_assign(customer=Customer.objects.get(pk=customer.pk), to_user=team.rep2, actor=team.manager1)
    assert owner_of(customer) == team.rep2.pk
    entry = TimelineEntry.objects.get(customer=customer, kind=PoolEvent.POOL_ASSIGNED)
    assert entry.actor == team.manager1


def test_customers_created_without_owner_by_other_doors_are_in_the_pool_of_their_region(team):
    from kehu.pool.selectors import PoolFilters, pool_customer_list

    east = make_pool(name="华东公海", regions="江苏, 浙江", is_default=False)
    default = make_pool(name="总公海", is_default=True)
    jiangsu = Customer.objects.create(name="江苏某公司", region="江苏")
    other = Customer.objects.create(name="四川某公司", region="四川")
    assert list(pool_customer_list(team.rep1, PoolFilters(pool=east.pk))) == [jiangsu]
    assert list(pool_customer_list(team.rep1, PoolFilters(pool=default.pk))) == [other]


def test_an_owner_set_on_the_customer_form_starts_the_clock(team, customer_of, pool):
    from kehu.customers.services import customer_update

    customer = owned(customer_of, team, "换了负责人的公司")
    customer_update(customer=customer, actor=team.manager1, expected_version=customer.version, owner=team.rep2)
    TimelineEntry.objects.filter(customer=customer, kind=CustomerEvent.OWNER_CHANGED).update(occurred_at=days(8))
    assert pool_recycle(now=days(11)).recycled == []
    assert pool_recycle(now=days(18, 1)).recycled == [customer.pk]
