"""Complaint statistics benchmark (SRV-2): the complaint statistics report (投诉统计报表) for a year
over 200,000 complaints.

    .venv/bin/python bench/complaint_bench.py                          # 200,000 complaints over 2 years
    .venv/bin/python bench/complaint_bench.py --years 1                # all of them in one year (worst case)
    .venv/bin/python bench/complaint_bench.py --complaints 20000       # quicker
    .venv/bin/python bench/complaint_bench.py --reuse                  # time again on the last data set

Builds a fresh SQLite database under var/bench-complaints/ (the laptop database is untouched): the
demo company (`demo_data`, 2,000 customers by default), then the complaints bulk-inserted, spread
evenly over the last `--years` years, over the customers, the catalog's products, five departments,
twelve causes and six categories. Times, in this process, `complaint_stats` for the last 12 months
(the report's six grouped queries), the report page `GET /service/complaints/statistics/` and the API
`GET /api/v1/service/complaints/stats` (through Django's test client: views, templates and middleware
as served, without HTTP), and the .xlsx export. Prints p50 / p95 over `--samples` runs and writes
the table, the SQL and its plans to bench/results/complaints-latest.md.
"""

import argparse
import os
import platform
import random
import shutil
import statistics
import sys
import time
from datetime import datetime, timedelta
from io import StringIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench-complaints"
RESULTS = ROOT / "bench" / "results"
TARGET_P95_MS = 300.0
BATCH = 10_000


def setup_django(db: Path):
    os.environ["KEHU_VAR_DIR"] = str(VAR)
    os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    os.environ["KEHU_DEBUG"] = "0"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.ALLOWED_HOSTS = ["*"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def load(complaints: int, customers: int, years: int) -> dict:
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from kehu.catalog.models import Specification
    from kehu.customers.models import Customer
    from kehu.support.models_complaints import (
        Complaint,
        ComplaintCategory,
        ComplaintCause,
        ComplaintResponsibility,
        ComplaintState,
    )
    from kehu.users.models import Department, User
    from kehu.users.services import department_create

    started = time.perf_counter()
    call_command("demo_data", customers=customers, stdout=StringIO())
    demo_seconds = time.perf_counter() - started
    Complaint.objects.all().delete()  # the demo's 25: the set is the bench's own
    root = Department.objects.filter(parent__isnull=True).order_by("pk").first()
    for name in ("质量部", "生产部", "采购部", "仓储物流部"):
        if not Department.objects.filter(name=name).exists():
            department_create(name=name, parent=root, actor=None)
    departments = list(Department.objects.values_list("pk", flat=True))[:8]
    customer_ids = list(Customer.objects.values_list("pk", flat=True))
    specs = list(Specification.objects.values_list("pk", "product_id", "code"))
    owner = User.objects.get(username="service1").pk
    causes, categories = ComplaintCause.values, ComplaintCategory.values
    responsibilities, states = ComplaintResponsibility.values, ComplaintState.values
    rng = random.Random(13)
    now = timezone.now()
    span = years * 365 * 86400
    started = time.perf_counter()
    for start in range(0, complaints, BATCH):
        rows = []
        for n in range(start, min(start + BATCH, complaints)):
            at = now - timedelta(seconds=span * (complaints - n) / complaints)
            spec, product, code = rng.choice(specs)
            investigated = rng.random() < 0.8
            rows.append(
                Complaint(
                    number=f"TS-{at.year}-B{n:07d}",
                    customer_id=rng.choice(customer_ids),
                    product_id=product,
                    specification_id=spec,
                    part_number=code,
                    customer_words="批量数据",
                    category=rng.choice(categories),
                    severity="major",
                    state=rng.choice(states) if investigated else "registered",
                    owner_id=owner,
                    registered_on=timezone.localtime(at).date(),
                    department_id=rng.choice(departments) if investigated else None,
                    cause=rng.choice(causes) if investigated else "",
                    responsibility=rng.choice(responsibilities) if investigated else "",
                    created_at=at,
                    updated_at=at,
                )
            )
        Complaint.objects.bulk_create(rows)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"demo_seconds": demo_seconds, "seconds": time.perf_counter() - started}


def timed(function, n: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        function()
    times = []
    for _ in range(n):
        t = time.perf_counter()
        function()
        times.append((time.perf_counter() - t) * 1000)
    return times


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--complaints", type=int, default=200_000)
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--years", type=int, default=2)
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--reuse", action="store_true", help="keep the data set of the last run")
    args = parser.parse_args()

    reuse = args.reuse and (VAR / "complaints.sqlite3").exists()
    if not reuse:
        shutil.rmtree(VAR, ignore_errors=True)
        VAR.mkdir(parents=True)
    setup_django(VAR / "complaints.sqlite3")
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from kehu.support import complaint_report as report
    from kehu.support.models_complaints import Complaint
    from kehu.users.models import User
    from kehu.users.services import api_token_create

    call_command("migrate", verbosity=0)
    if reuse:
        loaded = {"demo_seconds": 0.0, "seconds": 0.0}
        args.complaints = Complaint.objects.count()
    else:
        loaded = load(args.complaints, args.customers, args.years)
    last = timezone.localdate()
    first = last.replace(year=last.year - 1) + timedelta(days=1)
    in_year = Complaint.objects.filter(registered_on__gte=first, registered_on__lte=last).count()
    user = User.objects.get(username="service1")
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    query = f"?first={first.isoformat()}&last={last.isoformat()}&period=month"
    page_url = "/service/complaints/statistics/" + query
    assert client.get(page_url).status_code == 200
    _token, raw = api_token_create(user=user, name="bench")
    api = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {raw}")
    api_url = "/api/v1/service/complaints/stats" + query
    assert api.get(api_url).status_code == 200

    function = timed(lambda: report.complaint_stats(first=first, last=last, period="month"), args.samples, args.warmup)
    page = timed(lambda: client.get(page_url), args.samples, args.warmup)
    api_times = timed(lambda: api.get(api_url), args.samples, args.warmup)
    export = timed(lambda: client.get("/service/complaints/statistics/export/" + query), 10, 2)
    with CaptureQueriesContext(connection) as captured:
        report.complaint_stats(first=first, last=last, period="month")
    plans = []
    with connection.cursor() as cursor:
        for q in captured.captured_queries:
            if "support_complaint" not in q["sql"] or "GROUP BY" not in q["sql"]:
                continue
            cursor.execute(f"EXPLAIN QUERY PLAN {q['sql']}")
            plans.append((q["sql"], float(q["time"]) * 1000, [row[-1] for row in cursor.fetchall()]))

    rows = [
        ("`complaint_stats` for the last 12 months (six grouped queries)", function, TARGET_P95_MS),
        ("report page `GET /service/complaints/statistics/` (tables and chart data)", page, TARGET_P95_MS),
        ("API `GET /api/v1/service/complaints/stats`", api_times, TARGET_P95_MS),
        ("export `GET …/statistics/export/` (.xlsx, 10 runs)", export, None),
    ]
    lines = [
        f"Complaint statistics benchmark, {datetime.now():%Y-%m-%d %H:%M}, {platform.machine()}, "
        f"Python {platform.python_version()}",
        "",
        f"{args.complaints:,} complaints over the last {args.years} year(s) ({in_year:,} in the reported 12 months), "
        + (
            "the data set of the last run; "
            if reuse
            else f"{args.customers:,} demo customers; demo company loaded in {loaded['demo_seconds']:.1f} s, "
            f"complaints in {loaded['seconds']:.1f} s; "
        )
        + f"{args.samples} timed runs after {args.warmup} warm-up.",
        "",
        "| what | p50 | p95 | target |",
        "| --- | ---: | ---: | ---: |",
    ]
    for label, values, target in rows:
        mark = "" if target is None or p95(values) <= target else " ✗"
        lines.append(
            f"| {label} | {statistics.median(values):.1f} ms | {p95(values):.1f} ms{mark} | "
            f"{f'{target:.0f} ms' if target else ''} |"
        )
    lines += ["", "The grouped queries and their plans:", ""]
    for sql, ms, plan in plans:
        lines += [f"    {sql}", f"    -- {ms:.1f} ms", *[f"    {step}" for step in plan], ""]
    text = "\n".join(lines) + "\n"
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "complaints-latest.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
