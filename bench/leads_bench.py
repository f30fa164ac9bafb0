"""Leads benchmark (SAL-1): 500,000 leads in SQLite; the lead list sorted by score (and by SLA)
for a manager who sees everyone and for a rep who sees their own, timed as selector and as page.

    .venv/bin/python bench/leads_bench.py                 # 500k leads
    .venv/bin/python bench/leads_bench.py --leads 50000

Uses its own database under var/bench-leads/ (recreated on every run). Prints a Markdown table and
writes it to bench/results/leads-latest.md.
"""

import argparse
import os
import random
import shutil
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench-leads"
RESULTS = ROOT / "bench" / "results"
REGIONS = ["浙江", "江苏", "上海", "安徽", "广东", "山东"]


def setup_django(db: Path):
    os.environ["KEHU_VAR_DIR"] = str(VAR)
    os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings

    settings.TASKS = {
        "default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default", "email"]}
    }
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.ALLOWED_HOSTS = ["*"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def timed(fn, runs: int = 7) -> float:
    fn()  # warm the cache
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=500_000)
    parser.add_argument("--reps", type=int, default=40)
    args = parser.parse_args()

    shutil.rmtree(VAR, ignore_errors=True)
    VAR.mkdir(parents=True)
    setup_django(VAR / "leads.sqlite3")
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from kehu.leads.models import Lead, LeadSource, LeadStatus
    from kehu.leads.selectors import LeadFilters, lead_list
    from kehu.users.models import User
    from kehu.users.roles import Role

    manager = User.objects.create_user("gm", password="kehu-bench", role=Role.GENERAL_MANAGER)
    reps = [
        User.objects.create_user(f"rep{i}", password="kehu-bench", role=Role.SALES_REP, manager=manager)
        for i in range(args.reps)
    ]
    rnd = random.Random(7)
    now = timezone.now()
    statuses = [LeadStatus.NEW] * 5 + [LeadStatus.CONTACTED] * 3 + [LeadStatus.QUALIFIED, LeadStatus.CONVERTED]
    statuses += [LeadStatus.DISQUALIFIED] * 2
    start = time.perf_counter()
    batch = []
    for i in range(args.leads):
        created = now - timedelta(minutes=rnd.randint(0, 60 * 24 * 365))
        batch.append(
            Lead(
                company_name=f"{rnd.choice(REGIONS)}恒达机电有限公司{i:07d}",
                contact_name="王经理",
                phone=f"138{i:08d}",
                region=rnd.choice(REGIONS),
                source=rnd.choice(LeadSource.values),
                owner=rnd.choice(reps) if i % 20 else None,
                status=rnd.choice(statuses),
                score=rnd.randint(0, 100),
                score_reasons=[{"code": "phone", "points": 6}],
                sla_due_at=created + timedelta(hours=8),
                created_at=created,
                updated_at=created,
            )
        )
        if len(batch) == 10_000:
            Lead.objects.bulk_create(batch)
            batch = []
    Lead.objects.bulk_create(batch)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    load_s = time.perf_counter() - start

    client = Client()
    rows = []
    for who in (manager, reps[0]):
        for sort in ("score", "sla"):
            filters = LeadFilters(sort=sort)
            ms = timed(lambda who=who, filters=filters: lead_list(who, filters, offset=0, limit=25))
            deep = timed(lambda who=who, filters=filters: lead_list(who, filters, offset=25 * 99, limit=25))
            client.force_login(who)
            page = timed(lambda sort=sort: client.get(f"/leads/?sort={sort}"))
            rows.append((who.username, sort, ms, deep, page))
    qs = Lead.objects.filter(deleted_at__isnull=True).exclude(status__in=["converted", "disqualified"])
    sql, params = qs.order_by("-score", "-id")[:25].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        plan = "; ".join(str(r[-1]) for r in cursor.fetchall())

    lines = [
        f"# Leads benchmark: {args.leads:,} leads, {args.reps} reps (SQLite)",
        "",
        f"Loaded in {load_s:.1f} s. Median of 7 runs, warm.",
        "",
        "| user | sort | page 1 (selector) | page 100 (selector) | page 1 (HTTP) |",
        "| --- | --- | ---: | ---: | ---: |",
        *[f"| {u} | {s} | {a:.1f} ms | {b:.1f} ms | {c:.1f} ms |" for u, s, a, b, c in rows],
        "",
        f"Plan of the manager's list by score: `{plan}`",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "leads-latest.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
