from datetime import date
from decimal import Decimal

import pytest

from kehu.users.models import User
from kehu.users.roles import Role


@pytest.fixture
def finance(team):
    u = User(username="finance1", role=Role.FINANCE, email="finance1@example.com", department=team.hq)
    u.set_password("kehu-test-pw")
    u.save()
    return u


@pytest.fixture
def contract_of():
    """A signed contract row (the contracts app's own services write them in its tests)."""
    from kehu.contracts.models import Contract, ContractStage

    counter = {"n": 0}

    def make(customer, amount="10000.00", signed_on=date(2026, 3, 1), **fields):
        counter["n"] += 1
        fields.setdefault("stage", ContractStage.SIGNED)
        return Contract.objects.create(
            number=f"HT2026-{counter['n']:04d}",
            title="供货合同",
            customer=customer,
            owner=customer.owner,
            amount=Decimal(amount),
            signed_amount=Decimal(amount),
            signed_on=signed_on,
            **fields,
        )

    return make


@pytest.fixture
def order_of():
    """A confirmed order row with its total (the orders app's services write them in its tests)."""
    from kehu.orders.models import Order, OrderState

    counter = {"n": 0}

    def make(customer, total="10000.00", contract=None, **fields):
        counter["n"] += 1
        fields.setdefault("state", OrderState.CONFIRMED)
        fields.setdefault("ordered_on", date(2026, 3, 1))
        return Order.objects.create(
            number=f"SO2026-{counter['n']:04d}",
            customer=customer,
            owner=customer.owner,
            contract=contract,
            total=Decimal(total),
            **fields,
        )

    return make


@pytest.fixture
def clock(monkeypatch):
    """A controlled clock: clock(date) makes timezone.localdate() and now() answer that day (noon)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    def set_to(day: date):
        moment = datetime(day.year, day.month, day.day, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return set_to
