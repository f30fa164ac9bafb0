from decimal import Decimal

from kehu.demo import invoices_demo
from kehu.invoices.models import Invoice, InvoiceTitle
from kehu.invoices.tests.factories import make_order
from kehu.orders.models import Order


def test_the_demo_invoices_booked_orders_and_reverses_one(team, customer_of, book):
    customers = [customer_of(team.rep1, name=f"演示客户{n}有限公司") for n in range(4)]
    for n, customer in enumerate(customers):
        make_order(customer, team.rep1, [(book.lathe_a, "2", "100", "13")], number=f"SO-D-{n}")
    users = {"admin": team.admin, "rep1": team.rep1, "rep2": team.rep2, "rep3": team.rep3}
    counts = invoices_demo.seed(users, seed=1)
    assert counts["titles"] == 4 and counts["issued"] == 2 and counts["reversed"] == 1
    assert InvoiceTitle.objects.filter(is_default=True).count() == 4
    states = sorted(Invoice.objects.values_list("state", "is_red"))
    assert states == [("draft", False), ("issued", False), ("issued", True), ("pending", False), ("reversed", False)]
    invoiced = sorted(Order.objects.values_list("invoiced_amount", flat=True))
    assert invoiced == [Decimal("0"), Decimal("0"), Decimal("0"), Decimal("200.00")]


def test_made_up_credit_codes_are_valid():
    import random

    from kehu.customers.services import credit_code_is_valid

    rng = random.Random(3)
    assert all(credit_code_is_valid(invoices_demo.credit_code(rng)) for _ in range(50))
