"""Orders, contracts and titles for the invoices' tests (order rows written as the orders app keeps them)."""

from datetime import date
from decimal import Decimal

from kehu.contracts.models import Contract, ContractStage
from kehu.core import money
from kehu.orders.models import Order, OrderLine, OrderState
from kehu.quotes.tests.factories import Book

# A company's valid unified social credit code, and a second one.
CODE_A = "91350100M000100Y43"
CODE_B = "91110000600037341L"


def make_contract(customer, owner, *, number="HT2026-0001", amount="10000"):
    return Contract.objects.create(
        number=number,
        title="年度供货合同",
        customer=customer,
        owner=owner,
        stage=ContractStage.SIGNED,
        signed_amount=Decimal(amount),
        amount=Decimal(amount),
        signed_on=date(2026, 1, 5),
    )


def make_order(customer, owner, lines, *, number="SO2026-0001", contract=None, state=OrderState.CONFIRMED):
    """A confirmed order; `lines` are (specification, quantity, unit price, tax rate)."""
    order = Order.objects.create(
        number=number, customer=customer, owner=owner, contract=contract, state=state, ordered_on=date(2026, 3, 1)
    )
    total = net = tax = Decimal("0")
    for position, (spec, quantity, price, rate) in enumerate(lines, start=1):
        amounts = money.line_amounts(Decimal(quantity), Decimal(price), 0, Decimal(rate))
        OrderLine.objects.create(
            order=order,
            position=position,
            customer=customer,
            ordered_on=order.ordered_on,
            is_booked=state in (OrderState.CONFIRMED, OrderState.COMPLETED),
            product_id=spec.product_id,
            specification=spec,
            code=spec.code,
            name=spec.product.name,
            specification_name=spec.name,
            unit=spec.product.unit,
            quantity=Decimal(quantity),
            base_price=Decimal(price),
            unit_price=amounts.unit_price,
            tax_rate=Decimal(rate),
            amount=amounts.amount,
            amount_net=amounts.amount_net,
            tax=amounts.tax,
        )
        total, net, tax = total + amounts.amount, net + amounts.amount_net, tax + amounts.tax
    Order.objects.filter(pk=order.pk).update(line_count=len(lines), total=total, total_net=net, total_tax=tax)
    order.refresh_from_db()
    return order


def make_title(customer, actor, **fields):
    from kehu.invoices.services import invoice_title_create

    values = {
        "kind": "company",
        "name": customer.name,
        "tax_number": CODE_A,
        "bank_name": "中国工商银行苏州分行",
        "bank_account": "1102020109000123456",
        "address": "苏州市工业园区星湖街 88 号",
        "phone": "0512-68881234",
    }
    values.update(fields)
    return invoice_title_create(customer=customer, actor=actor, **values)


__all__ = ["Book", "CODE_A", "CODE_B", "make_contract", "make_order", "make_title"]
