"""Data for the report tests: customers with orders, plans and payments on a controlled day, and the
balances written from them.

The balances are written by `kehu.receivables.balances.balances_refresh`, the app's own writer.
"""

from datetime import date, timedelta
from decimal import Decimal
from itertools import count

import pytest

from kehu.customers.models import Customer
from kehu.orders.models import Order, OrderState
from kehu.receivables.balances import balances_refresh
from kehu.receivables.models import (
    Payment,
    PaymentPlan,
    PaymentState,
    PlanState,
)

TODAY = date(2026, 6, 30)
_numbers = count(1)


@pytest.fixture(autouse=True)
def _credit_answers():
    """The answers `credit.register()` gives (the receivables AppConfig's `ready` calls it once that
    line is in; until then the report tests register them here and put the registry back after)."""
    from kehu.core import lookups
    from kehu.receivables import credit

    saved = {q.name: list(lookups._answers.get(q.name, [])) for q in (lookups.CREDIT_CHECK, lookups.OVER_CREDIT_LIMIT)}
    credit.register()
    yield
    for name, answers in saved.items():
        lookups._answers[name] = answers


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
    """Write the balances of these customers as the receivables services do in their transactions."""
    balances_refresh(list(customer_ids), today=today)


def days_ago(n: int, today: date = TODAY) -> date:
    return today - timedelta(days=n)
