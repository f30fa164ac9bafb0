"""A small pool world for view and API tests: rep1 owns a customer with history; two customers
sit in the pool (one released by rep1)."""

from dataclasses import dataclass
from datetime import date

from kehu.activities.services import activity_log
from kehu.customers.models import Customer
from kehu.customers.services import contact_create, customer_create
from kehu.pool.services import pool_release
from kehu.pool.tests.factories import make_pool


@dataclass
class PoolWorld:
    team: object
    pool: object
    owned: Customer
    pooled: Customer
    released: Customer


def build_pool_world(team) -> PoolWorld:
    pool = make_pool(name="华东公海", followup_days_prospect=30, warn_days=5)
    owned = customer_create(actor=team.rep1, owner=team.rep1, name="苏州华星精密机械有限公司", region="江苏")
    contact_create(
        customer=owned,
        actor=team.rep1,
        name="王建国",
        buying_role="decision_maker",
        mobile="13857112345",
        hobbies="钓鱼",
    )
    activity_log(customer=owned, actor=team.rep1, kind="visit", subject="首次拜访")
    activity_log(customer=owned, actor=team.rep1, kind="commitment", subject="周五前报价", due_on=date(2030, 1, 10))
    pooled = Customer.objects.create(name="无主客户有限公司", region="浙江", tier="ordinary")
    released = customer_create(actor=team.rep1, owner=team.rep1, name="退回公海的客户", region="浙江")
    pool_release(customer=released, actor=team.rep1)
    for c in (owned, released):
        c.refresh_from_db()
    return PoolWorld(team, pool, owned, pooled, released)


def pool_db_state() -> dict:
    from kehu.core.models import AuditEntry
    from kehu.customers.models import TimelineEntry
    from kehu.pool.models import CustomerPoolState, Handover, Pool, PoolMove

    def rows(model):
        return list(model.objects.order_by("pk").values())

    return {
        "customers": rows(Customer),
        "states": rows(CustomerPoolState),
        "pools": rows(Pool),
        "moves": PoolMove.objects.count(),
        "handovers": Handover.objects.count(),
        "timeline": TimelineEntry.objects.count(),
        "audit": AuditEntry.objects.count(),
    }
