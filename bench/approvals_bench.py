"""Approvals benchmark (ACC-6): the "待我审批" inbox and the menu's count with 100,000 pending
requests spread over 500 approvers.

    .venv/bin/python bench/approvals_bench.py                      # 100,000 requests, 500 approvers
    .venv/bin/python bench/approvals_bench.py --requests 20000     # quicker

Builds a fresh SQLite database under var/bench-approvals/ (the laptop database is untouched),
bulk-inserts the requests, one pending task each (and as many decided tasks of earlier steps, so
the index has history to skip), then, through Django's test client in this process (the views,
templates and middleware as served, without HTTP), times `GET /approvals/` for one approver (every
page render also runs the menu's count) and the count query alone. Prints a Markdown table and
writes it to bench/results/approvals-latest.md.
"""

import argparse
import os
import platform
import shutil
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench-approvals"
RESULTS = ROOT / "bench" / "results"
TARGET_P95_MS = 20.0
BATCH = 5000


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
    # No collectstatic for an in-process run: plain static URLs (the page's cost is the same).
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def load(requests: int, approvers: int) -> dict:
    from django.db import connection
    from django.utils import timezone

    from kehu.approvals import services
    from kehu.approvals.models import ApprovalRequest, ApproverTask
    from kehu.users.models import User
    from kehu.users.roles import Role

    started = time.perf_counter()
    admin = User.objects.create_user("admin", password="kehu-bench", role=Role.ADMINISTRATOR, is_superuser=True)
    User.objects.bulk_create(
        [User(username=f"approver{i}", role=Role.SALES_MANAGER, password="!") for i in range(approvers)]
    )
    User.objects.bulk_create([User(username=f"rep{i}", role=Role.ACCOUNT_MANAGER, password="!") for i in range(50)])
    people = list(User.objects.filter(username__startswith="approver").order_by("pk").values_list("pk", flat=True))
    reps = list(User.objects.filter(username__startswith="rep").order_by("pk").values_list("pk", flat=True))
    version = services.flow_get("customer.credit").current
    assert admin.pk
    now = timezone.now()
    for start in range(0, requests, BATCH):
        rows = [
            ApprovalRequest(
                document_type="customer.credit",
                object_id=n + 1,
                customer_id=n + 1,
                title=f"信用额度：客户{n + 1:06d}有限公司",
                requester_id=reps[n % len(reps)],
                flow_version=version,
                step=1,
                facts={"amount": str(50000 + n), "tier": "ordinary", "customer_kind": "company"},
                proposal={"rating": "A", "limit": str(50000 + n)},
                created_at=now - timedelta(minutes=requests - n),
            )
            for n in range(start, min(start + BATCH, requests))
        ]
        made = ApprovalRequest.objects.bulk_create(rows)
        tasks = []
        for r in made:
            n = r.object_id - 1
            # a decided first step and the pending second one, each with another approver
            tasks.append(
                ApproverTask(
                    request=r,
                    step=0,
                    approver_id=people[(n + 7) % len(people)],
                    state="approved",
                    created_at=r.created_at,
                    acted_at=r.created_at,
                )
            )
            tasks.append(
                ApproverTask(
                    request=r,
                    step=1,
                    approver_id=people[n % len(people)],
                    state="pending",
                    created_at=r.created_at,
                    due_at=r.created_at + timedelta(hours=24),
                )
            )
        ApproverTask.objects.bulk_create(tasks)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"seconds": time.perf_counter() - started, "approver": people[0]}


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
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--approvers", type=int, default=500)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args()

    shutil.rmtree(VAR, ignore_errors=True)
    VAR.mkdir(parents=True)
    setup_django(VAR / "approvals.sqlite3")
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from kehu.approvals import selectors
    from kehu.users.models import User

    call_command("migrate", verbosity=0)
    loaded = load(args.requests, args.approvers)
    user = User.objects.get(pk=loaded["approver"])
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    assert client.get("/approvals/").status_code == 200

    page = timed(lambda: client.get("/approvals/"), args.samples, args.warmup)
    ping = timed(lambda: client.get("/accounts/ping/"), args.samples, args.warmup)
    mine_count = selectors.inbox_count(user)
    count = timed(lambda: selectors.inbox_count(user), args.samples * 5, args.warmup)
    detail_id = selectors.inbox(user).first().request_id
    detail = timed(lambda: client.get(f"/approvals/{detail_id}/"), args.samples, args.warmup)
    with CaptureQueriesContext(connection) as captured:
        client.get("/approvals/")
    count_sql, count_params = selectors.inbox_count_sql(user)
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {count_sql}", count_params)
        plan = [row[-1] for row in cursor.fetchall()]

    rows = [
        ("inbox page `GET /approvals/` (25 of the approver's tasks, with the menu)", page, TARGET_P95_MS),
        ("request page `GET /approvals/<id>/`", detail, None),
        ("trivial page `GET /accounts/ping/` (the stack's floor)", ping, None),
        (f"menu count alone (`inbox_count`, {mine_count} pending)", count, None),
    ]
    lines = [
        f"Approvals benchmark, {datetime.now():%Y-%m-%d %H:%M}, {platform.machine()}, Python {platform.python_version()}",
        "",
        f"{args.requests:,} pending requests over {args.approvers} approvers "
        f"({args.requests * 2:,} approver tasks), loaded in {loaded['seconds']:.1f} s; "
        f"{args.samples} timed requests after {args.warmup} warm-up, through Django's test client.",
        "",
        "| what | p50 | p95 | target |",
        "| --- | ---: | ---: | ---: |",
    ]
    for label, values, target in rows:
        mark = "" if target is None or p95(values) <= target else " ✗"
        lines.append(
            f"| {label} | {statistics.median(values):.2f} ms | {p95(values):.2f} ms{mark} | "
            f"{f'{target:.0f} ms' if target else ''} |"
        )
    lines += [
        "",
        f"The inbox page ran {len(captured.captured_queries)} queries "
        f"({sum(float(q['time']) for q in captured.captured_queries) * 1000:.2f} ms of SQL).",
        "",
        "Count query (`kehu.approvals.selectors.inbox_count_sql`):",
        "",
        f"    {count_sql}",
        f"    -- {[str(p) for p in count_params]}",
        "",
        "Plan:",
        "",
        *[f"    {step}" for step in plan],
    ]
    report = "\n".join(lines) + "\n"
    print(report)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "approvals-latest.md").write_text(report, encoding="utf-8")


if __name__ == "__main__":
    main()
