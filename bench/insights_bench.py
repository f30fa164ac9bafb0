"""Quote insights at scale: the nightly cross-sell count and the panel's reads.

    .venv/bin/python bench/insights_bench.py --quotes 50000 --lines 10      # ~500k lines, a few minutes
    .venv/bin/python bench/insights_bench.py --quotes 500000 --lines 10     # the issue's 5M lines

Writes its own SQLite database under var/bench-insights/ (KEHU_VAR_DIR), so nothing else is
touched: products × 3 specifications, customers in a few industries, quotes of `--lines` lines
(a third accepted), one customer with a long history and a 300-line quote. Then it times
`affinity_rebuild` (the nightly task) and, repeated, the panel's selectors for the 300-line quote:
price history, conflicting prices and cross-sell, with their query counts.
"""

import argparse
import os
import random
import statistics
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quotes", type=int, default=50_000)
    parser.add_argument("--lines", type=int, default=10)
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    var = ROOT / "var" / "bench-insights" / f"q{args.quotes}-l{args.lines}"
    var.mkdir(parents=True, exist_ok=True)
    os.environ["KEHU_VAR_DIR"] = str(var)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from kehu.quotes.models import Quote

    if not Quote.objects.exists():
        load(args)
    measure(args)


def load(args) -> None:
    from django.db import transaction

    from kehu.catalog.models import Product, Specification
    from kehu.customers.models import Customer, Industry
    from kehu.quotes.models import Quote, QuoteLine, QuoteState
    from kehu.users.models import User

    rng = random.Random(11)
    started = time.perf_counter()
    reps = [User.objects.create(username=f"bench-rep{i}", role="sales_rep") for i in range(20)]
    with transaction.atomic():
        Product.objects.bulk_create(
            [Product(code=f"P{i:06d}", name=f"产品 {i}", unit="台") for i in range(args.products)], batch_size=5000
        )
        products = list(Product.objects.values_list("id", flat=True))
        Specification.objects.bulk_create(
            [Specification(product_id=p, code=f"S{p}-{k}", name=f"型号 {k}") for p in products for k in range(3)],
            batch_size=5000,
        )
        specs = list(Specification.objects.values_list("id", "product_id"))
        industries = [i for i in Industry.values if i != "other"]
        Customer.objects.bulk_create(
            [
                Customer(name=f"客户 {i}", industry=industries[i % len(industries)], owner=reps[i % len(reps)])
                for i in range(args.customers)
            ],
            batch_size=5000,
        )
    customers = list(Customer.objects.values_list("id", "owner_id"))
    # Products come in families of 50 that are quoted together, so pairs repeat as in real life.
    families = [specs[i : i + 150] for i in range(0, len(specs), 150)]
    states = [QuoteState.ACCEPTED, QuoteState.SENT, QuoteState.REJECTED, QuoteState.EXPIRED, QuoteState.ACCEPTED]
    day = date(2024, 1, 1)
    batch = 5000
    for start in range(0, args.quotes, batch):
        with transaction.atomic():
            quotes = []
            for n in range(start, min(start + batch, args.quotes)):
                customer, owner = customers[rng.randrange(len(customers))]
                on = day + timedelta(days=rng.randrange(900))
                quotes.append(
                    Quote(
                        number=f"B{n:07d}", customer_id=customer, owner_id=owner, state=rng.choice(states),
                        quoted_on=on, valid_until=on + timedelta(days=30), line_count=args.lines,
                    )
                )  # fmt: skip
            Quote.objects.bulk_create(quotes, batch_size=batch)
            lines = []
            for quote in quotes:
                family = families[rng.randrange(len(families))]
                for position, (spec, product) in enumerate(rng.sample(family, args.lines), start=1):
                    lines.append(_line(QuoteLine, quote, position, spec, product, rng))
            QuoteLine.objects.bulk_create(lines, batch_size=batch)
        print(f"  {min(start + batch, args.quotes):,} quotes", end="\r", flush=True)
    # One customer with a long history, and the 300-line quote the panel is timed on.
    customer, owner = customers[0]
    some = rng.sample(specs, 300)
    with transaction.atomic():
        for k in range(200):
            quote = Quote.objects.create(
                number=f"H{k:05d}", customer_id=customer, owner_id=reps[k % 3].pk, state=rng.choice(states),
                quoted_on=day + timedelta(days=k * 4), valid_until=day + timedelta(days=k * 4 + 30),
            )  # fmt: skip
            QuoteLine.objects.bulk_create(
                [_line(QuoteLine, quote, i, s, p, rng) for i, (s, p) in enumerate(rng.sample(some, 60), start=1)]
            )
        big = Quote.objects.create(
            number="BIG", customer_id=customer, owner_id=owner, quoted_on=date(2026, 12, 1),
            valid_until=date(2026, 12, 31), line_count=300,
        )  # fmt: skip
        QuoteLine.objects.bulk_create([_line(QuoteLine, big, i, s, p, rng) for i, (s, p) in enumerate(some, 1)])
    print(f"loaded {Quote.objects.count():,} quotes, {QuoteLine.objects.count():,} lines "
          f"in {time.perf_counter() - started:.0f} s")  # fmt: skip


def _line(QuoteLine, quote, position, spec, product, rng):  # noqa: N803
    price = Decimal(rng.randrange(100, 10000))
    return QuoteLine(
        quote_id=quote.pk, position=position, customer_id=quote.customer_id, product_id=product,
        specification_id=spec, code=f"S{spec}", name="产品", unit="台", quantity=Decimal(1), base_price=price,
        unit_price=price, tax_rate=Decimal(13), amount=price, amount_net=price, tax=Decimal(0),
    )  # fmt: skip


def measure(args) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kehu.quotes.affinity import affinity_rebuild
    from kehu.quotes.insights import cross_sell, price_conflicts, price_history, quote_line_facts
    from kehu.quotes.models import ProductAffinity, Quote, QuoteLine
    from kehu.users.models import User

    print(f"{Quote.objects.count():,} quotes, {QuoteLine.objects.count():,} lines ({connection.vendor})")
    started = time.perf_counter()
    kept = affinity_rebuild()
    print(f"affinity_rebuild: {time.perf_counter() - started:.1f} s, {kept:,} pairs kept "
          f"({ProductAffinity.objects.values('product').distinct().count():,} products)")  # fmt: skip
    quote = Quote.objects.select_related("customer", "owner").get(number="BIG")
    viewer = User.objects.filter(is_superuser=True).first() or quote.owner
    parts = {
        "lines": lambda: quote_line_facts(quote),
        "price history": lambda: price_history(quote, viewer, lines=facts),
        "conflicts": lambda: price_conflicts(quote, viewer, lines=facts),
        "cross-sell": lambda: cross_sell(quote, lines=facts),
    }
    facts = quote_line_facts(quote)
    print(f"| 300-line quote, {args.repeat} runs | median ms | p95 ms | queries |")
    print("| --- | --- | --- | --- |")
    for name, function in parts.items():
        times = []
        for _ in range(args.repeat):
            with CaptureQueriesContext(connection) as queries:
                t = time.perf_counter()
                found = function()
                times.append((time.perf_counter() - t) * 1000)
        p95 = sorted(times)[max(0, int(len(times) * 0.95) - 1)]
        print(f"| {name} ({len(found)}) | {statistics.median(times):.1f} | {p95:.1f} | {len(queries)} |")


if __name__ == "__main__":
    main()
