"""Add the sales layer to the benchmark database (used by bench/run.py): leads, opportunities,
more reps and this year's targets, then the forecast aggregates.

    python bench/sales_data.py --leads 500000 --opportunities 300000

Runs with the benchmark's environment (KEHU_VAR_DIR, DATABASE_URL). Adds 40 reps, half in each
sales department, so a manager's team is about half of the company; the leads and deals spread
over them and the foundation's three reps. Prints one JSON line: what was loaded and how long the
forecast refresh (the periodic task) took.
"""

import argparse
import json
import os
import random
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
REGIONS = ["浙江", "江苏", "上海", "安徽", "广东", "山东", "福建", "湖北"]
NEW_REPS = 40
BATCH = 10_000
# The benchmark's own rows are recognised by their names, so whatever the demo data already holds
# (its own leads, deals and targets) the layer is loaded in full, and only once.
LEAD_MARK = "恒达机电有限公司"
DEAL_MARK = "商机"


def reps():
    from kehu.users.models import Department, User
    from kehu.users.roles import Role

    existing = list(User.objects.filter(role=Role.SALES_REP).order_by("id"))
    if len(existing) >= NEW_REPS:
        return existing
    departments = {d.name: d for d in Department.objects.all()}
    managers = {u.department_id: u for u in User.objects.filter(role=Role.SALES_MANAGER)}
    for i in range(1, NEW_REPS + 1):
        department = departments["华东销售部" if i % 2 else "华南销售部"]
        User.objects.create_user(
            f"salesrep{i:02d}",
            password="kehu-demo",
            role=Role.SALES_REP,
            department=department,
            manager=managers.get(department.pk),
        )
    return list(User.objects.filter(role=Role.SALES_REP).order_by("id"))


def load_leads(start: int, n: int, owners: list, rnd: random.Random) -> None:
    from django.utils import timezone

    from kehu.customers.models import Industry
    from kehu.leads.models import Lead, LeadSource, LeadStatus, SizeBand

    statuses = [LeadStatus.NEW] * 5 + [LeadStatus.CONTACTED] * 3 + [LeadStatus.QUALIFIED]
    statuses += [LeadStatus.CONVERTED, LeadStatus.DISQUALIFIED, LeadStatus.DISQUALIFIED]
    reasons = [{"code": "core_industry", "points": 15}, {"code": "phone", "points": 6}]
    now = timezone.now()
    batch = []
    for i in range(start, n):
        created = now - timedelta(minutes=rnd.randint(0, 60 * 24 * 365))
        status = rnd.choice(statuses)
        batch.append(
            Lead(
                company_name=f"{rnd.choice(REGIONS)}{LEAD_MARK}{i:07d}",
                contact_name="王经理",
                phone=f"139{i:08d}",
                region=rnd.choice(REGIONS),
                industry=rnd.choice(Industry.values),
                size_band=rnd.choice(SizeBand.values),
                source=rnd.choice(LeadSource.values),
                owner=rnd.choice(owners) if i % 20 else None,
                status=status,
                score=rnd.randint(0, 100),
                score_reasons=reasons,
                first_responded_at=None if status == LeadStatus.NEW else created + timedelta(hours=2),
                sla_due_at=created + timedelta(hours=8),
                created_at=created,
                updated_at=created,
            )
        )
        if len(batch) == BATCH:
            Lead.objects.bulk_create(batch)
            batch = []
    Lead.objects.bulk_create(batch)


def load_opportunities(start: int, n: int, owners: list, rnd: random.Random) -> None:
    from django.db import connection
    from django.utils import timezone

    from kehu.sales.models import Opportunity, Stage, StageKind

    with connection.cursor() as cursor:
        cursor.execute("SELECT MIN(id), MAX(id) FROM customers_customer")
        low, high = cursor.fetchone()
    stages = list(Stage.objects.all())
    # Two deals in three are still open, like a live pipeline.
    weights = [4 if s.kind == StageKind.OPEN else 3 for s in stages]
    now = timezone.now()
    today = date.today()
    batch = []
    for i in range(start, n):
        stage = rnd.choices(stages, weights)[0]
        closed = stage.kind != StageKind.OPEN
        batch.append(
            Opportunity(
                customer_id=rnd.randint(low, high),
                owner=rnd.choice(owners),
                pipeline_id=stage.pipeline_id,
                stage=stage,
                status=stage.kind,
                name=f"{DEAL_MARK}{i:07d}",
                amount=Decimal(rnd.randrange(5_000, 5_000_000)),
                probability=stage.probability,
                expected_close_on=today + timedelta(days=rnd.randrange(-200, 365)),
                closed_at=now - timedelta(days=rnd.randrange(0, 365)) if closed else None,
                close_reason="价格" if closed else "",
                stage_entered_at=now - timedelta(days=rnd.randrange(0, 90)),
            )
        )
        if len(batch) == BATCH:
            Opportunity.objects.bulk_create(batch)
            batch = []
    Opportunity.objects.bulk_create(batch)


def load_targets(owners: list) -> None:
    """This year's monthly targets for the company, the sales departments and every rep, where the
    demo data has not set one already (a target is unique per level, metric, month and holder)."""
    from kehu.sales.models import Target, TargetLevel, TargetMetric
    from kehu.users.models import Department

    year = date.today().year
    existing = set(
        Target.objects.filter(month__year=year).values_list("level", "metric", "month", "department_id", "user_id")
    )
    rows = []
    for month in range(1, 13):
        first = date(year, month, 1)
        for metric in TargetMetric.values:
            rows.append(Target(level=TargetLevel.COMPANY, metric=metric, month=first, amount=Decimal(400_000_000)))
            for department in Department.objects.filter(name__endswith="销售部"):
                rows.append(
                    Target(
                        level=TargetLevel.DEPARTMENT,
                        metric=metric,
                        month=first,
                        department=department,
                        amount=Decimal(200_000_000),
                    )
                )
            rows += [
                Target(level=TargetLevel.REP, metric=metric, month=first, user=rep, amount=Decimal(9_000_000))
                for rep in owners
            ]
    Target.objects.bulk_create(
        [t for t in rows if (str(t.level), str(t.metric), t.month, t.department_id, t.user_id) not in existing]
    )


def check(username: str) -> dict:
    """What the benchmark's pages will show `username`, counted through the pages' own selectors:
    the run refuses to report a page measured on less data than its label claims."""
    from kehu.leads.models import OPEN_STATUSES, Lead
    from kehu.leads.selectors import lead_qs_visible_to
    from kehu.sales.models import Opportunity, Pipeline, StageKind
    from kehu.sales.selectors import board, opportunity_qs_visible_to
    from kehu.users.models import User

    user = User.objects.get(username=username)
    deals = opportunity_qs_visible_to(user)
    return {
        "leads": Lead.objects.filter(company_name__contains=LEAD_MARK).count(),
        "opportunities": Opportunity.objects.filter(name__startswith=DEAL_MARK).count(),
        "leads_open_visible": lead_qs_visible_to(user).filter(status__in=OPEN_STATUSES).count(),
        "opportunities_visible": deals.count(),
        "opportunities_open_visible": deals.filter(status=StageKind.OPEN).count(),
        "board_cards_counted": sum(
            c.count for c in board(user, Pipeline.objects.order_by("-is_default", "id").first())
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=500_000)
    parser.add_argument("--opportunities", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--check", metavar="USERNAME", help="only print what this user's pages cover")
    args = parser.parse_args()

    import django

    django.setup()
    if args.check:
        print(json.dumps(check(args.check)))
        return
    from django.db import connection, transaction

    from kehu.leads.models import Lead
    from kehu.sales.forecast import forecast_refresh
    from kehu.sales.models import Opportunity

    rnd = random.Random(args.seed)
    started = time.monotonic()
    with transaction.atomic():
        owners = reps()
        # Continue a layer a killed run left behind; the demo's own rows never count towards it.
        load_leads(Lead.objects.filter(company_name__contains=LEAD_MARK).count(), args.leads, owners, rnd)
        load_opportunities(
            Opportunity.objects.filter(name__startswith=DEAL_MARK).count(), args.opportunities, owners, rnd
        )
        load_targets(owners)
    with connection.cursor() as cursor:
        for table in ("leads_lead", "sales_opportunity", "sales_target", "users_user"):
            cursor.execute(f"ANALYZE {table}")
    loaded = time.monotonic() - started
    refresh_started = time.monotonic()
    forecast_refresh()
    refresh = time.monotonic() - refresh_started
    print(
        json.dumps(
            {
                "leads": Lead.objects.filter(company_name__contains=LEAD_MARK).count(),
                "opportunities": Opportunity.objects.filter(name__startswith=DEAL_MARK).count(),
                "reps": len(owners),
                "load_seconds": round(loaded, 1),
                "forecast_refresh_seconds": round(refresh, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
