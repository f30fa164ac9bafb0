"""What the bell costs each page: the unread count with 1M notifications for 1,000 users.

    .venv/bin/python bench/notifications_bench.py                      # 1M rows, about 1-2 minutes
    .venv/bin/python bench/notifications_bench.py --rows 100000 --users 100   # a quick check

Builds its own SQLite database under var/bench-notifications/ (migrated, then filled with plain
`executemany` bulk inserts: 1,000 users with 1,000 notifications each, 5% unread, and 10 users with
everything unread to hit the "99+" cap), then times, for random users, the bell's query alone and the
whole `{% notification_bell %}` tag (query + rendering), and prints median / p95 / max in ms with the
query's plan. See bench/README.md for the figures measured here.
"""

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=1_000)
    parser.add_argument("--samples", type=int, default=3_000)
    parser.add_argument("--var", default=str(ROOT / "var" / "bench-notifications"))
    parser.add_argument("--reuse", action="store_true", help="measure the database of the last run again")
    args = parser.parse_args()

    var = Path(args.var)
    var.mkdir(parents=True, exist_ok=True)
    database = var / "kehu.sqlite3"
    if not args.reuse:
        for leftover in var.glob("kehu.sqlite3*"):
            leftover.unlink()
    os.environ["KEHU_VAR_DIR"] = str(var)
    os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from kehu.users.models import User

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    if args.reuse and User.objects.exists():
        measure(args, User.objects.order_by("id"), time.perf_counter() - started)
        return
    User.objects.bulk_create(
        [User(username=f"bench{i:04d}", email=f"bench{i}@example.com", password="!") for i in range(args.users)],
        batch_size=1000,
    )
    user_ids = list(User.objects.order_by("id").values_list("id", flat=True))
    per_user = args.rows // len(user_ids)
    all_unread = set(user_ids[:10])
    base = datetime(2026, 1, 1, tzinfo=UTC)
    rng = random.Random(7)
    sql = (
        "INSERT INTO notifications_notification (recipient_id, kind, actor_id, summary, link, created_at, read_at)"
        " VALUES (?, ?, NULL, ?, ?, ?, ?)"
    )
    batch: list[tuple] = []
    with connection.cursor() as cursor:
        # Interleaved by time, as real notifications arrive: user by user would flatter the index.
        for n in range(per_user):
            at = base + timedelta(seconds=n * 60)
            for uid in user_ids:
                unread = uid in all_unread or rng.random() < 0.05
                read_at = None if unread else (at + timedelta(hours=1)).isoformat()
                batch.append(
                    (uid, "bench_kind", f"Customer {n} returns to the pool", "/customers/1/", at.isoformat(), read_at)
                )
                if len(batch) >= 50_000:
                    cursor.executemany(sql, batch)
                    batch.clear()
        if batch:
            cursor.executemany(sql, batch)
        cursor.execute("ANALYZE")
    print(
        f"loaded {per_user * len(user_ids):,} notifications for {len(user_ids):,} users in {time.perf_counter() - started:.0f} s ({database})"
    )

    measure(args, User.objects.filter(pk__in=user_ids), time.perf_counter() - started)


def measure(args, users_qs, loaded: float) -> None:
    from django.db import connection
    from django.template import Context, Template
    from django.test.utils import CaptureQueriesContext

    from kehu.notifications.models import Notification
    from kehu.notifications.selectors import unread_count

    rng = random.Random(11)
    users = list(users_qs)
    total = Notification.objects.count()
    bell = Template("{% load notifications %}{% notification_bell %}")
    with CaptureQueriesContext(connection) as queries:
        unread_count(users[0])
    query = queries.captured_queries[0]["sql"]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + query)
        plan = "; ".join(str(row[-1]) for row in cursor.fetchall())

    def timed(function) -> tuple[list[float], list[float]]:
        """Wall-clock and CPU milliseconds per call (the CPU time leaves out waiting for a busy machine)."""
        for user in users:  # warm-up: the page cache, as on a running server
            function(user)
        wall, cpu = [], []
        for _ in range(args.samples):
            user = rng.choice(users)
            t0, c0 = time.perf_counter(), time.thread_time()
            function(user)
            wall.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.thread_time() - c0) * 1000)
        return wall, cpu

    def report(name: str, values: list[float]) -> str:
        values = sorted(values)
        p95 = values[int(len(values) * 0.95) - 1]
        return f"| {name} | {statistics.median(values):.3f} | {p95:.3f} | {values[-1]:.3f} |"

    count_wall, count_cpu = timed(unread_count)
    tag_wall, tag_cpu = timed(lambda user: bell.render(Context({"user": user})))
    capped = {unread_count(u) for u in users if u.username < "bench0010"}
    print(f"\nquery: {query}\nplan:  {plan}\nusers with everything unread count {capped} (shown as 99+)\n")
    print(f"{total:,} notifications, {len(users):,} users, {args.samples:,} random users per row (ms)\n")
    print("| what | median | p95 | max |\n| --- | --- | --- | --- |")
    print(report("unread count (the query), wall clock", count_wall))
    print(report("unread count (the query), CPU", count_cpu))
    print(report("bell tag (query + rendering), wall clock", tag_wall))
    print(report("bell tag (query + rendering), CPU", tag_cpu))


if __name__ == "__main__":
    main()
