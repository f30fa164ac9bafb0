"""After-sales benchmark data: 1,000,000 service tickets (50,000 open) with their state histories on
top of a copy of the 1M-customer database.

    .venv/bin/python bench/service_data.py                  # the issue's sizes (copies, migrates, loads once)
    .venv/bin/python bench/service_data.py --fresh          # throw the copy away and build again
    .venv/bin/python bench/service_data.py --tickets 50000 --open 5000 --source var/bench/customers-20000.sqlite3

The source database (`var/bench/customers-1000000.sqlite3`, made by `bench/run.py`) is copied to
`var/bench-service/service-<N>.sqlite3` and never touched; the copy is migrated and loaded with
batched `executemany` (`bench/money_data.py`'s `Table`). What it holds:

- 20 customer representatives and 40 engineers in the service department (svc01…, eng01…), beside
  the demo company's service manager `service1`; six categories, a policy per priority and some
  per category.
- Tickets over three years on random customers, each with its history as the services write it
  (new → assigned → in progress → resolved → closed, some cancelled, some paused on the way).
  The open ones (new, assigned, in progress, waiting for the customer or for parts) were opened in
  the last 30 days; their SLA figures are left for the scan to compute, which the benchmark times
  (`bench/service_bench.py`).
`service-<N>.json` beside the database says the load is complete.
"""

import argparse
import json
import random
import shutil
import sqlite3
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from money_data import Numbers, Table, raw

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench-service"
OPEN_MIX = (("new", 10), ("assigned", 20), ("in_progress", 40), ("waiting_customer", 15), ("waiting_parts", 15))
CATEGORIES = ("维修", "安装调试", "咨询", "保养", "配件", "软件")


def setup_django(db: Path):
    import os

    os.environ["KEHU_VAR_DIR"] = str(VAR)
    os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    os.environ["KEHU_DEBUG"] = "0"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def paths(customers: int) -> tuple[Path, Path]:
    return VAR / f"service-{customers}.sqlite3", VAR / f"service-{customers}.json"


def people():
    """The service team: service1 (from the demo company), 20 representatives, 40 engineers."""
    from kehu.users.models import Department, User
    from kehu.users.roles import Role

    manager = User.objects.get(username="service1")
    department = manager.department or Department.objects.get(name="客户服务部")
    reps, engineers = [], []
    for prefix, role, count, into in (
        ("svc", Role.CUSTOMER_REP, 20, reps),
        ("eng", Role.SERVICE_ENGINEER, 40, engineers),
    ):
        for i in range(1, count + 1):
            user, created = User.objects.get_or_create(
                username=f"{prefix}{i:02d}",
                defaults={"role": role, "department": department, "email": f"{prefix}{i:02d}@bench.example"},
            )
            if created:
                user.set_password("kehu-demo")
                user.save(update_fields=["password"])
            into.append(user.pk)
    return manager.pk, reps, engineers


def load(args) -> dict:
    from django.db import connection

    from kehu.customers.models import Customer
    from kehu.support.models import SlaPolicy, Ticket, TicketCategory, TicketStateChange

    rnd = random.Random(13)
    counts: dict[str, int] = {}
    t0 = time.perf_counter()
    manager, reps, engineers = people()
    categories = [TicketCategory.objects.get_or_create(name=name)[0].pk for name in CATEGORIES]
    minutes = {"low": (480, 4800), "normal": (240, 2400), "high": (120, 960), "urgent": (30, 480)}
    for priority, (first, resolve) in minutes.items():
        SlaPolicy.objects.get_or_create(
            category=None, priority=priority, defaults={"first_response_minutes": first, "resolution_minutes": resolve}
        )
    for category in categories[:3]:
        SlaPolicy.objects.get_or_create(
            category_id=category, priority="high", defaults={"first_response_minutes": 60, "resolution_minutes": 480}
        )
    policy_of = {(p.category_id, p.priority): p.pk for p in SlaPolicy.objects.all()}
    db = raw()
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-800000")
    top = db.execute(f"SELECT MAX(id) FROM {Customer._meta.db_table}").fetchone()[0]
    adapt = connection.ops.adapt_datetimefield_value
    now = datetime.now(UTC).replace(microsecond=0)

    tickets = Table(
        Ticket,
        [
            "id", "number", "customer_id", "category_id", "priority", "channel", "subject", "state",
            "owner_id", "engineer_id", "policy_id", "first_responded_at", "resolved_at", "created_at", "updated_at",
        ],
    )  # fmt: skip
    changes = Table(TicketStateChange, ["ticket_id", "from_state", "to_state", "at", "actor_id", "note"])
    numbers = Numbers("TK")
    first_id = (db.execute(f"SELECT MAX(id) FROM {Ticket._meta.db_table}").fetchone()[0] or 0) + 1
    open_states = [state for state, weight in OPEN_MIX for _ in range(weight)]
    priorities = ["low", "normal", "normal", "normal", "high", "urgent"]
    closed_count = args.tickets - args.open
    # The closed ones first (oldest), then the open ones (last 30 days): ids follow time as in life.
    opened_at = sorted(now - timedelta(seconds=rnd.randrange(31 * 86400, 3 * 365 * 86400)) for _ in range(closed_count))
    opened_at += sorted(now - timedelta(seconds=rnd.randrange(600, 30 * 86400)) for _ in range(args.open))
    db.execute("BEGIN")
    for offset, opened in enumerate(opened_at):
        pk = first_id + offset
        is_open = offset >= closed_count
        state = rnd.choice(open_states) if is_open else ("cancelled" if rnd.random() < 0.04 else "closed")
        owner = rnd.choice(reps)
        category, priority = rnd.choice(categories), rnd.choice(priorities)
        policy = policy_of.get((category, priority)) or policy_of[(None, priority)]
        engineer = rnd.choice(engineers) if state not in ("new",) and rnd.random() < 0.7 else None
        path = {
            "new": ["new"],
            "assigned": ["new", "assigned"],
            "in_progress": ["new", "assigned", "in_progress"],
            "waiting_customer": ["new", "assigned", "in_progress", "waiting_customer"],
            "waiting_parts": ["new", "assigned", "in_progress", "waiting_parts"],
            "cancelled": ["new", "cancelled"],
            "closed": ["new", "assigned", "in_progress", "resolved", "closed"],
        }[state]
        if state == "closed" and rnd.random() < 0.2:
            path = ["new", "assigned", "in_progress", "waiting_parts", "in_progress", "resolved", "closed"]
        moments, at = [], opened
        span = (now - opened).total_seconds() if is_open else 10 * 86400
        for _step in path:
            moments.append(at)
            at = at + timedelta(seconds=rnd.randrange(60, max(120, int(span / len(path)))))
        responded = next((m for s, m in zip(path, moments, strict=True) if s in ("in_progress", "resolved")), None)
        resolved = next((m for s, m in zip(path, moments, strict=True) if s == "resolved"), None)
        tickets.add(
            (
                pk, numbers(opened.year), rnd.randrange(1, top + 1), category, priority,
                "phone", f"设备故障 {pk}", state, owner, engineer, policy,
                adapt(responded) if responded else None, adapt(resolved) if resolved else None,
                adapt(opened), adapt(moments[-1]),
            )
        )  # fmt: skip
        previous = ""
        for step, moment in zip(path, moments, strict=True):
            changes.add((pk, previous, step, adapt(moment), owner, ""))
            previous = step
        if offset % 200_000 == 199_999:
            tickets.flush()
            changes.flush()
            db.execute("COMMIT")
            db.execute("BEGIN")
            print(f"  {offset + 1:,} tickets", flush=True)
    counts["tickets"] = tickets.close()
    counts["open tickets"] = args.open
    counts["state changes"] = changes.close()
    db.execute("COMMIT")
    t = time.perf_counter()
    db.execute("ANALYZE")
    return {
        "counts": counts,
        "timings": {"load": round(t - t0, 1), "analyze": round(time.perf_counter() - t, 1)},
        "people": {"manager": "service1", "reps": len(reps), "engineers": len(engineers)},
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, default=ROOT / "var" / "bench" / "customers-1000000.sqlite3")
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--open", type=int, default=50_000)
    parser.add_argument("--fresh", action="store_true", help="copy the source again and reload")
    args = parser.parse_args()
    if not args.source.exists():
        raise SystemExit(f"{args.source} does not exist: build it with bench/run.py first")
    customers = (
        sqlite3.connect(f"file:{args.source}?mode=ro", uri=True)
        .execute("SELECT COUNT(*) FROM customers_customer")
        .fetchone()[0]
    )
    VAR.mkdir(parents=True, exist_ok=True)
    db, marker = paths(customers)
    if args.fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        marker.unlink(missing_ok=True)
    if not db.exists():
        need = args.source.stat().st_size * 1.3
        free = shutil.disk_usage(VAR).free
        if free < need:
            raise SystemExit(f"not enough disk: {free / 2**30:.1f} GiB free, {need / 2**30:.1f} GiB needed")
        print(f"copying {args.source} → {db}", flush=True)
        part = Path(f"{db}.part")
        shutil.copyfile(args.source, part)
        part.rename(db)
    secret = args.source.parent / "secret_key"
    if secret.exists() and not (VAR / "secret_key").exists():
        shutil.copyfile(secret, VAR / "secret_key")
    setup_django(db)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if marker.exists():
        print(f"{db} is loaded already ({marker.read_text(encoding='utf-8').strip()}); --fresh rebuilds it")
        return
    from kehu.support.models import Ticket

    if Ticket.objects.exists():
        raise SystemExit(f"{db} holds tickets but no {marker.name}: a load was cut short; use --fresh")
    print(f"loading into {db}", flush=True)
    loaded = load(args)
    loaded["built"] = datetime.now().isoformat(timespec="seconds")
    marker.write_text(json.dumps(loaded, ensure_ascii=False), encoding="utf-8")
    for name, value in loaded["counts"].items():
        print(f"| {name} | {value:,} |")
    print(f"loaded in {loaded['timings']['load']:.0f} s; {db}")


if __name__ == "__main__":
    main()
