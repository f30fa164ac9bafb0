"""The public pool in the demo: three pools with their rules, a dozen customers in the pool
(some given up by their rep, some returned by rule) and one exemption. Small and fixed in size
whatever the number of customers; written directly, like the rest of the generator."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from kehu.customers.models import Customer, TimelineEntry
from kehu.pool.events import PoolEvent
from kehu.pool.models import CustomerPoolState, MoveKind, Pool, PoolMove
from kehu.users.models import User

POOLS = [
    # name, regions, default, follow-up days (prospect, ordinary, key), warn days, max owned, claims a day, cool-down
    # Gentle on purpose: the demo's history is sparse, and the first hourly run should return some
    # neglected customers to the pool, not half of every rep's book.
    ("华东公海", "江苏, 浙江, 上海, 安徽", False, (365, 730, None), 14, None, 5, 30),
    ("华南公海", "广东, 福建, 广西, 海南", False, (180, 365, None), 7, 500, 3, 15),
    ("总公海", "", True, (None, None, None), 3, None, None, 0),
]
IN_POOL = 12
RELEASE_REASONS = ["客户暂无采购计划", "联系人离职，需重新开发", "区域调整", "多次拜访无进展"]


@transaction.atomic
def add_pool_demo(users: dict[str, User]) -> None:
    pools = {}
    for name, regions, default, (p, o, k), warn, max_owned, per_day, cooldown in POOLS:
        pools[name] = Pool.objects.create(
            name=name,
            regions=regions,
            is_default=default,
            followup_days_prospect=p,
            followup_days_ordinary=o,
            followup_days_key=k,
            warn_days=warn,
            max_owned=max_owned,
            max_claims_per_day=per_day,
            reclaim_cooldown_days=cooldown,
        )
    # Spread over the id range: a dozen indexed look-ups, whatever the number of customers.
    prospects = Customer.objects.filter(owner__isnull=False, tier="prospect").order_by("pk")
    last = prospects.values_list("pk", flat=True).last() or 0
    picked, seen = [], set()
    for i in range(IN_POOL):
        row = prospects.filter(pk__gte=last * i // IN_POOL).values("pk", "owner_id", "region", "updated_at").first()
        if row is not None and row["pk"] not in seen:
            seen.add(row["pk"])
            picked.append(row)
    if not picked:
        return
    now = timezone.now()
    by_id = {u.pk: u for u in users.values()}
    states, moves, timeline = [], [], []
    for i, row in enumerate(picked):
        owner = by_id.get(row["owner_id"])
        pool = next((p for p in pools.values() if row["region"] in p.region_list), pools["总公海"])
        at = max(now - timedelta(days=3 + 5 * i), row["updated_at"])
        recycled = i % 3 == 2 and pool.followup_days_prospect
        states.append(CustomerPoolState(customer_id=row["pk"], pool=pool, entered_pool_at=at, previous_owner=owner))
        moves.append(
            PoolMove(
                customer_id=row["pk"],
                kind=MoveKind.RECYCLE if recycled else MoveKind.RELEASE,
                at=at,
                from_owner=owner,
                actor=None if recycled else owner,
                pool=pool,
                rule="no_follow_up" if recycled else "manual",
            )
        )
        if recycled:
            summary = f"超过 {pool.followup_days_prospect} 天未跟进，自动收回{pool.name}（原负责人 {owner}）"
            payload = {"rule": "no_follow_up", "days": pool.followup_days_prospect, "pool": pool.pk, "from": owner.pk}
        else:
            summary = f"{owner} 将客户退回{pool.name}：{RELEASE_REASONS[i % len(RELEASE_REASONS)]}"
            payload = {"pool": pool.pk, "pool_name": pool.name, "from": owner.pk, "to": None, "rule": "manual"}
        timeline.append(
            TimelineEntry(
                customer_id=row["pk"],
                occurred_at=at,
                kind=PoolEvent.POOL_RECYCLED if recycled else PoolEvent.POOL_RELEASED,
                actor=None if recycled else owner,
                subject_type="customers.customer",
                subject_id=row["pk"],
                summary=summary[:300],
                payload=payload,
            )
        )
    Customer.objects.filter(pk__in=[r["pk"] for r in picked]).update(owner=None)
    CustomerPoolState.objects.bulk_create(states)
    PoolMove.objects.bulk_create(moves)
    TimelineEntry.objects.bulk_create(timeline)
    # A key customer of rep1 with a tender under way: exempt from the automatic return for a while.
    key = Customer.objects.filter(owner=users["rep1"], tier="key").order_by("pk").first()
    if key is not None:
        CustomerPoolState.objects.create(
            customer=key,
            owned_since=key.created_at,
            exempt_until=timezone.localdate() + timedelta(days=60),
            exempt_reason="正在参与客户年度设备招标",
        )
