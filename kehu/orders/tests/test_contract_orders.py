"""Orders against a contract: the remaining lines are copied; ordered and delivered roll up."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from kehu.contracts.models import Contract, ContractLine, ContractStage
from kehu.orders import services
from kehu.orders.models import OrderLine, OrderState
from kehu.orders.tests.factories import confirm


@pytest.fixture
def contract(book, customer, team):
    contract = Contract.objects.create(
        number="HT2026-0001",
        title="年度采购合同",
        customer=customer,
        owner=team.rep1,
        stage=ContractStage.SIGNED,
        signed_amount=Decimal("1900.00"),
        amount=Decimal("1900.00"),
        signed_on=date(2026, 1, 5),
        payment_terms="月结30天",
    )
    ContractLine.objects.create(
        contract=contract, position=1, product=book.lathe, specification=book.lathe_a, code="CK6140-A",
        name="数控车床", specification_name="1000mm", unit="台", quantity=Decimal("10"), unit_price=Decimal("90"),
        discount=Decimal("10"), tax_rate=Decimal("13"), amount=Decimal("900.00"), amount_net=Decimal("796.46"),
        tax=Decimal("103.54"),
    )  # fmt: skip
    ContractLine.objects.create(
        contract=contract, position=2, product=book.oil, specification=book.oil_46, code="YY-46-200L",
        name="液压油", specification_name="200L", unit="桶", quantity=Decimal("4"), unit_price=Decimal("250"),
        discount=Decimal("0"), tax_rate=Decimal("9"), amount=Decimal("1000.00"), amount_net=Decimal("917.43"),
        tax=Decimal("82.57"),
    )  # fmt: skip
    return contract


def test_an_order_from_a_contract_copies_what_is_left_and_rolls_up(contract, team):
    first = services.order_create(contract=contract, actor=team.rep1)
    assert first.source == "contract" and first.payment_terms == "月结30天"
    assert first.total == Decimal("1900.00")
    line = OrderLine.objects.get(order=first, position=1)
    assert (line.unit_price, line.discount, line.base_price) == (Decimal("90"), Decimal("10"), Decimal("100.0000"))
    services.order_line_update(line=line, actor=team.rep1, quantity=6)  # the contract's price stays
    services.order_line_remove(line=OrderLine.objects.get(order=first, position=2), actor=team.rep1)
    first.refresh_from_db()
    assert first.total == Decimal("540.00")
    first = confirm(first, team.rep1)
    assert first.state == OrderState.CONFIRMED  # signed prices: no price approval
    contract.refresh_from_db()
    assert contract.ordered_amount == Decimal("540.00") and contract.stage == ContractStage.PERFORMING
    services.delivery_record(order=first, actor=team.rep1, lines=[(line.pk, 2)])
    contract.refresh_from_db()
    assert contract.delivered_amount == Decimal("180.00")

    second = services.order_create(contract=contract, actor=team.rep1)
    left = list(OrderLine.objects.filter(order=second).order_by("position").values_list("code", "quantity"))
    assert left == [("CK6140-A", Decimal("4")), ("YY-46-200L", Decimal("4"))]
    second = confirm(second, team.rep1)
    contract.refresh_from_db()
    assert contract.ordered_amount == Decimal("1900.00")
    with pytest.raises(ValidationError, match="already ordered"):
        services.order_create(contract=contract, actor=team.rep1)
    services.order_transition(order=second, to=OrderState.CANCELLED, actor=team.rep1)
    contract.refresh_from_db()
    assert contract.ordered_amount == Decimal("540.00")


def test_a_draft_contract_cannot_be_ordered_against(contract, team):
    Contract.objects.filter(pk=contract.pk).update(stage=ContractStage.DRAFT)
    contract.refresh_from_db()
    with pytest.raises(ValidationError, match="in force"):
        services.order_create(contract=contract, actor=team.rep1)
