"""Quotes benchmark (SAL-3/SAL-4): 20,000 products × 3 specifications, 200 price lists,
500,000 quotes with 5 million lines.

    .venv/bin/python bench/quotes_bench.py                       # the issue's sizes (builds once, ~10 min)
    .venv/bin/python bench/quotes_bench.py --quotes 20000        # quicker
    .venv/bin/python bench/quotes_bench.py --fresh               # rebuild the database

Builds (once per size) a SQLite database under var/bench-quotes/ with raw inserts, then measures
in this process: resolving the prices of a 300-line quote (`kehu.catalog.pricing.prices_resolve`),
and through Django's test client (views, templates and middleware as served, without HTTP) the
quote list as a sales manager and as a rep, a 300-line quote's page, and its PDF. Prints a
Markdown table and writes it to bench/results/quotes-latest.md.
"""

import argparse
import os
import platform
import random
import statistics
import sys
import time
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench-quotes"
RESULTS = ROOT / "bench" / "results"
TARGETS = {"resolve": 30.0, "list": 25.0, "page": 60.0, "pdf": 2000.0}
BATCH = 20_000
REPS = 50
CHANNELS = ("general_dealer", "sub_dealer", "retailer", "end_customer")
TIERS = ("prospect", "ordinary", "key")


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


def insert(model, columns: list[str], rows) -> None:
    """Raw executemany in batches: the ORM's bulk_create is too slow for millions of rows."""
    from django.db import connection

    table = model._meta.db_table
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
    batch = []
    with connection.cursor() as cursor:
        for row in rows:
            batch.append(row)
            if len(batch) >= BATCH:
                cursor.executemany(sql, batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)


def load(products: int, quotes: int, lines_per_quote: int, customers: int) -> dict:
    from django.db import connection, transaction
    from django.utils import timezone

    from kehu.catalog.models import Category, DiscountLimit, PriceItem, PriceList, Product, Specification
    from kehu.customers.models import Customer
    from kehu.quotes.models import Quote, QuoteLine
    from kehu.users.models import User
    from kehu.users.roles import Role
    from kehu.users.services import department_create

    rnd = random.Random(11)
    started = time.perf_counter()
    now = timezone.now()
    today = timezone.localdate()
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous=OFF")
    with transaction.atomic():
        hq = department_create(name="总公司", parent=None, actor=None)
        east = department_create(name="华东销售部", parent=hq, actor=None)
        User.objects.create_user("admin", password="kehu-bench", role=Role.ADMINISTRATOR, is_superuser=True)
        manager = User.objects.create_user("manager1", password="kehu-bench", role=Role.SALES_MANAGER, department=east)
        User.objects.bulk_create(
            [
                User(username=f"rep{i}", role=Role.SALES_REP, department=east, manager=manager, password="!")
                for i in range(1, REPS + 1)
            ]
        )
        reps = list(User.objects.filter(username__startswith="rep").order_by("pk").values_list("pk", flat=True))
        for role, limit in ((Role.SALES_REP, 5), (Role.SALES_MANAGER, 15), (Role.GENERAL_MANAGER, 30)):
            DiscountLimit.objects.create(role=role, max_discount=Decimal(limit))

        insert(
            Customer,
            ["name", "kind", "segment", "industry", "region", "city", "address", "source", "status", "tier"]
            + ["channel_level", "phone", "email", "website", "credit_code", "notes", "search_text", "name_key"]
            + ["owner_id", "created_at", "updated_at", "version"],
            (
                (f"客户{n:06d}机电有限公司", "company", "industrial", "machinery", "江苏", "苏州", "", "", "active")
                + (TIERS[n % 3], CHANNELS[n % 4], "", "", "", "", "", f"客户{n:06d}", f"客户{n:06d}")
                + (reps[n % REPS], now, now, 1)
                for n in range(customers)
            ),
        )
        customer_ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True))

        roots = [Category.objects.create(name=f"大类{i}", path=f"{i:04d}/") for i in range(10)]
        categories = [
            Category.objects.create(name=f"小类{i}-{j}", parent=root, path=f"{root.path}{j:04d}/")
            for i, root in enumerate(roots)
            for j in range(5)
        ]
        insert(
            Product,
            ["code", "name", "category_id", "unit", "status", "tax_rate", "cost", "floor_price", "description"]
            + ["image", "search_text", "created_at", "updated_at", "version"],
            (
                (f"P{n:05d}", f"产品{n:05d} 离心泵", categories[n % len(categories)].pk, "台", "active", "13.00")
                + ("500.0000", "600.0000", "", "", f"p{n:05d} 产品{n:05d} 离心泵", now, now, 1)
                for n in range(products)
            ),
        )
        product_ids = list(Product.objects.order_by("pk").values_list("pk", flat=True))
        insert(
            Specification,
            ["product_id", "code", "name", "position", "is_active", "created_at", "updated_at"],
            (
                (pid, f"P{n:05d}-{k}", f"XJ-{n}-{k} / {220 + k * 160}V", k, True, now, now)
                for n, pid in enumerate(product_ids)
                for k in range(3)
            ),
        )
        specs = list(Specification.objects.order_by("pk").values_list("pk", "product_id"))

        start = today - timedelta(days=365)
        lists = []

        def price_list(name, kind, **fields):
            pl = PriceList.objects.create(name=name, kind=kind, valid_from=start, **fields)
            lists.append(pl)
            return pl

        book = price_list("2026 价目表", "list")
        item_columns = ["price_list_id", "product_id", "specification_id", "min_quantity", "price", "percent_of_list"]
        item_columns += ["valid_from", "valid_until"]
        insert(
            PriceItem,
            item_columns,
            ((book.pk, pid, sid, "1", f"{1000 + sid % 500}.0000", None, None, None) for sid, pid in specs),
        )
        for level in CHANNELS:
            pl = price_list(f"{level} 价目表", "channel", channel_level=level)
            percent = {"general_dealer": 70, "sub_dealer": 80, "retailer": 90, "end_customer": 100}[level]
            insert(
                PriceItem,
                item_columns,
                ((pl.pk, pid, None, "1", None, f"{percent}.00", None, None) for pid in product_ids),
            )
            insert(
                PriceItem,
                item_columns,
                ((pl.pk, pid, sid, "100", f"{700 + sid % 300}.0000", None, None, None) for sid, pid in specs[::4]),
            )
        for tier in TIERS:
            pl = price_list(f"{tier} 客户价", "tier", tier=tier)
            insert(
                PriceItem,
                item_columns,
                ((pl.pk, pid, None, "10", None, "95.00", None, None) for pid in product_ids[::2]),
            )
        for n in range(200 - len(lists)):
            pl = price_list(f"客户协议价 {n}", "customer", customer_id=customer_ids[n])
            chosen = rnd.sample(specs, 300)
            insert(
                PriceItem,
                item_columns,
                ((pl.pk, pid, sid, "1", f"{650 + sid % 200}.0000", None, None, None) for sid, pid in chosen),
            )

        quote_columns = ["number", "revision", "customer_id", "owner_id", "state", "title", "currency", "language"]
        quote_columns += ["quoted_on", "valid_until", "payment_terms", "delivery_terms", "notes", "line_count"]
        quote_columns += ["total_net", "total_tax", "total", "max_discount", "below_floor", "decision_note"]
        quote_columns += ["created_at", "updated_at", "version"]
        states = ["draft", "pending", "approved", "sent", "accepted", "rejected", "expired"]

        def quote_rows():
            for n in range(quotes):
                at = now - timedelta(minutes=(quotes - n) * 2)
                customer = customer_ids[n % len(customer_ids)]
                owner = reps[(n % len(customer_ids)) % REPS]  # the customer's owner
                total = Decimal(lines_per_quote * 11300)
                yield (
                    (
                        f"Q{at:%Y}-{n + 1:07d}",
                        1,
                        customer,
                        owner,
                        states[n % len(states)],
                        f"报价 {n}",
                        "CNY",
                        "zh-hans",
                    )
                    + (at.date(), at.date() + timedelta(days=30), "", "", "", lines_per_quote)
                    + (str(total / Decimal("1.13")), "0", str(total), "0", False, "", at, at, 1)
                )

        insert(Quote, quote_columns, quote_rows())
        line_columns = ["quote_id", "position", "customer_id", "product_id", "specification_id", "code", "name"]
        line_columns += ["specification_name", "unit", "quantity", "list_price", "base_price", "price_source"]
        line_columns += ["discount", "unit_price", "tax_rate", "amount", "amount_net", "tax", "notes"]

        def line_rows():
            first = Quote.objects.order_by("pk").values_list("pk", flat=True).first()
            for n in range(quotes):
                customer = customer_ids[n % len(customer_ids)]
                for pos in range(1, lines_per_quote + 1):
                    sid, pid = specs[(n * 7 + pos * 131) % len(specs)]
                    yield (
                        (first + n, pos, customer, pid, sid, f"S{sid}", "离心泵", "XJ", "台", "10.000", "1130.0000")
                        + ("1130.0000", "2026 价目表", "0", "1130.0000", "13.00", "11300.00", "10000.00", "1300.00", "")
                    )

        insert(QuoteLine, line_columns, line_rows())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"seconds": time.perf_counter() - started}


def big_quote(lines: int):
    """A draft of `lines` lines for a customer with its own, a channel and a tier list, through the services."""
    from kehu.catalog.models import PriceList, Specification
    from kehu.quotes import services
    from kehu.users.models import User

    customer = PriceList.objects.filter(kind="customer").order_by("pk").first().customer
    rep = User.objects.get(pk=customer.owner_id)
    quote = services.quote_create(customer=customer, actor=rep)
    spec_ids = list(Specification.objects.order_by("pk").values_list("pk", flat=True)[:lines])
    services.quote_lines_add(
        quote=quote, actor=rep, lines=[(sid, Decimal(1 + n % 150)) for n, sid in enumerate(spec_ids)]
    )
    return quote, customer, rep, spec_ids


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
    return statistics.quantiles(values, n=20)[18] if len(values) > 1 else values[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument("--quotes", type=int, default=500_000)
    parser.add_argument("--lines-per-quote", type=int, default=10)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--fresh", action="store_true")
    args = parser.parse_args()

    VAR.mkdir(parents=True, exist_ok=True)
    db = VAR / f"quotes-{args.products}-{args.quotes}-{args.lines_per_quote}.sqlite3"
    if args.fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
    built = db.exists()
    setup_django(db)
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from kehu.catalog.pricing import prices_resolve
    from kehu.quotes.models import Quote, QuoteLine
    from kehu.users.models import User

    call_command("migrate", verbosity=0)
    loaded = {"seconds": 0.0} if built else load(args.products, args.quotes, args.lines_per_quote, args.customers)
    quote, customer, rep, spec_ids = big_quote(300)
    resolve_lines = [(sid, Decimal(1 + n % 150)) for n, sid in enumerate(spec_ids)]
    resolve = timed(lambda: prices_resolve(customer=customer, lines=resolve_lines), args.samples, args.warmup)

    manager = User.objects.get(username="manager1")
    as_manager, as_rep = Client(HTTP_HOST="127.0.0.1"), Client(HTTP_HOST="127.0.0.1")
    as_manager.force_login(manager)
    as_rep.force_login(rep)
    list_url, page_url = reverse("quotes:quote-list"), reverse("quotes:quote-detail", args=[quote.pk])
    for client, url in ((as_manager, list_url), (as_rep, list_url), (as_rep, page_url)):
        assert client.get(url).status_code == 200, url
    manager_list = timed(lambda: as_manager.get(list_url), args.samples, args.warmup)
    rep_list = timed(lambda: as_rep.get(list_url), args.samples, args.warmup)
    page = timed(lambda: as_rep.get(page_url), args.samples, args.warmup)
    pdf_url = reverse("quote_documents:pdf", args=[quote.pk])
    pdf = timed(lambda: as_rep.get(pdf_url), 5, 1)
    with CaptureQueriesContext(connection) as captured:
        as_rep.get(page_url)

    rows = [
        ("resolving the prices of a 300-line quote (`prices_resolve`)", resolve, TARGETS["resolve"]),
        ("quote list `GET /quotes/` as a sales manager (50 reps' quotes)", manager_list, TARGETS["list"]),
        ("quote list `GET /quotes/` as a rep", rep_list, TARGETS["list"]),
        ("a 300-line quote's page", page, TARGETS["page"]),
        ("its PDF (WeasyPrint, 5 runs)", pdf, TARGETS["pdf"]),
    ]
    counts = (Quote.objects.count(), QuoteLine.objects.count())
    lines = [
        f"Quotes benchmark, {datetime.now():%Y-%m-%d %H:%M}, {platform.machine()}, Python {platform.python_version()}",
        "",
        f"{args.products:,} products × 3 specifications, 200 price lists, {counts[0]:,} quotes with "
        f"{counts[1]:,} lines, {args.customers:,} customers"
        + (f"; loaded in {loaded['seconds']:.0f} s" if loaded["seconds"] else "; database reused")
        + f". {args.samples} timed runs after {args.warmup} warm-up, through Django's test client.",
        "",
        "| what | p50 | p95 | target |",
        "| --- | ---: | ---: | ---: |",
    ]
    for label, values, target in rows:
        mark = "" if p95(values) <= target else " ✗"
        lines.append(f"| {label} | {statistics.median(values):.1f} ms | {p95(values):.1f} ms{mark} | {target:.0f} ms |")
    lines += [
        "",
        f"The 300-line quote's page ran {len(captured.captured_queries)} queries "
        f"({sum(float(q['time']) for q in captured.captured_queries) * 1000:.1f} ms of SQL).",
    ]
    report = "\n".join(lines) + "\n"
    print(report)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "quotes-latest.md").write_text(report, encoding="utf-8")


if __name__ == "__main__":
    main()
