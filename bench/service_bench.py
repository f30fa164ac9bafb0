"""After-sales measurements on the data of bench/service_data.py (1M tickets, 50,000 open).

    .venv/bin/python bench/service_bench.py                  # all cases, 100 timed runs each
    .venv/bin/python bench/service_bench.py --samples 30 --only queue
    .venv/bin/python bench/service_bench.py --db var/bench-service/service-20000.sqlite3

Pages are timed through Django's test client (URL resolution, middleware, the view, the template:
what a person waits for, without HTTP), p95 of wall clock and CPU time as in bench/money_bench.py:

- the service queue (`GET /service/tickets/`, open tickets, breached first, then by resolution due)
  for the service manager (every open ticket), a customer representative ("mine") and an engineer;
  the breached filter; the closed tickets of the whole company;
- the SLA scan (`services.sla_scan`, the 5-minute task) over every open ticket, twice: on a fresh
  load the first computes every clock and records the breaches and warnings it finds (events,
  notifications); after that every run is the steady state (the figures are already right: nothing
  is written). Each run is timed once, wall clock and CPU.

For a case above its target the queries of one run are printed, slowest first, with their plans.
Writes bench/results/service-latest.md.
"""

import argparse
import json
import platform
import re
import statistics
import time
from datetime import datetime
from pathlib import Path

from money_bench import as_sql, explain, p95, queries_of, timed

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
TARGETS = {"queue": 25.0, "scan": 10_000.0}


def setup_django(db: Path):
    import service_data

    service_data.VAR = db.parent
    service_data.setup_django(db)
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["*"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def page(username: str, url: str):
    from django.test import Client

    from kehu.users.models import User

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(username=username))
    first = client.get(url)
    assert first.status_code == 200, (url, first.status_code)
    shown = len(re.findall(r'href="/service/tickets/\d+/" class="fw-bold"', first.content.decode()))

    def run():
        return client.get(url)

    return run, shown


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, default=ROOT / "var" / "bench-service" / "service-1000000.sqlite3")
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    marker = args.db.with_suffix(".json")
    if not args.db.exists() or not marker.exists():
        raise SystemExit(f"{args.db} is not loaded: run bench/service_data.py first")
    setup_django(args.db)
    from django.core.management import call_command
    from django.db import connection

    from kehu.support import services
    from kehu.support.models import OPEN_STATES, Ticket

    call_command("migrate", verbosity=0)
    loaded = json.loads(marker.read_text(encoding="utf-8"))
    rep = "svc01"
    engineer = "eng01"
    mine = Ticket.objects.filter(owner__username=rep, state__in=OPEN_STATES).count()
    engineers = Ticket.objects.filter(engineer__username=engineer, state__in=OPEN_STATES).count()
    open_count = Ticket.objects.filter(state__in=OPEN_STATES).count()
    rows, details = [], []

    if "scan" in args.only or not args.only:
        # The first run of a fresh load computes every clock and records the breaches it finds; every
        # later run (and both on a database scanned before) is the steady state of the 5-minute task.
        for run in (1, 2):
            t, c = time.perf_counter(), time.process_time()
            counts = services.sla_scan()
            ms, cpu = (time.perf_counter() - t) * 1000, (time.process_time() - c) * 1000
            rows.append((f"SLA scan, run {run}: {counts['scanned']:,} open tickets, {counts['breached']:,} breached, "
                         f"{counts['warned']:,} warned", [ms], [cpu], TARGETS["scan"]))  # fmt: skip
            print(f"{rows[-1][0]}: {ms / 1000:.1f} s (CPU {cpu / 1000:.1f} s)", flush=True)

    queue = "/service/tickets/"
    cases = [
        ("queue_manager", f"Service queue, service manager (all {open_count:,} open)", "service1", queue),
        ("queue_breached", "Service queue, breached only, service manager", "service1", queue + "?sla=breached"),
        ("queue_rep", f"Service queue, a representative's own ({mine} open)", rep, queue + "?mine=1"),
        ("queue_engineer", f"Service queue, an engineer's ({engineers} open)", engineer, queue),
        ("queue_closed", "Closed tickets, service manager (newest 25 of all)", "service1", queue + "?state=closed"),
    ]
    for key, label, user, url in cases:
        if args.only and args.only not in key:
            continue
        function, shown = page(user, url)
        values, cpu = timed(function, args.samples, args.warmup)
        rows.append((f"{label} — {shown} rows shown", values, cpu, TARGETS["queue"]))
        print(f"{label}: p50 {statistics.median(values):.1f} ms, p95 {p95(values):.1f} ms, CPU p95 {p95(cpu):.1f}")
        if min(p95(values), p95(cpu)) > TARGETS["queue"]:
            details.append(f"### {label}\n")
            for q in sorted(queries_of(function), key=lambda q: -q["ms"])[:4]:
                details.append(f"- {q['ms']:.2f} ms: `{q['sql'][:500]}`")
                plan = explain(as_sql(q))
                if plan:
                    details.append("\n```\n" + plan + "\n```")

    lines = [
        f"Service benchmark, {datetime.now():%Y-%m-%d %H:%M}, {platform.machine()}, "
        f"Python {platform.python_version()}, {connection.vendor}",
        "",
        "Data (bench/service_data.py): " + ", ".join(f"{v:,} {k}" for k, v in loaded["counts"].items()),
        "",
        "| case | p50 ms | p95 ms | CPU p95 ms | target ms |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for label, values, cpu, target in rows:
        lines.append(
            f"| {label} | {statistics.median(values):.1f} | {p95(values):.1f} | {p95(cpu):.1f} | ≤ {target:g} |"
        )
    text = "\n".join(lines + [""] + details) + "\n"
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "service-latest.md").write_text(text, encoding="utf-8")
    print()
    print(text)


if __name__ == "__main__":
    main()
