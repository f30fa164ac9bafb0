"""Classification demo data (CLS-1..5): a revenue input for every customer, written by one
INSERT … SELECT (cheap at a million customers), a first run of the tier suggestion job, and for a
few key customers of each rep a key-account evaluation, a dealer evaluation and a credit rating,
through the services (so the timeline and the audit trail show them)."""

import random
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from kehu.classification import services
from kehu.classification.models import CustomerRevenue, TierSuggestion
from kehu.customers.models import Customer, Segment, Tier
from kehu.users.models import User

EVALUATED_PER_REP = 4
# Revenue bands in CNY per tier: (base, spread). About one customer in 25 falls in another
# tier's band, so the first run has promotions and demotions to propose.
BANDS = {Tier.KEY: (3_000_000, 7_000_000), Tier.ORDINARY: (300_000, 1_700_000), Tier.PROSPECT: (0, 250_000)}


def _revenue_sql(year: int) -> tuple[str, list]:
    revenue, customer = CustomerRevenue._meta.db_table, Customer._meta.db_table
    # A deterministic spread from the id: h in 0..999.
    h = "((c.id * 7919) %% 1000)"
    bands = " ".join(
        f"WHEN c.tier = '{tier}' THEN {base} + {h} * {spread // 1000}" for tier, (base, spread) in BANDS.items()
    )
    sql = (
        f"INSERT INTO {revenue} (customer_id, year, revenue, potential, recorded_by_id, recorded_at) "
        f"SELECT c.id, %s, "
        f"CASE WHEN (c.id %% 25) = 5 THEN {h} * 9000 ELSE CASE {bands} ELSE 0 END END, "
        f"CASE WHEN (c.id %% 11) = 3 THEN {h} * 1000 ELSE {h} * 100 END, c.owner_id, %s "
        f"FROM {customer} c WHERE c.deleted_at IS NULL"
    )
    return sql, [year, timezone.now()]


def populate(users: dict[str, User], *, seed: int = 42) -> dict:
    rng = random.Random(seed)
    year = timezone.localdate().year
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(*_revenue_sql(year))
    result = services.suggestions_refresh(year=year)
    manager_of = {"rep1": "manager1", "rep2": "manager1", "rep3": "manager2"}
    for login in ("rep1", "rep2", "rep3"):
        rep = users.get(login)
        if rep is None:
            continue
        for customer in Customer.objects.filter(owner=rep, tier=Tier.KEY, deleted_at__isnull=True).order_by("id")[
            :EVALUATED_PER_REP
        ]:
            services.key_evaluation_create(
                customer=customer,
                actor=rep,
                attractiveness=rng.choice(["high", "high", "medium"]),
                potential_volume=Decimal(rng.randrange(1_000_000, 20_000_000, 10_000)),
                potential_margin=Decimal(rng.randrange(800, 3500)) / 100,
                relationship_state=rng.choice(["developing", "good", "firm", "limited"]),
                relationship_level=rng.choice(["proactive", "accountable", "partnership"]),
                notes=rng.choice(["年度框架协议续签中", "技术部对新产品线兴趣很大", "采购经理更换，需重新建立关系"]),
            )
            if customer.segment == Segment.DEALER or rng.random() < 0.5:
                services.dealer_evaluation_create(
                    customer=customer,
                    actor=rep,
                    enthusiasm=rng.randint(2, 5),
                    enthusiasm_notes="主动参加订货会",
                    capability=rng.randint(2, 5),
                    capability_notes="有自有仓库和配送车队",
                    credit=rng.randint(2, 5),
                    credit_notes=rng.choice(["回款及时", "偶有延期付款"]),
                    social=rng.randint(2, 5),
                    social_notes="当地行业协会会员",
                )
            manager = users.get(manager_of[login])
            if manager is not None:
                services.credit_set(
                    customer=customer,
                    actor=manager,
                    rating=rng.choice(["AAA", "AA", "A"]),
                    limit=Decimal(rng.choice([300_000, 500_000, 800_000, 1_000_000])),
                    investigation="工商登记、近两年付款记录和银行资信证明已核实",
                )
    # One rejected suggestion so the decided list is not empty; the rest wait for the managers.
    gm = users.get("gm")
    first = TierSuggestion.objects.filter(status="open").order_by("rank").first()
    if gm is not None and first is not None:
        services.suggestion_reject(suggestion=first, actor=gm, reason="正在洽谈新合同，暂不调整")
    return result
