"""Demo payment plans and payments (回款计划, 回款): plans for the booked orders and the signed
contracts the lower parts seeded (some overdue), payments through the services — paid in full, a
partial one, one left unallocated, a refund and a reversal. When no part below seeded a booked order,
a few confirmed orders are made through the orders services so the pages have something to show."""

import random
from datetime import timedelta
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from kehu.contracts.models import IN_FORCE, Contract
from kehu.orders.models import BOOKED_STATES, Order, OrderState
from kehu.receivables import services
from kehu.receivables.models import PaymentMethod, PaymentPlan, PlanBasis
from kehu.users.models import User

ACCOUNTS = [
    "工行 苏州分行 1102 0210 0900 0123 456",
    "招行 无锡分行 5109 0377 1010 201",
    "建行 宁波分行 3305 0163 6270 0000 0788",
]


def _orders_made_here(rng: random.Random) -> list[Order]:
    from kehu.catalog.models import Specification
    from kehu.customers.models import Customer
    from kehu.orders import services as order_services

    specs = list(Specification.objects.order_by("pk").values_list("pk", flat=True)[:20])
    if not specs:
        return []
    made = []
    for username in ("rep1", "rep2", "rep3"):
        rep = User.objects.filter(username=username).first()
        if rep is None:
            continue
        for customer in Customer.objects.filter(owner=rep, deleted_at__isnull=True).order_by("pk")[:4]:
            lines = [(pk, rng.choice([2, 3, 5, 10])) for pk in rng.sample(specs, k=min(2, len(specs)))]
            try:
                order = order_services.order_create(
                    customer=customer,
                    actor=rep,
                    lines=lines,
                    ordered_on=timezone.localdate() - timedelta(days=rng.randint(20, 150)),
                    payment_terms="30% 签约，60% 发货后 30 天，10% 开票后 90 天",
                )
                order = order_services.order_transition(order=order, to=OrderState.CONFIRMED, actor=rep)
            except (ValidationError, PermissionDenied):
                continue
            order.refresh_from_db()
            if order.state in BOOKED_STATES:
                made.append(order)
    return made


def seed(*, seed: int = 42, limit: int = 30) -> dict:
    rng = random.Random(seed)
    today = timezone.localdate()
    orders = list(
        Order.objects.filter(state__in=BOOKED_STATES, deleted_at__isnull=True, payment_plans__isnull=True, total__gt=0)
        .select_related("customer", "owner")
        .order_by("pk")[:limit]
    )
    if not orders and not Order.objects.exists():
        orders = _orders_made_here(rng)
    contracts = list(
        Contract.objects.filter(stage__in=IN_FORCE, deleted_at__isnull=True, payment_plans__isnull=True, amount__gt=0)
        .exclude(orders__state__in=BOOKED_STATES)
        .select_related("customer", "owner")
        .order_by("pk")[: max(3, limit // 5)]
    )
    plans = 0
    for index, order in enumerate(orders):
        start = order.ordered_on
        if index % 3 == 0:  # 30 % on signing, 60 % after delivery, 10 % after the invoice
            terms = [
                {"percent": "30", "basis": PlanBasis.FIXED, "due_on": start + timedelta(days=7)},
                {"percent": "60", "basis": PlanBasis.DELIVERY, "days_after": 30},
                {"percent": "10", "basis": PlanBasis.INVOICE, "days_after": 90},
            ]
        elif index % 3 == 1:  # two fixed dates, the first long past: overdue
            terms = [
                {"percent": "50", "basis": PlanBasis.FIXED, "due_on": start + timedelta(days=15)},
                {"percent": "50", "basis": PlanBasis.FIXED, "due_on": start + timedelta(days=75)},
            ]
        else:
            terms = [{"percent": "100", "basis": PlanBasis.FIXED, "due_on": start + timedelta(days=45)}]
        try:
            plans += len(services.plans_from_terms(actor=order.owner, order=order, terms=terms))
        except (ValidationError, PermissionDenied):
            continue
    for contract in contracts:
        signed = contract.signed_on or today
        try:
            plans += len(
                services.plans_from_terms(
                    actor=contract.owner,
                    contract=contract,
                    terms=[
                        {"percent": "40", "basis": PlanBasis.SIGNING, "days_after": 10},
                        {"percent": "60", "basis": PlanBasis.FIXED, "due_on": signed + timedelta(days=120)},
                    ],
                )
            )
        except (ValidationError, PermissionDenied):
            continue
    payments = _payments(rng, today)
    return {"plans": plans, **payments}


def _record(customer, amount, rng, today, **extra):
    return services.payment_record(
        actor=customer.owner,
        customer=customer,
        amount=amount,
        received_on=extra.pop("received_on", today - timedelta(days=rng.randint(1, 40))),
        method=extra.pop("method", rng.choice([PaymentMethod.TRANSFER] * 3 + [PaymentMethod.ACCEPTANCE])),
        bank_account=rng.choice(ACCOUNTS),
        payer_name=customer.name,
        reference=f"DZ{rng.randint(10**9, 10**10 - 1)}",
        approval=False,
        **extra,
    )


def _payments(rng: random.Random, today) -> dict:
    customers = []
    seen = set()
    for plan in PaymentPlan.objects.select_related("customer", "customer__owner").order_by("due_on", "pk"):
        if plan.customer_id not in seen and plan.due_on is not None:
            seen.add(plan.customer_id)
            customers.append(plan.customer)
    counts = {"payments": 0, "reversals": 0, "refunds": 0}
    for index, customer in enumerate(customers):
        open_plans = services.open_plans(customer.pk)
        if not open_plans:
            continue
        first = open_plans[0]
        owed = first.amount - first.received_amount
        try:
            if index % 4 == 0:  # the first instalment in full
                _record(customer, owed, rng, today)
            elif index % 4 == 1:  # a partial payment
                _record(customer, (owed * Decimal("0.4")).quantize(Decimal("0.01")), rng, today)
            elif index % 4 == 2 and index < 8:  # paid more than planned: the rest stays unallocated
                everything = sum((p.amount - p.received_amount for p in open_plans), Decimal("0"))
                _record(customer, everything + Decimal("5000.00"), rng, today, method=PaymentMethod.TRANSFER)
                if index == 2:
                    _record(customer, Decimal("2000.00"), rng, today, is_refund=True, received_on=today)
                    counts["refunds"] += 1
            elif index % 4 == 3 and counts["reversals"] == 0:  # recorded on the wrong customer, reversed
                wrong = _record(customer, owed, rng, today)
                services.payment_reverse(payment=wrong, actor=customer.owner, reason="付款单位录错，冲销后重录")
                counts["reversals"] += 1
            else:
                continue
        except (ValidationError, PermissionDenied):
            continue
        counts["payments"] += 1
    # Money received before any plan (预收款): unallocated until plans are made.
    if customers:
        try:
            _record(customers[-1], Decimal("8000.00"), rng, today, auto_allocate=False, notes="预收款，待分配")
            counts["payments"] += 1
        except (ValidationError, PermissionDenied):
            pass
    return counts
