"""A credit exception at each stage the company may choose (CLS-4), through the real services of the
orders and the invoices: the order is held on confirming, the delivery on recording it, the invoice
request on submitting it — each only at the chosen stage."""

from decimal import Decimal

import pytest

from kehu.approvals.models import ApprovalRequest
from kehu.classification.models import CreditRecord
from kehu.invoices import services as invoice_services
from kehu.invoices.tests.factories import make_title
from kehu.orders import services as order_services
from kehu.orders.models import Delivery, OrderLine, OrderState
from kehu.orders.tests.factories import confirm, make_order
from kehu.receivables.models import CreditStage, ReceivablesSettings
from kehu.receivables.tests.reports_fixtures import TODAY, _credit_answers  # noqa: F401

pytestmark = pytest.mark.django_db
REASON = "The exposure 0.00 plus 925.00 is over the credit limit 500.00."


@pytest.fixture
def book(db):
    from kehu.quotes.tests.factories import Book

    return Book()


@pytest.fixture
def draft(team, book, customer_of):
    """rep1's draft order of 925.00 with tax for a customer whose credit limit is 500.00."""
    customer = customer_of(team.rep1, tier="ordinary")
    CreditRecord.objects.create(customer=customer, rating="B", limit=Decimal("500"), investigated_on=TODAY)
    return make_order(customer, team.rep1, [(book.lathe_a.pk, 3), (book.oil_46.pk, "2.5")])


def stage(value: str) -> None:
    conf = ReceivablesSettings.current()
    conf.credit_stage = value
    conf.save()


def test_held_at_the_order_stage(team, draft):
    stage(CreditStage.ORDER)
    order = confirm(draft, team.rep1)
    assert order.state == OrderState.PENDING and order.credit_hold
    assert REASON in order.credit_note
    assert ApprovalRequest.objects.filter(document_type="order.credit", object_id=order.pk).exists()


def test_held_at_the_delivery_stage(team, draft):
    stage(CreditStage.DELIVERY)
    order = confirm(draft, team.rep1)
    assert order.state == OrderState.CONFIRMED and not order.credit_hold
    line = OrderLine.objects.get(order=order, position=1)
    delivery = order_services.delivery_record(order=order, actor=team.rep1, lines=[(line.pk, 3)])
    order.refresh_from_db()
    # the order is booked now: its 925.00 is inside the exposure, which is over the limit
    assert delivery.is_held and order.credit_hold and order.delivered_amount == 0
    assert "The exposure 925.00 is over the credit limit 500.00." in order.credit_note
    assert Delivery.objects.filter(order=order, is_held=True).count() == 1


def test_held_at_the_invoice_stage(team, draft):
    stage(CreditStage.INVOICE)
    order = confirm(draft, team.rep1)
    assert order.state == OrderState.CONFIRMED and not order.credit_hold
    line = OrderLine.objects.get(order=order, position=1)
    delivery = order_services.delivery_record(order=order, actor=team.rep1, lines=[(line.pk, 3)])
    assert not delivery.is_held
    make_title(order.customer, team.rep1)
    invoice = invoice_services.invoice_request(customer=order.customer, actor=team.rep1, order=order, submit=True)
    assert invoice.state == "pending"
    request = ApprovalRequest.objects.get(document_type="invoice.credit", object_id=invoice.pk)
    assert request.reason == "The exposure 925.00 is over the credit limit 500.00."


def test_off_holds_nothing(team, draft):
    stage(CreditStage.OFF)
    order = confirm(draft, team.rep1)
    assert order.state == OrderState.CONFIRMED and not order.credit_hold
