"""Dealer plans (SAL-6) and the sales record (SAL-5) on the money-chain data (bench/money_data.py):
timing functions for bench/money_bench.py (see bench/README.md).

    cases(ctx) -> [(key, label, function, target p95 ms or None)]

The issue's target is `dealer_plan`: the dealer plan-vs-actual page p95 ≤ 50 ms on 2,000,000 order
lines. The page reads the plan (1 query), its lines (1), what the dealer bought in the month — the
booked order lines summed per product and specification through the index
OrderLine(customer, ordered_on) (1) — and its sell-through out through SellThrough(seller, month)
(1), plus the visits of the month (1) and the previous plan (1): a handful of small indexed reads
whatever the size of the order table, so no aggregate table is kept.

Run alone on a small copy (develop): `python bench/dealerplans_bench.py --db /tmp/x/money-20000.sqlite3`.
"""

import statistics
import sys
import time
from pathlib import Path


def cases(ctx) -> list:
    from kehu.dealerplans import selectors

    found = []
    plan, lower = ctx.dealer_plan, ctx.lower_plan
    reader = _reader(ctx, plan)
    if plan is not None:
        client = ctx.client(reader)
        url = f"/dealer-plans/{plan.pk}/"
        assert client.get(url).status_code == 200, url

        def page():
            response = client.get(url)
            assert response.status_code == 200
            return response

        def selector():
            fresh = selectors.plan_get(ctx.user(reader), plan.pk)
            return selectors.plan_progress(fresh)

        found += [
            (
                "dealer_plan",
                f"dealer plan-vs-actual page ({plan.lines.count()} targets; rendered, {reader})",
                page,
                50.0,
            ),
            ("dealer_plan_selector", "dealer plan-vs-actual: plan_progress (selector)", selector, None),
        ]
        record_url = f"/dealer-plans/records/{plan.customer_id}/?year={plan.month.year}"
        assert client.get(record_url).status_code == 200, record_url
        found.append(
            (
                "dealer_sales_record",
                "sales record of the dealer, a year by month + the month's details (rendered)",
                lambda: client.get(record_url),
                None,
            )
        )
    if lower is not None:
        lower_client = ctx.client(_reader(ctx, lower))
        lower_url = f"/dealer-plans/{lower.pk}/"
        assert lower_client.get(lower_url).status_code == 200, lower_url
        found.append(
            (
                "dealer_plan_lower",
                "sub-distributor's plan-vs-actual page (sell-through; rendered)",
                lambda: lower_client.get(lower_url),
                50.0,
            )
        )
    manager = ctx.user("manager1")
    gm = ctx.client("gm")
    month_url = f"/dealer-plans/progress/?month={ctx.month:%Y-%m}"
    assert gm.get(month_url).status_code == 200
    found += [
        (
            "dealer_month_summary",
            "the month's progress per dealer, rep and region: month_summary (selector, manager1)",
            lambda: selectors.month_summary(manager, ctx.month),
            None,
        ),
        (
            "dealer_month_page",
            "the month's progress page, whole company (rendered, gm)",
            lambda: gm.get(month_url),
            None,
        ),
    ]
    return found


def _reader(ctx, plan) -> str:
    """Who reads the page: the plan rep's manager when the bench has them, else the general manager."""
    if plan is None:
        return "gm"
    owner = plan.owner
    if owner.manager_id and owner.manager.username in ("manager1", "manager2"):
        return owner.manager.username
    return "gm"


def main(argv: list[str]) -> None:
    """Develop on a copy of the small data set without bench/money_bench.py: times the page and the
    selector for the plan with the most lines this month."""
    import argparse
    import os

    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--samples", type=int, default=30)
    args = parser.parse_args(argv)
    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root))
    os.environ["KEHU_VAR_DIR"] = str(Path(args.db).parent)
    os.environ["DATABASE_URL"] = f"sqlite:///{args.db}"
    os.environ["KEHU_DEBUG"] = "0"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.db.models import Count
    from django.test import Client
    from django.utils import timezone

    settings.ALLOWED_HOSTS = ["*"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    from kehu.dealerplans.models import DealerPlan
    from kehu.users.models import User

    month = timezone.localdate().replace(day=1)
    plans = DealerPlan.objects.filter(deleted_at__isnull=True, upper__isnull=True)
    plan = (
        plans.filter(month=month).annotate(n=Count("lines")).order_by("-n").first() or plans.order_by("-month").first()
    )
    lower = DealerPlan.objects.filter(deleted_at__isnull=True, upper__isnull=False).order_by("-month").first()

    class Ctx:
        pass

    ctx = Ctx()
    ctx.month = plan.month if plan else month
    ctx.dealer_plan, ctx.lower_plan = plan, lower
    clients = {}

    def user(name):
        return User.objects.get(username=name)

    def client(name):
        if name not in clients:
            clients[name] = Client()
            clients[name].force_login(user(name))
        return clients[name]

    ctx.user, ctx.client = user, client
    for key, label, function, target in cases(ctx):
        for _ in range(3):
            function()
        times = []
        for _ in range(args.samples):
            started = time.perf_counter()
            function()
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        p95 = times[max(0, int(len(times) * 0.95) - 1)]
        print(f"{key:24} p50 {statistics.median(times):7.1f} ms  p95 {p95:7.1f} ms  target {target or '—'}  {label}")


if __name__ == "__main__":
    main(sys.argv[1:])
