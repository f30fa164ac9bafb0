"""Quote insights at scale: the nightly cross-sell count and the panel's reads.

    .venv/bin/python bench/insights_bench.py --quotes 100000     # 1M lines: a few minutes
    .venv/bin/python bench/insights_bench.py                     # the issue's 500,000 quotes, 5M lines

Uses the quotes benchmark's database (bench/quotes_bench.py builds it once per size, with raw
inserts, under var/bench-quotes/), adds one customer with a long history (200 quotes of 60 lines,
another rep's open quote among them) and a 300-line quote through the services, then times
`affinity_rebuild` (the nightly task) and, repeated, the panel's selectors for that quote: price
history, conflicting prices and cross-sell, with their query counts.
"""

import argparse
import random
import statistics
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import quotes_bench  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument("--quotes", type=int, default=500_000)
    parser.add_argument("--lines-per-quote", type=int, default=10)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    quotes_bench.VAR.mkdir(parents=True, exist_ok=True)
    db = quotes_bench.VAR / f"quotes-{args.products}-{args.quotes}-{args.lines_per_quote}.sqlite3"
    built = db.exists()
    quotes_bench.setup_django(db)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if not built:
        loaded = quotes_bench.load(args.products, args.quotes, args.lines_per_quote, args.customers)
        print(f"loaded in {loaded['seconds']:.0f} s")
    measure(args)


def history_for(quote) -> None:
    """200 earlier quotes of 60 of the big quote's specifications for its customer, by three reps."""
    from django.db import transaction

    from kehu.quotes.models import Quote, QuoteLine
    from kehu.users.models import User

    if Quote.objects.filter(number__startswith="H-").exists():
        return
    rng = random.Random(5)
    lines = list(QuoteLine.objects.filter(quote=quote).values_list("specification_id", "product_id"))
    reps = list(User.objects.filter(username__startswith="rep").order_by("pk")[:3]) + [quote.owner]
    states = ["accepted", "rejected", "expired", "sent", "accepted"]
    with transaction.atomic():
        for k in range(200):
            on = quote.quoted_on - timedelta(days=900 - k * 4)
            state = "sent" if k == 199 else rng.choice(states)
            owner = reps[0] if k == 199 else reps[k % len(reps)]
            earlier = Quote.objects.create(
                number=f"H-{k:04d}", customer_id=quote.customer_id, owner=owner, state=state,
                quoted_on=on, valid_until=on + timedelta(days=30), line_count=60,
            )  # fmt: skip
            QuoteLine.objects.bulk_create(
                [
                    QuoteLine(
                        quote=earlier, position=i, customer_id=quote.customer_id, product_id=p, specification_id=s,
                        code=f"S{s}", name="离心泵", unit="台", quantity=Decimal(1), base_price=Decimal(1000),
                        unit_price=Decimal(900 + rng.randrange(200)), tax_rate=Decimal(13), amount=Decimal(1000),
                        amount_net=Decimal(885), tax=Decimal(115),
                    )
                    for i, (s, p) in enumerate(rng.sample(lines, 60), start=1)
                ]
            )  # fmt: skip


def measure(args) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kehu.quotes.affinity import affinity_rebuild
    from kehu.quotes.insights import cross_sell, price_conflicts, price_history, quote_line_facts
    from kehu.quotes.models import ProductAffinity, Quote, QuoteLine

    print(f"{Quote.objects.count():,} quotes, {QuoteLine.objects.count():,} lines ({connection.vendor})")
    started = time.perf_counter()
    kept = affinity_rebuild()
    print(f"affinity_rebuild: {time.perf_counter() - started:.1f} s, {kept:,} pairs kept "
          f"({ProductAffinity.objects.values('product').distinct().count():,} products)")  # fmt: skip
    quote = Quote.objects.filter(line_count=300, title="").order_by("-pk").first()
    if quote is None:
        quote = quotes_bench.big_quote(300)[0]
    quote = Quote.objects.select_related("customer", "owner").get(pk=quote.pk)
    history_for(quote)
    viewer = quote.owner
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
