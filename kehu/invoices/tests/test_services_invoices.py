from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from kehu.approvals.models import ApprovalFlow, ApprovalRequest
from kehu.approvals.services import flow_set_active, request_act
from kehu.contracts.models import Contract
from kehu.core import lookups
from kehu.customers.models import TimelineEntry
from kehu.invoices import services
from kehu.invoices.models import Invoice, InvoiceLine
from kehu.invoices.tests.factories import make_contract, make_order, make_title
from kehu.orders.models import Order, OrderLine

D = Decimal


def lines_of(invoice):
    return list(
        InvoiceLine.objects.filter(invoice=invoice)
        .order_by("position")
        .values_list("name", "quantity", "unit_price", "tax_rate", "amount", "amount_net", "tax")
    )


def approve(invoice, user, code="invoice"):
    request = ApprovalRequest.objects.get(document_type=code, object_id=invoice.pk, state="pending")
    request_act(request=request, actor=user, action="approve")
    invoice.refresh_from_db()
    return invoice


def issued(invoice, team, finance, number="04400123"):
    services.invoice_submit(invoice=invoice, actor=team.rep1)
    approve(invoice, team.manager1)
    return services.invoice_issue(invoice=invoice, actor=finance, invoice_number=number, issued_on=date(2026, 3, 5))


def test_a_request_of_an_order_takes_what_is_left_of_each_line_with_amounts_per_line(order, title, team):
    invoice = services.invoice_request(customer=order.customer, actor=team.rep1, order=order)
    assert invoice.state == "draft" and invoice.number.startswith("FP")
    assert lines_of(invoice) == [
        ("数控车床", D("3.000"), D("100.0000"), D("13.00"), D("300.00"), D("265.49"), D("34.51")),
        ("液压油", D("7.000"), D("33.3333"), D("9.00"), D("233.33"), D("214.06"), D("19.27")),
    ]
    assert (invoice.amount, invoice.amount_net, invoice.tax, invoice.line_count) == (
        D("533.33"), D("479.55"), D("53.78"), 2,
    )  # fmt: skip
    # The title is copied onto the invoice.
    assert (invoice.title_id, invoice.title_name, invoice.tax_number) == (title.pk, title.name, title.tax_number)


def test_invoicing_more_than_an_order_line_has_left_is_refused(order, title, team):
    first_line, second_line = OrderLine.objects.filter(order=order).order_by("position")
    invoice = services.invoice_request(
        customer=order.customer, actor=team.rep1, order=order, lines=[(first_line.pk, 2)], submit=True
    )
    assert invoice.state == "pending"
    with pytest.raises(ValidationError) as refused:
        services.invoice_request(customer=order.customer, actor=team.rep1, order=order, lines=[(first_line.pk, 2)])
    assert refused.value.message_dict["lines"] == ["Line 1: 数控车床 has 1 台 left to invoice, not 2."]
    assert Invoice.objects.count() == 1
    # A draft holds nothing: two drafts of the rest, and the second sent fails.
    rest_a = services.invoice_request(customer=order.customer, actor=team.rep1, order=order)
    rest_b = services.invoice_request(customer=order.customer, actor=team.rep1, order=order)
    services.invoice_submit(invoice=rest_a, actor=team.rep1)
    with pytest.raises(ValidationError) as late:
        services.invoice_submit(invoice=rest_b, actor=team.rep1)
    assert late.value.message_dict["lines"][0] == "数控车床 has 0 台 left to invoice, not 1."
    assert Invoice.objects.get(pk=rest_b.pk).state == "draft"


def test_the_last_part_of_a_line_takes_what_is_left_of_its_amount(customer, title, team, book, finance):
    order = make_order(customer, team.rep1, [(book.lathe_a, "3", "33.335", "13")])  # 100.005 → 100.01
    line = OrderLine.objects.get(order=order)
    assert line.amount == D("100.01")
    amounts = []
    for number in ("1", "2", "3"):
        invoice = services.invoice_request(customer=customer, actor=team.rep1, order=order, lines=[(line.pk, 1)])
        issued(invoice, team, finance, number=f"0440000{number}")
        amounts.append(invoice.amount)
    assert amounts == [D("33.34"), D("33.34"), D("33.33")]
    order.refresh_from_db()
    assert order.invoiced_amount == order.total == D("100.01")


def test_approval_then_issue_rolls_up_to_the_order_and_the_contract(customer, title, team, finance, book):
    contract = make_contract(customer, team.rep1)
    order = make_order(customer, team.rep1, [(book.lathe_a, "3", "100", "13")], contract=contract)
    line = OrderLine.objects.get(order=order)
    invoice = services.invoice_request(customer=customer, actor=team.rep1, order=order, lines=[(line.pk, 2)])
    assert invoice.contract_id == contract.pk
    services.invoice_submit(invoice=invoice, actor=team.rep1)
    assert invoice.state == "pending"
    approve(invoice, team.manager1)
    assert invoice.state == "approved" and invoice.approved_at is not None
    services.invoice_issue(
        invoice=invoice,
        actor=finance,
        invoice_number="04400123",
        issued_on=date(2026, 3, 5),
        invoice_type="ordinary",
        logistics_number="SF1234567890",
    )
    invoice.refresh_from_db()
    assert (invoice.state, invoice.invoice_number, invoice.issued_on, invoice.invoice_type) == (
        "issued", "04400123", date(2026, 3, 5), "ordinary",
    )  # fmt: skip
    assert (invoice.logistics_number, invoice.issued_by_id) == ("SF1234567890", finance.pk)
    order.refresh_from_db()
    line.refresh_from_db()
    assert (order.invoiced_amount, line.invoiced_quantity) == (D("200.00"), D("2.000"))
    # An invoice of the contract itself (typed lines) adds to the contract, not to the order.
    typed = services.invoice_request(
        customer=customer,
        actor=team.rep1,
        contract=contract,
        lines=[{"name": "安装调试服务", "unit": "次", "quantity": "1", "unit_price": "500", "tax_rate": "6"}],
    )
    assert lines_of(typed) == [
        ("安装调试服务", D("1.000"), D("500.0000"), D("6.00"), D("500.00"), D("471.70"), D("28.30"))
    ]
    issued(typed, team, finance, number="04400124")
    assert Contract.objects.get(pk=contract.pk).invoiced_amount == D("700.00")
    assert Order.objects.get(pk=order.pk).invoiced_amount == D("200.00")


def test_red_letter_reversal(order, title, team, finance):
    invoice = services.invoice_request(customer=order.customer, actor=team.rep1, order=order)
    issued(invoice, team, finance)
    assert Order.objects.get(pk=order.pk).invoiced_amount == D("533.33")
    with pytest.raises(ValidationError) as no_reason:
        services.invoice_reverse(invoice=invoice, actor=finance, reason="  ")
    assert no_reason.value.message_dict["reason"] == ["Give the reason for the reversal."]
    with pytest.raises(PermissionDenied):
        services.invoice_reverse(invoice=invoice, actor=team.manager1, reason="开错了")
    assert Invoice.objects.count() == 1
    red = services.invoice_reverse(invoice=invoice, actor=finance, reason="抬头开错", invoice_number="04400999")
    invoice.refresh_from_db()
    assert invoice.state == "reversed" and invoice.reversal_reason == "抬头开错"
    assert (red.is_red, red.state, red.reverses_id, red.amount, red.amount_net, red.tax) == (
        True, "issued", invoice.pk, D("-533.33"), D("-479.55"), D("-53.78"),
    )  # fmt: skip
    assert [(q, a) for _n, q, _p, _r, a, _net, _t in lines_of(red)] == [
        (D("-3.000"), D("-300.00")),
        (D("-7.000"), D("-233.33")),
    ]
    order.refresh_from_db()
    assert order.invoiced_amount == D("0.00")
    assert list(OrderLine.objects.filter(order=order).values_list("invoiced_quantity", flat=True)) == [D("0"), D("0")]
    # Not twice, and a red invoice is not reversed.
    for target in (invoice, red):
        with pytest.raises(ValidationError):
            services.invoice_reverse(invoice=target, actor=finance, reason="再冲")
    assert Invoice.objects.count() == 2
    # What was reversed may be invoiced again.
    again = services.invoice_request(customer=order.customer, actor=team.rep1, order=order)
    assert again.amount == D("533.33")


def test_only_finance_issues_and_a_refused_issue_changes_nothing(order, title, team, finance):
    invoice = services.invoice_request(customer=order.customer, actor=team.rep1, order=order, submit=True)
    approve(invoice, team.manager1)
    for who in (team.rep1, team.manager1):
        with pytest.raises(PermissionDenied):
            services.invoice_issue(invoice=invoice, actor=who, invoice_number="1")
    with pytest.raises(ValidationError) as future:
        services.invoice_issue(
            invoice=invoice, actor=finance, invoice_number="1", issued_on=timezone.localdate() + timedelta(days=1)
        )
    assert future.value.message_dict["issued_on"] == ["The invoice date cannot be in the future."]
    invoice.refresh_from_db()
    assert (invoice.state, invoice.invoice_number) == ("approved", "")
    assert Order.objects.get(pk=order.pk).invoiced_amount == D("0")


def test_the_approver_needs_the_permission_to_approve_invoices(order, title, team):
    invoice = services.invoice_request(customer=order.customer, actor=team.rep1, order=order, submit=True)
    request = ApprovalRequest.objects.get(document_type="invoice", object_id=invoice.pk)
    assert list(request.tasks.values_list("approver__username", flat=True)) == ["manager1"]
    team.manager1.role = "marketing"
    team.manager1.save()
    team.manager1 = type(team.manager1).objects.get(pk=team.manager1.pk)
    with pytest.raises(ValidationError) as refused:
        request_act(request=request, actor=team.manager1, action="approve")
    assert "Only people who may approve invoice requests" in refused.value.messages[0]
    assert Invoice.objects.get(pk=invoice.pk).state == "pending"


def test_a_rejection_puts_the_request_back_to_draft(order, title, team):
    invoice = services.invoice_request(customer=order.customer, actor=team.rep1, order=order, submit=True)
    request = ApprovalRequest.objects.get(document_type="invoice", object_id=invoice.pk)
    request_act(request=request, actor=team.manager1, action="reject", comment="数量不对")
    invoice.refresh_from_db()
    assert invoice.state == "draft"
    kinds = list(TimelineEntry.objects.filter(customer=order.customer).values_list("kind", "summary"))
    assert ("invoice_approval_rejected", f"{invoice.number} · ¥533.33 · 数量不对") in kinds


def test_with_the_flow_switched_off_a_request_is_approved_at_once(order, title, team):
    flow_set_active(document_type="invoice", is_active=False, actor=team.admin)
    invoice = services.invoice_request(customer=order.customer, actor=team.rep1, order=order, submit=True)
    assert invoice.state == "approved"
    assert not ApprovalRequest.objects.filter(object_id=invoice.pk, document_type__startswith="invoice").exists()


@pytest.fixture
def credit_answer():
    """A real answer to the credit check: customers named in `held` are held at the invoice stage."""
    held, asked = set(), []

    def check(customer_id, amount, stage):
        asked.append((customer_id, amount, stage))
        return lookups.CreditVerdict(
            held=customer_id in held,
            limit=D("1000"),
            exposure=D("900"),
            overdue=D("0"),
            reasons=("超出信用额度",) if customer_id in held else (),
        )

    saved = list(lookups._answers.get(lookups.CREDIT_CHECK.name, []))
    lookups._answers[lookups.CREDIT_CHECK.name] = [check]
    yield held, asked
    lookups._answers[lookups.CREDIT_CHECK.name] = saved


def test_a_held_request_needs_a_credit_exception_first(order, title, team, finance, credit_answer):
    held, asked = credit_answer
    held.add(order.customer_id)
    invoice = services.invoice_request(customer=order.customer, actor=team.rep1, order=order, submit=True)
    assert asked == [(order.customer_id, D("533.33"), "invoice")]
    assert invoice.state == "pending"
    credit = ApprovalRequest.objects.get(document_type="invoice.credit", object_id=invoice.pk)
    assert credit.reason == "超出信用额度" and credit.facts["exposure"] == "900"
    assert list(credit.tasks.values_list("approver__username", flat=True)) == ["finance1"]
    assert not ApprovalRequest.objects.filter(document_type="invoice", object_id=invoice.pk).exists()
    approve(invoice, finance, code="invoice.credit")
    assert invoice.state == "pending"  # on to its own approval
    approve(invoice, team.manager1)
    assert invoice.state == "approved"


def test_the_credit_exception_needs_its_permission(order, title, team, credit_answer):
    held, _asked = credit_answer
    held.add(order.customer_id)
    invoice = services.invoice_request(customer=order.customer, actor=team.rep1, order=order, submit=True)
    credit = ApprovalRequest.objects.get(document_type="invoice.credit", object_id=invoice.pk)
    # No finance user: the administrator is asked; a marketing user transferred to may not approve.
    assert list(credit.tasks.values_list("approver__username", flat=True)) == ["admin"]
    request_act(request=credit, actor=team.admin, action="transfer", user=team.marketing1.pk)
    with pytest.raises(ValidationError) as refused:
        request_act(request=credit, actor=team.marketing1, action="approve")
    assert "Only people who may approve credit exceptions" in refused.value.messages[0]


def test_a_request_not_held_goes_straight_to_its_approval(order, title, team, credit_answer):
    invoice = services.invoice_request(customer=order.customer, actor=team.rep1, order=order, submit=True)
    assert ApprovalRequest.objects.filter(document_type="invoice", object_id=invoice.pk).exists()
    assert not ApprovalRequest.objects.filter(document_type="invoice.credit", object_id=invoice.pk).exists()


def test_a_special_invoice_needs_a_complete_company_title(customer, team, order):
    person = make_title(customer, team.rep1, kind="person", name="张伟", tax_number="")
    with pytest.raises(ValidationError) as refused:
        services.invoice_request(customer=customer, actor=team.rep1, order=order, title=person)
    assert refused.value.message_dict["title"] == ["A special VAT invoice (专票) is made out to a company only."]
    ordinary = services.invoice_request(
        customer=customer, actor=team.rep1, order=order, title=person, invoice_type="ordinary"
    )
    assert ordinary.title_name == "张伟"
    bare = make_title(customer, team.rep1, name="华星", bank_name="", phone="")
    with pytest.raises(ValidationError) as missing:
        services.invoice_request(customer=customer, actor=team.rep1, order=order, title=bare)
    assert missing.value.message_dict["title"] == [
        "A special VAT invoice (专票) needs the title's bank, registered phone."
    ]


def test_no_title_no_request(order, team):
    with pytest.raises(ValidationError) as refused:
        services.invoice_request(customer=order.customer, actor=team.rep1, order=order)
    assert refused.value.message_dict["title"] == ["Add an invoice title (抬头) for this customer first."]


def test_an_unrelated_rep_may_not_request_nor_change(order, title, team):
    with pytest.raises(PermissionDenied):
        services.invoice_request(customer=order.customer, actor=team.rep3, order=order)
    invoice = services.invoice_request(customer=order.customer, actor=team.rep1, order=order)
    with pytest.raises(PermissionDenied):
        services.invoice_submit(invoice=invoice, actor=team.rep3)
    with pytest.raises(PermissionDenied):
        services.invoice_cancel(invoice=invoice, actor=team.rep3)
    assert Invoice.objects.get(pk=invoice.pk).state == "draft"


def test_the_timeline_and_the_webhook(order, title, team, finance, django_capture_on_commit_callbacks):
    from kehu.webhooks.models import WebhookDelivery
    from kehu.webhooks.services import webhook_subscription_create

    webhook_subscription_create(actor=team.admin, url="https://example.com/hook", events=["invoice.issued"])
    invoice = services.invoice_request(customer=order.customer, actor=team.rep1, order=order)
    with django_capture_on_commit_callbacks(execute=True):
        issued(invoice, team, finance)
    with django_capture_on_commit_callbacks(execute=True):
        services.invoice_reverse(invoice=invoice, actor=finance, reason="退货")
    kinds = list(
        TimelineEntry.objects.filter(customer=order.customer, kind__startswith="invoice_")
        .order_by("pk")
        .values_list("kind", flat=True)
    )
    assert kinds == [
        "invoice_title_saved",
        "invoice_requested",
        "invoice_approved",
        "invoice_issued",
        "invoice_reversed",
    ]
    delivery = WebhookDelivery.objects.get(event="invoice.issued")
    assert delivery.payload["invoice_number"] == "04400123"
    assert delivery.payload["amount"] == "533.33"


def test_flows_start_switched_on(db):
    assert not ApprovalFlow.objects.exists()
    from kehu.invoices import approval

    assert approval.invoice_required() and approval.credit_required()


def test_an_orders_invoice_follows_the_orders_contract_whatever_its_stage(customer, title, team, book):
    contract = make_contract(customer, team.rep1)
    Contract.objects.filter(pk=contract.pk).update(stage="terminated")
    order = make_order(customer, team.rep1, [(book.lathe_a, "1", "100", "13")], contract=contract)
    invoice = services.invoice_request(customer=customer, actor=team.rep1, order=order)
    assert invoice.contract_id == contract.pk
    contract.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        services.invoice_request(customer=customer, actor=team.rep1, contract=contract, lines=[])
    assert refused.value.message_dict["contract"] == ["Only a signed contract is invoiced."]
    with pytest.raises(ValidationError) as empty:
        services.invoice_request(customer=customer, actor=team.rep1, order=order, lines=[])
    assert empty.value.message_dict["lines"] == ["Add at least one line."]


def test_editing_a_draft_replaces_its_lines_and_copies_the_title_again(order, title, team):
    other = make_title(order.customer, team.rep1, name="华星（上海）", tax_number="91110000600037341L")
    invoice = services.invoice_request(customer=order.customer, actor=team.rep1, order=order)
    first = OrderLine.objects.filter(order=order).order_by("position").first()
    services.invoice_update(
        invoice=invoice, actor=team.rep1, title=other, lines=[(first.pk, "1.5")], replace_lines=True
    )
    invoice.refresh_from_db()
    assert (invoice.title_name, invoice.tax_number, invoice.amount, invoice.line_count) == (
        "华星（上海）", "91110000600037341L", D("150.00"), 1,
    )  # fmt: skip
    services.invoice_submit(invoice=invoice, actor=team.rep1)
    with pytest.raises(ValidationError):
        services.invoice_update(invoice=invoice, actor=team.rep1, notes="改")
    services.invoice_withdraw(invoice=invoice, actor=team.rep1)
    assert invoice.state == "draft"
    assert not ApprovalRequest.objects.filter(object_id=invoice.pk, state="pending").exists()
    services.invoice_cancel(invoice=invoice, actor=team.rep1)
    assert Invoice.objects.get(pk=invoice.pk).state == "cancelled"


def test_the_rollups_are_rebuilt_from_the_invoices(customer, title, team, finance, book):
    from io import StringIO

    from django.core.management import call_command

    contract = make_contract(customer, team.rep1)
    order = make_order(customer, team.rep1, [(book.lathe_a, "3", "100", "13")], contract=contract)
    invoice = services.invoice_request(customer=customer, actor=team.rep1, order=order)
    issued(invoice, team, finance)
    Order.objects.filter(pk=order.pk).update(invoiced_amount=0)
    OrderLine.objects.filter(order=order).update(invoiced_quantity=0)
    Contract.objects.filter(pk=contract.pk).update(invoiced_amount=0)
    out = StringIO()
    call_command("invoice_rollups", stdout=out)
    assert out.getvalue().strip() == "Invoiced amounts written for 2 orders and contracts."
    assert Order.objects.get(pk=order.pk).invoiced_amount == D("300.00")
    assert OrderLine.objects.get(order=order).invoiced_quantity == D("3")
    assert Contract.objects.get(pk=contract.pk).invoiced_amount == D("300.00")
