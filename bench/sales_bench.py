"""Sales benchmark (SAL-2, SAL-11): 300,000 opportunities in SQLite; times the board of a manager
and of a rep, the first list page, the forecast refresh (the periodic task) and the forecast read.

    .venv/bin/python bench/sales_bench.py                       # 300k opportunities
    .venv/bin/python bench/sales_bench.py --opportunities 30000 --repeat 5

Uses its own database under var/bench-sales/ (recreated on every run). In-process (no web server):
it measures the selectors and the task, with their query counts. Prints a Markdown table and
writes it to bench/results/sales-latest.md.
"""

import argparse
import os
import platform
import random
import shutil
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench-sales"
RESULTS = ROOT / "bench" / "results"
REPS = 40


def setup_django(db: Path):
    os.environ["KEHU_VAR_DIR"] = str(VAR)
    os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def load(n: int, seed: int = 11):
    from django.utils import timezone

    from kehu.customers.models import Customer
    from kehu.sales.models import Opportunity, Stage, StageKind
    from kehu.users.models import Department, User
    from kehu.users.roles import Role
    from kehu.users.services import department_create

    rnd = random.Random(seed)
    hq = department_create(name="总公司", parent=None, actor=None)
    east = department_create(name="华东销售部", parent=hq, actor=None)
    south = department_create(name="华南销售部", parent=hq, actor=None)
    manager = User.objects.create_user("manager1", password="kehu-bench", role=Role.SALES_MANAGER, department=east)
    reps = [
        User.objects.create_user(
            f"rep{i}", password="kehu-bench", role=Role.SALES_REP, department=east if i % 3 else south, manager=manager
        )
        for i in range(1, REPS + 1)
    ]
    industries = [c for c, _ in Customer._meta.get_field("industry").choices]
    customers = Customer.objects.bulk_create(
        Customer(name=f"客户{i:06d}有限公司", owner=reps[i % REPS], industry=rnd.choice(industries))
        for i in range(n // 10)
    )
    stages = list(Stage.objects.select_related("pipeline"))
    now = timezone.now()
    batch = []
    for i in range(n):
        stage = rnd.choice(stages)
        customer = customers[rnd.randrange(len(customers))]
        closed = stage.kind != StageKind.OPEN
        batch.append(
            Opportunity(
                customer=customer,
                owner_id=customer.owner_id,
                pipeline_id=stage.pipeline_id,
                stage=stage,
                status=stage.kind,
                name=f"商机{i:07d}",
                amount=Decimal(rnd.randrange(5_000, 5_000_000)),
                probability=stage.probability,
                expected_close_on=date.today() + timedelta(days=rnd.randrange(-200, 365)),
                closed_at=now - timedelta(days=rnd.randrange(0, 365)) if closed else None,
                close_reason="价格" if closed else "",
                stage_entered_at=now,
            )
        )
        if len(batch) == 5000:
            Opportunity.objects.bulk_create(batch)
            batch = []
    Opportunity.objects.bulk_create(batch)
    del Department
    return manager, reps[1]


def timed(fn, repeat: int):
    from django.db import connection, reset_queries

    times, queries = [], 0
    for _ in range(repeat):
        reset_queries()
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
        queries = len(connection.queries)
    return statistics.median(times), max(times), queries


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--opportunities", type=int, default=300_000)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()

    shutil.rmtree(VAR, ignore_errors=True)
    VAR.mkdir(parents=True)
    setup_django(VAR / "sales.sqlite3")
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    start = time.perf_counter()
    manager, rep = load(args.opportunities)
    load_s = time.perf_counter() - start
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    from kehu.sales import selectors
    from kehu.sales.forecast import forecast_for, forecast_refresh
    from kehu.sales.models import Pipeline
    from kehu.users.models import User

    settings.DEBUG = True  # connection.queries for the counts
    pipeline = Pipeline.objects.get(code="direct")
    manager = User.objects.get(pk=manager.pk)
    rep = User.objects.get(pk=rep.pk)
    year = date.today().year
    rows = [
        ("board, manager (华东, ~2/3 of deals)", lambda: selectors.board(manager, pipeline)),
        ("board, one rep", lambda: selectors.board(rep, pipeline)),
        (
            "list, first page by amount, manager",
            lambda: selectors.opportunity_page(
                manager, selectors.OpportunityFilters(status="open", sort="-amount"), offset=0, limit=25
            ),
        ),
        ("forecast refresh (periodic task)", forecast_refresh),
        ("forecast read, manager", lambda: forecast_for(manager, year)),
    ]
    results = [(label, *timed(fn, 3 if "refresh" in label else args.repeat)) for label, fn in rows]
    lines = [
        f"# Sales benchmark — {datetime.now():%Y-%m-%d %H:%M}",
        "",
        f"{args.opportunities:,} opportunities, {args.opportunities // 10:,} customers, {REPS} reps; "
        f"SQLite, {platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs; "
        f"data loaded in {load_s:.1f} s.",
        "",
        "| what | median ms | max ms | queries |",
        "| --- | ---: | ---: | ---: |",
        *(f"| {label} | {median:.1f} | {worst:.1f} | {q} |" for label, median, worst, q in results),
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "sales-latest.md").write_text(text)


if __name__ == "__main__":
    main()
