"""The aggregates the ageing report and the credit check read, kept current (CLS-4, WRN-1).

Definitions (money in Decimal, to the fen; "live" plans are those not paid and not void, i.e.
state in OPEN_PLAN_STATES; a plan's outstanding = amount − received_amount):

- owed        = Σ outstanding of the customer's live plans (with or without a due date);
- overdue     = Σ outstanding of live plans with due_on < today;
- not_due     = owed − overdue (due today or later, or not dated yet: "N days after" an event
                that has not happened);
- oldest_due_on = the earliest due_on among live plans (None when none is dated);
- not_invoiced = Σ over booked orders (confirmed or completed, not deleted) of
                max(total − invoiced_amount, 0) — `invoiced_amount` is the orders rollup the
                invoices app writes from issued (and red-letter) invoices;
- exposure    = Σ over booked, not cancelled orders of max(total − received_amount, 0)
                + Σ outstanding of live plans not tied to an order (contract-level plans);
                i.e. open receivables + orders not yet invoiced, each counted once (CLS-4);
- unallocated = Σ over counted payments (confirmed, or reversed — the reversal row cancels it)
                of sign × (amount − allocated_amount), sign −1 for refunds and for reversal rows
                (a reversal of a refund counts +1): money received and not yet set against a plan;
- owner       = the customer's owner (for the manager's scope of the ageing report).

`DueDay` holds, per plan owner and due date, the outstanding of live plans and how many there are.

Every service that changes a plan, a payment or an allocation calls `balances_refresh` in its
transaction; order and invoice changes reach it through the in-transaction event sink registered
in `apps.py`. `balances_refresh` runs a fixed number of queries whatever the number of customers
(four reads, one upsert and one delete of balances, one read of the affected due days, one upsert
and one delete of them). The nightly job calls `balances_roll(today)`: plans whose due date passed
become overdue (those inside the reminder window become due) and their customers' sums move.
"""

from collections.abc import Callable, Iterable
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Case, Count, DecimalField, F, Min, Q, Sum, Value, When
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from kehu.core.money import round_fen
from kehu.customers.models import Customer
from kehu.orders.models import BOOKED_STATES, Order
from kehu.receivables.models import (
    OPEN_PLAN_STATES,
    CustomerBalance,
    DueDay,
    Payment,
    PaymentPlan,
    PaymentState,
    PlanState,
    ReceivablesSettings,
)

ZERO = Decimal("0.00")
MONEY = DecimalField(max_digits=18, decimal_places=2)
COUNTED_PAYMENT_STATES = (PaymentState.CONFIRMED, PaymentState.REVERSED)
BATCH = 2000


def _sum(expression, **filters):
    return Coalesce(Sum(expression, filter=Q(**filters) if filters else None), Value(ZERO), output_field=MONEY)


OUTSTANDING = F("amount") - F("received_amount")


def payment_sign():
    """+1 for money received, −1 for a refund; a reversal row has the opposite sign of what it reverses."""
    return Case(
        When(Q(is_refund=False, reverses__isnull=True) | Q(is_refund=True, reverses__isnull=False), then=Value(1)),
        default=Value(-1),
    )


def balances_refresh(customer_ids: Iterable[int], *, due_keys: Iterable[tuple[int, date]] = (), today=None) -> None:
    """Recompute `CustomerBalance` and the `DueDay` rows touched by these customers' plans.

    `due_keys` adds (owner id, due date) pairs a change moved plans away from (a plan re-dated,
    voided or handed to someone else), so their sums are recomputed too."""
    ids = sorted({int(i) for i in customer_ids if i is not None})
    if not ids:
        return
    today = today or timezone.localdate()
    with transaction.atomic():
        plans = {
            row["customer_id"]: row
            for row in PaymentPlan.objects.filter(customer_id__in=ids, state__in=OPEN_PLAN_STATES)
            .values("customer_id")
            .annotate(
                owed=_sum(OUTSTANDING),
                overdue=_sum(OUTSTANDING, due_on__lt=today),
                contract_level=_sum(OUTSTANDING, order__isnull=True),
                oldest=Min("due_on"),
            )
        }
        orders = {
            row["customer_id"]: row
            for row in Order.objects.filter(customer_id__in=ids, state__in=BOOKED_STATES, deleted_at__isnull=True)
            .values("customer_id")
            .annotate(
                not_invoiced=_sum(Greatest(F("total") - F("invoiced_amount"), Value(ZERO), output_field=MONEY)),
                open_amount=_sum(Greatest(F("total") - F("received_amount"), Value(ZERO), output_field=MONEY)),
            )
        }
        unallocated = dict(
            Payment.objects.filter(customer_id__in=ids, state__in=COUNTED_PAYMENT_STATES)
            .values("customer_id")
            .annotate(u=_sum(payment_sign() * (F("amount") - F("allocated_amount"))))
            .values_list("customer_id", "u")
        )
        owners = dict(Customer.objects.filter(pk__in=ids).values_list("pk", "owner_id"))
        now = timezone.now()
        rows = []
        for pk in ids:
            if pk not in owners:
                continue
            p = plans.get(pk) or {}
            o = orders.get(pk) or {}
            owed = p.get("owed", ZERO)
            overdue = p.get("overdue", ZERO)
            rows.append(
                CustomerBalance(
                    customer_id=pk,
                    owner_id=owners[pk],
                    owed=owed,
                    overdue=overdue,
                    not_due=owed - overdue,
                    not_invoiced=o.get("not_invoiced", ZERO),
                    exposure=o.get("open_amount", ZERO) + p.get("contract_level", ZERO),
                    oldest_due_on=p.get("oldest"),
                    unallocated=round_fen(unallocated.get(pk) or ZERO),
                    updated_at=now,
                )
            )
        CustomerBalance.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["customer"],
            update_fields=[
                "owner",
                "owed",
                "overdue",
                "not_due",
                "not_invoiced",
                "exposure",
                "oldest_due_on",
                "unallocated",
                "updated_at",
            ],
        )
        CustomerBalance.objects.filter(customer_id__in=set(ids) - set(owners)).delete()
        _due_days_refresh(ids, list(due_keys))


def _due_days_refresh(customer_ids: list[int], extra_keys: list[tuple[int, date]]) -> None:
    keys = set(
        PaymentPlan.objects.filter(customer_id__in=customer_ids, due_on__isnull=False)
        .values_list("owner_id", "due_on")
        .distinct()
    )
    keys |= {(o, d) for o, d in extra_keys if o is not None and d is not None}
    if not keys:
        return
    owners = {o for o, _ in keys}
    dates = {d for _, d in keys}
    # Every (owner, date) in owners × dates is recomputed, a superset of the keys: still exact.
    sums = (
        PaymentPlan.objects.filter(owner_id__in=owners, due_on__in=dates, state__in=OPEN_PLAN_STATES)
        .values("owner_id", "due_on")
        .annotate(outstanding=_sum(OUTSTANDING), n=Count("pk"))
    )
    rows = [
        DueDay(owner_id=r["owner_id"], due_on=r["due_on"], outstanding=r["outstanding"], plans=r["n"]) for r in sums
    ]
    if rows:
        DueDay.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["owner", "due_on"], update_fields=["outstanding", "plans"]
        )
    kept = {(r.owner_id, r.due_on) for r in rows}
    stale = [
        pk
        for pk, o, d in DueDay.objects.filter(owner_id__in=owners, due_on__in=dates).values_list(
            "pk", "owner_id", "due_on"
        )
        if (o, d) not in kept
    ]
    if stale:
        DueDay.objects.filter(pk__in=stale).delete()


def balances_rebuild(progress: Callable[[int], None] | None = None, *, batch: int = BATCH) -> int:
    """Recompute every customer's balance and every due day from scratch, in batches of customers.
    Returns how many customers were written."""
    DueDay.objects.all().delete()
    done = 0
    last = 0
    while True:
        ids = list(Customer.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch])
        if not ids:
            break
        balances_refresh(ids)
        done += len(ids)
        last = ids[-1]
        if progress:
            progress(done)
    return done


def balances_roll(today: date | None = None) -> set[int]:
    """The nightly part: live plans whose due date has passed become overdue, those falling due
    within the reminder window become due; the balances of their customers are refreshed (the
    overdue and not-due sums move with the day). Returns the customer ids refreshed."""
    today = today or timezone.localdate()
    window = today + timedelta(days=ReceivablesSettings.current().remind_days_before_due)
    going_overdue = PaymentPlan.objects.filter(
        state__in=(PlanState.NOT_DUE, PlanState.DUE, PlanState.PARTLY_PAID), due_on__lt=today
    )
    falling_due = PaymentPlan.objects.filter(
        state=PlanState.NOT_DUE, received_amount=0, due_on__gte=today, due_on__lte=window
    )
    # A customer's overdue sum moves only when one of its plans passes its due date, and those plans
    # are exactly the ones moving to overdue now (the services keep the stored state in step).
    customers = set(going_overdue.values_list("customer_id", flat=True).distinct())
    with transaction.atomic():
        going_overdue.update(state=PlanState.OVERDUE, updated_at=timezone.now())
        falling_due.update(state=PlanState.DUE, updated_at=timezone.now())
    ordered = sorted(customers)
    for start in range(0, len(ordered), BATCH):
        balances_refresh(ordered[start : start + BATCH], today=today)
    return customers
