"""Money-chain measurements on the data of bench/money_data.py (the issue's figures).

    .venv/bin/python bench/money_bench.py                     # all cases, 100 timed runs each
    .venv/bin/python bench/money_bench.py --samples 30 --only ageing
    .venv/bin/python bench/money_bench.py --ranking           # also the ABC ranking over every customer

Times, in this process (selectors directly, pages through Django's test client — views, templates
and middleware as served, without HTTP): the cases of `bench/receivables_reports_bench.py` (ageing
report for the whole company and a manager's scope, customer statement, …) and
`bench/dealerplans_bench.py` (the dealer plan-vs-actual page, …), each a module with
`cases(ctx) -> [(key, label, function, target ms)]` (see bench/README.md),
plus its own: the credit check on an order (the CREDIT_CHECK lookup) and the bare SQL floors the
reports stand on (sums of the aggregates). For every case above its target it prints the queries
one run sent, slowest first, with their EXPLAIN QUERY PLAN. Writes bench/results/money-latest.md.
"""

import argparse
import importlib.util
import json
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench-money"
RESULTS = ROOT / "bench" / "results"
# The targets (p95, ms).
TARGETS = {
    "ageing_company": 200.0,
    "ageing_manager": 100.0,
    "statement": 50.0,
    "dealer_plan": 50.0,
    "credit_check": 5.0,
}
MODULES = ("receivables_reports_bench", "dealerplans_bench")


def setup_django(db: Path):
    os.environ["KEHU_VAR_DIR"] = str(db.parent)
    os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    os.environ["KEHU_DEBUG"] = "0"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["*"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@dataclass
class Context:
    """What a timing function may use (see the module docstring); every row is found at run time."""

    db: Path
    today: date
    month: date
    heavy_customer: object = None
    typical_customer: object = None
    dealer: object = None
    dealer_plan: object = None
    lower_plan: object = None
    _users: dict = field(default_factory=dict)
    _clients: dict = field(default_factory=dict)

    def user(self, name: str):
        from kehu.users.models import User

        if name not in self._users:
            self._users[name] = User.objects.get(username=name)
        return self._users[name]

    def client(self, name: str):
        from django.test import Client

        if name not in self._clients:
            client = Client(HTTP_HOST="127.0.0.1")
            client.force_login(self.user(name))
            self._clients[name] = client
        return self._clients[name]


def context(db: Path | None = None) -> Context:
    """The context on the database Django is set up with (after `setup_django`)."""
    from django.db import connection
    from django.db.models import Count
    from django.utils import timezone

    from kehu.customers.models import Customer
    from kehu.dealerplans.models import DealerPlan
    from kehu.users.models import Department, User
    from kehu.users.roles import Role

    if not User.objects.filter(username="finance1").exists():
        top = Department.objects.filter(parent__isnull=True).order_by("pk").first()
        User.objects.create_user("finance1", password="kehu-demo", role=Role.FINANCE, department=top)
    marker = None
    if db is not None:
        marker = db.with_suffix(".json")
    loaded_on = None
    if marker and marker.exists():
        built = json.loads(marker.read_text(encoding="utf-8")).get("built", "")
        loaded_on = date.fromisoformat(built[:10]) if built else None
    today = timezone.localdate()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT customer_id FROM receivables_paymentplan GROUP BY customer_id ORDER BY COUNT(*) DESC LIMIT 1"
        )
        heavy = cursor.fetchone()[0]
        cursor.execute(
            "SELECT customer_id FROM receivables_paymentplan GROUP BY customer_id HAVING COUNT(*) BETWEEN 4 AND 8"
            " ORDER BY customer_id LIMIT 1"
        )
        typical = cursor.fetchone()[0]
    month = today.replace(day=1)
    plan = (
        DealerPlan.objects.filter(month__lte=month, upper__isnull=True, deleted_at__isnull=True)
        .annotate(n=Count("lines"))
        .order_by("-month", "-n", "pk")
        .first()
    )
    lower = (
        DealerPlan.objects.filter(month__lte=month, upper__isnull=False, deleted_at__isnull=True)
        .order_by("-month", "pk")
        .first()
    )
    return Context(
        db=db,
        today=loaded_on or today,
        month=month,
        heavy_customer=Customer.objects.get(pk=heavy),
        typical_customer=Customer.objects.get(pk=typical),
        dealer=plan.customer if plan else None,
        dealer_plan=plan,
        lower_plan=lower,
    )


# --- our own cases -----------------------------------------------------------------------------


def own_cases(ctx: Context) -> list[tuple]:
    from django.db import connection

    from kehu.core import lookups

    cases = []
    if lookups.answered(lookups.CREDIT_CHECK):
        customer_id = ctx.heavy_customer.pk
        cases.append(
            (
                "credit_check",
                "credit check on an order (CREDIT_CHECK lookup, stage order, the heaviest customer)",
                lambda: lookups.ask_call(lookups.CREDIT_CHECK, customer_id, Decimal("10000.00"), "order"),
                TARGETS["credit_check"],
            )
        )
        typical_id = ctx.typical_customer.pk
        cases.append(
            (
                "credit_check_typical",
                "credit check on an order (a customer with a few plans)",
                lambda: lookups.ask_call(lookups.CREDIT_CHECK, typical_id, Decimal("10000.00"), "order"),
                TARGETS["credit_check"],
            )
        )
    today = ctx.today.isoformat()

    def sql(statement: str, params=()):
        def run():
            with connection.cursor() as cursor:
                cursor.execute(statement, params)
                return cursor.fetchall()

        return run

    buckets = (
        "SELECT owner_id, SUM(CASE WHEN due_on >= %s THEN outstanding ELSE 0 END),"
        " SUM(CASE WHEN due_on < %s AND due_on >= date(%s, '-30 day') THEN outstanding ELSE 0 END),"
        " SUM(CASE WHEN due_on < date(%s, '-30 day') AND due_on >= date(%s, '-60 day') THEN outstanding ELSE 0 END),"
        " SUM(CASE WHEN due_on < date(%s, '-60 day') AND due_on >= date(%s, '-90 day') THEN outstanding ELSE 0 END),"
        " SUM(CASE WHEN due_on < date(%s, '-90 day') AND due_on >= date(%s, '-180 day') THEN outstanding ELSE 0 END),"
        " SUM(CASE WHEN due_on < date(%s, '-180 day') THEN outstanding ELSE 0 END)"
        " FROM receivables_dueday {where} GROUP BY owner_id"
    )
    params = [today] * 10
    cases.append(
        (
            "floor_buckets_company",
            "floor: bare SQL, the company's buckets per rep from DueDay",
            sql(buckets.format(where=""), params),
            None,
        )
    )
    manager = ctx.user("manager1")
    owners = list(
        type(manager).objects.filter(department__path__startswith=manager.department.path).values_list("pk", flat=True)
    )
    marks = ", ".join(["%s"] * len(owners))
    cases.append(
        (
            "floor_buckets_manager",
            f"floor: bare SQL, manager1's buckets per rep from DueDay ({len(owners)} people)",
            sql(buckets.format(where=f"WHERE owner_id IN ({marks})"), params + owners),
            None,
        )
    )
    cases.append(
        (
            "floor_top_owed",
            "floor: bare SQL, the company's 25 customers owing most (CustomerBalance)",
            sql(
                "SELECT customer_id, owed, overdue, not_due, not_invoiced FROM receivables_customerbalance"
                " ORDER BY owed DESC LIMIT 25"
            ),
            None,
        )
    )
    return cases


def module_cases(ctx: Context) -> tuple[list[tuple], list[str]]:
    cases, notes = [], []
    for name in MODULES:
        path = ROOT / "bench" / f"{name}.py"
        if not path.exists():
            notes.append(f"bench/{name}.py is not on this branch: its cases were not measured")
            continue
        spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for case in module.cases(ctx):
            key, label, function, target = case
            cases.append((key, label, function, target if target is not None else TARGETS.get(key)))
    return cases, notes


# --- timing ------------------------------------------------------------------------------------


def timed(function, n: int, warmup: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU times (ms) of `n` runs after `warmup`. On a shared machine the CPU time is
    what the function costs; the wall clock adds the waits for a core."""
    for _ in range(warmup):
        function()
    wall, cpu = [], []
    for _ in range(n):
        t, c = time.perf_counter(), time.process_time()
        function()
        cpu.append((time.process_time() - c) * 1000)
        wall.append((time.perf_counter() - t) * 1000)
    return wall, cpu


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18] if len(values) > 1 else values[0]


def queries_of(function) -> list[dict]:
    """The statements one run sends, with their own time (ms, perf_counter around each)."""
    from django.db import connection

    captured = []

    def wrapper(execute, sql, params, many, context):
        t = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            captured.append({"sql": sql, "params": params, "ms": (time.perf_counter() - t) * 1000})

    with connection.execute_wrapper(wrapper):
        function()
    return captured


def as_sql(query: dict) -> str:
    """The statement with its parameters inlined (for EXPLAIN)."""
    from django.db import connection

    sql, params = query["sql"], query["params"]
    if not params:
        return sql
    with connection.cursor() as cursor:
        try:
            return connection.ops.last_executed_query(cursor, sql, params)
        except Exception:
            return sql


def explain(sql: str) -> str:
    from django.db import connection

    if connection.vendor != "sqlite" or not sql.lstrip().upper().startswith(("SELECT", "WITH")):
        return ""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql)
        return "\n".join(f"    {row[-1]}" for row in cursor.fetchall())


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, default=VAR / "money-1000000.sqlite3")
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--only", default="", help="only the cases whose key contains this")
    parser.add_argument("--ranking", action="store_true", help="also time the ABC ranking over every customer")
    parser.add_argument("--no-migrate", action="store_true")
    args = parser.parse_args()
    marker = args.db.with_suffix(".json")
    if not args.db.exists() or not marker.exists():
        raise SystemExit(f"{args.db} is not loaded: run bench/money_data.py first")
    setup_django(args.db)
    from django.core.management import call_command
    from django.db import connection

    if not args.no_migrate:
        call_command("migrate", verbosity=0)
    ctx = context(args.db)
    more, notes = module_cases(ctx)
    theirs = {case[0] for case in more}  # the owners' own cases win over ours of the same key
    cases = [c for c in more + [c for c in own_cases(ctx) if c[0] not in theirs] if args.only in c[0]]
    loaded = json.loads(marker.read_text(encoding="utf-8"))
    counts = loaded.get("counts", {})

    rows, details = [], []
    for key, label, function, target in cases:
        values, cpu = timed(function, args.samples, args.warmup)
        queries = queries_of(function)
        sql_ms = sum(q["ms"] for q in queries)
        rows.append((key, label, values, cpu, target, len(queries), sql_ms))
        print(f"{label}: p50 {statistics.median(values):.1f} ms, p95 {p95(values):.1f} ms, CPU p95 {p95(cpu):.1f}")
        if target is not None and min(p95(values), p95(cpu)) > target:
            details.append(f"### {label} (p95 {p95(values):.1f} ms, CPU {p95(cpu):.1f} ms > {target:g} ms)\n")
            for q in sorted(queries, key=lambda q: -q["ms"])[:5]:
                details.append(f"- {q['ms']:.2f} ms: `{q['sql'][:400]}`")
                plan = explain(as_sql(q))
                if plan:
                    details.append("\n```\n" + plan + "\n```")
            details.append("")

    ranking = None
    if args.ranking:
        from kehu.classification import selectors
        from kehu.classification.models import ClassificationSettings

        t = time.perf_counter()
        proposals, cuts, total = selectors.tier_proposals(ctx.today.year, ClassificationSettings.load())
        proposed = sum(1 for _row in proposals)
        ranking = (time.perf_counter() - t, cuts.ranked, proposed, total)

    lines = [
        f"Money-chain benchmark, {datetime.now():%Y-%m-%d %H:%M}, {platform.machine()}, "
        f"Python {platform.python_version()}, {connection.vendor}",
        "",
        "Data (bench/money_data.py): "
        + ", ".join(f"{v:,} {k}" for k, v in counts.items() if k in ("orders", "order lines", "payment plans"))
        + ", "
        + ", ".join(f"{v:,} {k}" for k, v in counts.items() if k in ("payments", "invoices", "dealer plans"))
        + f"; loaded {loaded.get('built', '?')}. Heaviest customer {ctx.heavy_customer.pk}"
        + f", dealer plan {getattr(ctx.dealer_plan, 'pk', None)}."
        + f" {args.samples} timed runs after {args.warmup} warm-up, in this process.",
        "",
        "| what | p50 | p95 | p95 CPU | target | queries | their SQL |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for _key, label, values, cpu, target, n_queries, sql_ms in rows:
        mark = "" if target is None or p95(values) <= target else " ✗"
        cpu_mark = "" if target is None or p95(cpu) <= target else " ✗"
        goal = f"{target:g} ms" if target is not None else ""
        lines.append(
            f"| {label} | {statistics.median(values):.2f} ms | {p95(values):.2f} ms{mark} | {p95(cpu):.2f} ms{cpu_mark} "
            f"| {goal} | {n_queries} | {sql_ms:.2f} ms |"
        )
    if ranking:
        seconds, ranked, proposed, total = ranking
        lines += [
            "",
            f"ABC ranking ({ctx.today.year}, revenue from orders): {ranked:,} customers ranked, "
            f"{proposed:,} proposals, total revenue ¥{total:,.2f}, in {seconds:.1f} s.",
        ]
    lines += [""] + [f"- {note}" for note in notes]
    if details:
        lines += ["", "## Above target: the queries of one run, slowest first", ""] + details
    report = "\n".join(lines) + "\n"
    print()
    print(report)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "money-latest.md").write_text(report, encoding="utf-8")


if __name__ == "__main__":
    main()
