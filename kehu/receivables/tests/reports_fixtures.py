"""Data for the report tests: customers with orders, plans and payments on a controlled day, and the
balances written from them.

The balances come from `kehu.receivables.balances.balances_refresh` (the receivables app's writer).
Until that module is on this branch, `refresh` writes the same two tables from the plans with the
definitions of the model's docstrings, so the report tests run either way.
"""

from datetime import date, timedelta
from decimal import Decimal
from itertools import count

import pytest
from django.utils import timezone

from kehu.customers.models import Customer
from kehu.orders.models import Order, OrderState
from kehu.receivables.models import (
    OPEN_PLAN_STATES,
    CustomerBalance,
    DueDay,
    Payment,
    PaymentPlan,
    PaymentState,
    PlanState,
)

TODAY = date(2026, 6, 30)
_numbers = count(1)


@pytest.fixture(autouse=True)
def _credit_answers():
    """The app's `ready` registers these once the receivables AppConfig calls `credit.register()`."""
    from kehu.receivables import credit

    credit.register()


@pytest.fixture
def finance(team):
    from kehu.users.models import User
    from kehu.users.roles import Role

    user = User(username="finance1", email="finance1@example.com", role=Role.FINANCE, department=team.hq)
    user.set_password("kehu-test-pw")
    user.save()
    return user


def customer(owner, name=None, tier="ordinary") -> Customer:
    return Customer.objects.create(name=name or f"客户{next(_numbers)}", owner=owner, tier=tier, created_by=owner)


def order(customer_, total, *, on=TODAY, state=OrderState.CONFIRMED, received="0", owner=None) -> Order:
    n = next(_numbers)
    return Order.objects.create(
        number=f"SO-T-{n:05d}",
        customer=customer_,
        owner=owner or customer_.owner,
        state=state,
        ordered_on=on,
        total=Decimal(total),
        received_amount=Decimal(received),
    )


def plan(customer_, amount, due_on, *, order_=None, contract=None, received="0", owner=None, state=None) -> PaymentPlan:
    amount, received = Decimal(amount), Decimal(received)
    if state is None:
        state = PlanState.PAID if received >= amount else PlanState.PARTLY_PAID if received else PlanState.NOT_DUE
    return PaymentPlan.objects.create(
        customer=customer_,
        order=order_,
        contract=contract,
        owner=owner or customer_.owner,
        amount=amount,
        due_on=due_on,
        received_amount=received,
        state=state,
    )


def payment(customer_, amount, on, *, refund=False, owner=None, state=PaymentState.CONFIRMED, reverses=None) -> Payment:
    n = next(_numbers)
    return Payment.objects.create(
        number=f"HK-T-{n:05d}",
        customer=customer_,
        owner=owner or customer_.owner,
        amount=Decimal(amount),
        received_on=on,
        is_refund=refund,
        state=state,
        reverses=reverses,
    )


def refresh(customer_ids, today: date = TODAY) -> None:
    """Write the balances of these customers (see the module docstring)."""
    try:
        from kehu.receivables import balances
    except ImportError:
        balances = None
    if balances is not None and hasattr(balances, "balances_refresh"):
        try:
            balances.balances_refresh(list(customer_ids), today=today)
        except TypeError:
            balances.balances_refresh(list(customer_ids))
        return
    _refresh_here(list(customer_ids), today)


def _refresh_here(ids: list[int], today: date) -> None:
    from kehu.receivables.credit import exposure_compute

    zero = Decimal("0")
    exposures = exposure_compute(ids)
    owners = dict(Customer.objects.filter(pk__in=ids).values_list("pk", "owner_id"))
    CustomerBalance.objects.filter(customer_id__in=ids).delete()
    plans = list(PaymentPlan.objects.filter(customer_id__in=ids, state__in=OPEN_PLAN_STATES))
    for pk in ids:
        mine = [p for p in plans if p.customer_id == pk]
        owed = sum((p.outstanding for p in mine), zero)
        overdue = sum((p.outstanding for p in mine if p.due_on and p.due_on < today), zero)
        dated = [p.due_on for p in mine if p.due_on and p.outstanding]
        booked = Order.objects.filter(customer_id=pk, state__in=(OrderState.CONFIRMED, OrderState.COMPLETED))
        not_invoiced = sum((o.total - o.invoiced_amount for o in booked), zero)
        CustomerBalance.objects.create(
            customer_id=pk,
            owner_id=owners.get(pk),
            owed=owed,
            overdue=overdue,
            not_due=owed - overdue,
            not_invoiced=not_invoiced,
            exposure=exposures[pk],
            oldest_due_on=min(dated) if dated else None,
            updated_at=timezone.now(),
        )
    DueDay.objects.all().delete()
    days: dict[tuple[int, date], list] = {}
    for p in PaymentPlan.objects.filter(state__in=OPEN_PLAN_STATES, due_on__isnull=False):
        if p.outstanding:
            entry = days.setdefault((p.owner_id, p.due_on), [zero, 0])
            entry[0] += p.outstanding
            entry[1] += 1
    DueDay.objects.bulk_create(
        DueDay(owner_id=owner, due_on=due_on, outstanding=amount, plans=n)
        for (owner, due_on), (amount, n) in days.items()
    )


def days_ago(n: int, today: date = TODAY) -> date:
    return today - timedelta(days=n)
