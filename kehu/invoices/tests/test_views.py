from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from kehu.approvals.models import ApprovalRequest
from kehu.approvals.services import request_act
from kehu.invoices import services
from kehu.invoices.models import Invoice, InvoiceTitle
from kehu.invoices.tests.factories import CODE_B
from kehu.orders.models import Order, OrderLine

D = Decimal


@pytest.fixture
def draft(order, title, team):
    return services.invoice_request(customer=order.customer, actor=team.rep1, order=order)


def approved(invoice, team):
    services.invoice_submit(invoice=invoice, actor=team.rep1)
    request = ApprovalRequest.objects.get(document_type="invoice", object_id=invoice.pk)
    request_act(request=request, actor=team.manager1, action="approve")
    invoice.refresh_from_db()
    return invoice


def test_the_request_form_of_an_order_fills_in_what_is_left(client, team, order, title):
    client.force_login(team.rep1)
    page = client.get(reverse("invoices:new") + f"?order={order.pk}")
    assert page.status_code == 200
    html = page.content.decode()
    first, second = OrderLine.objects.filter(order=order).order_by("position")
    assert f'name="qty-{first.pk}" inputmode="decimal" maxlength="20" value="3"' in html
    assert f'name="qty-{second.pk}" inputmode="decimal" maxlength="20" value="7"' in html
    sent = client.post(
        reverse("invoices:new"),
        {"order": order.pk, "title": title.pk, "invoice_type": "special", f"qty-{first.pk}": "2", "submit": "1"},
    )
    invoice = Invoice.objects.get()
    assert sent.status_code == 302 and sent["Location"] == reverse("invoices:detail", args=[invoice.pk])
    assert (invoice.state, invoice.amount, invoice.line_count) == ("pending", D("200.00"), 1)


def test_the_form_shows_what_is_wrong_and_saves_nothing(client, team, order, title):
    client.force_login(team.rep1)
    first = OrderLine.objects.filter(order=order).order_by("position").first()
    page = client.post(
        reverse("invoices:new"),
        {"order": order.pk, "title": title.pk, "invoice_type": "special", f"qty-{first.pk}": "9"},
    )
    assert page.status_code == 200
    assert "Line 1: 数控车床 has 3 台 left to invoice, not 9." in page.content.decode()
    assert not Invoice.objects.exists()


def test_a_quantity_that_is_no_number_comes_back_as_typed(client, team, order, title, customer):
    """The form is shown again with the text in its field (escaped), not a server error."""
    client.force_login(team.rep1)
    first = OrderLine.objects.filter(order=order).order_by("position").first()
    page = client.post(
        reverse("invoices:new"),
        {"order": order.pk, "title": title.pk, "invoice_type": "special", f"qty-{first.pk}": "2'<b>x"},
    )
    assert page.status_code == 200
    assert (
        f'name="qty-{first.pk}" inputmode="decimal" maxlength="20" value="2&#x27;&lt;b&gt;x"' in page.content.decode()
    )
    typed = {"customer": customer.pk, "title": title.pk, "invoice_type": "ordinary", "name-0": "技术服务费"}
    page = client.post(reverse("invoices:new"), {**typed, "quantity-0": "1e", "price-0": "NaN", "rate-0": "Infinity"})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'value="1e" placeholder=' in html and 'value="NaN" placeholder=' in html
    assert not Invoice.objects.exists()


def test_typed_lines_for_a_customer(client, team, customer, title):
    client.force_login(team.rep1)
    page = client.post(
        reverse("invoices:new"),
        {
            "customer": customer.pk,
            "title": title.pk,
            "invoice_type": "ordinary",
            "name-0": "技术服务费",
            "unit-0": "项",
            "quantity-0": "1",
            "price-0": "1060",
            "rate-0": "6",
        },
    )
    invoice = Invoice.objects.get()
    assert page.status_code == 302
    assert (invoice.state, invoice.amount, invoice.amount_net, invoice.tax) == (
        "draft",
        D("1060.00"),
        D("1000.00"),
        D("60.00"),
    )


def test_without_a_title_the_form_leads_to_the_titles(client, team, order):
    client.force_login(team.rep1)
    page = client.get(reverse("invoices:new") + f"?order={order.pk}")
    assert page.status_code == 302 and page["Location"] == reverse("invoices:titles", args=[order.customer_id])


def test_finance_issues_and_reverses_through_the_pages(client, team, draft, finance, order):
    approved(draft, team)
    client.force_login(finance)
    assert client.get(reverse("invoices:issue", args=[draft.pk])).status_code == 200
    done = client.post(
        reverse("invoices:issue", args=[draft.pk]),
        {"invoice_number": "04400777", "issued_on": "2026-03-05", "invoice_type": "special", "logistics_number": ""},
    )
    assert done.status_code == 302
    draft.refresh_from_db()
    assert (draft.state, draft.invoice_number, draft.issued_on) == ("issued", "04400777", date(2026, 3, 5))
    assert Order.objects.get(pk=order.pk).invoiced_amount == D("533.33")
    page = client.get(reverse("invoices:detail", args=[draft.pk]))
    assert "Reverse (红冲)" in page.content.decode()
    refused = client.post(reverse("invoices:reverse", args=[draft.pk]), {"reason": "", "issued_on": "2026-03-06"})
    assert refused.status_code == 200 and Invoice.objects.count() == 1
    client.post(reverse("invoices:reverse", args=[draft.pk]), {"reason": "退货", "issued_on": "2026-03-06"})
    red = Invoice.objects.get(is_red=True)
    assert red.amount == D("-533.33") and Invoice.objects.get(pk=draft.pk).state == "reversed"
    assert Order.objects.get(pk=order.pk).invoiced_amount == D("0")
    assert "退货" in client.get(reverse("invoices:detail", args=[red.pk])).content.decode()


@pytest.mark.parametrize(
    ("who", "status"), [("rep1", 200), ("manager1", 200), ("finance", 200), ("rep3", 404), ("service1", 404)]
)
def test_who_sees_an_invoice(client, team, draft, finance, who, status):
    client.force_login(finance if who == "finance" else getattr(team, who))
    assert client.get(reverse("invoices:detail", args=[draft.pk])).status_code == status


def test_anonymous_visitors_sign_in_first(client, draft):
    for name, args in (
        ("invoices:list", []),
        ("invoices:detail", [draft.pk]),
        ("invoices:titles", [draft.customer_id]),
    ):
        page = client.get(reverse(name, args=args))
        assert page.status_code == 302 and "/accounts/login/" in page["Location"]
    assert client.post(reverse("invoices:submit", args=[draft.pk])).status_code == 302
    assert Invoice.objects.get(pk=draft.pk).state == "draft"


def test_denied_writes_change_nothing(client, team, draft, finance):
    client.force_login(team.rep3)
    assert client.post(reverse("invoices:submit", args=[draft.pk])).status_code == 404
    client.force_login(team.rep1)
    approved(draft, team)
    assert client.post(reverse("invoices:issue", args=[draft.pk]), {"invoice_number": "1"}).status_code == 403
    client.force_login(team.manager1)
    assert client.post(reverse("invoices:reverse", args=[draft.pk]), {"reason": "x"}).status_code == 403
    draft.refresh_from_db()
    assert (draft.state, draft.invoice_number) == ("approved", "")


def test_the_list_filters_and_runs_a_fixed_number_of_queries(
    client, team, order, title, finance, django_assert_max_num_queries
):
    first = services.invoice_request(customer=order.customer, actor=team.rep1, order=order)
    del first
    client.force_login(finance)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("invoices:list"))
    assert page.status_code == 200
    assert 'id="invoice-cards"' in page.content.decode()
    more = [
        services.invoice_request(
            customer=order.customer,
            actor=team.rep1,
            lines=[{"name": f"服务 {n}", "quantity": 1, "unit_price": 10, "tax_rate": 6}],
        )
        for n in range(10)
    ]
    with django_assert_max_num_queries(12):
        page = client.get(reverse("invoices:list") + "?state=draft&invoice_type=special")
    assert page.content.decode().count('class="list-group-item list-group-item-action"') == 11
    issued = client.get(reverse("invoices:list") + "?state=issued")
    assert "No invoices match." in issued.content.decode()
    client.force_login(team.rep3)
    assert "No invoices match." in client.get(reverse("invoices:list")).content.decode()
    assert more


def test_the_orders_invoices_partial(client, team, draft, order):
    client.force_login(team.rep1)
    page = client.get(reverse("invoices:for-order", args=[order.pk]))
    assert page.status_code == 200 and draft.number in page.content.decode()
    client.force_login(team.rep3)
    assert client.get(reverse("invoices:for-order", args=[order.pk])).status_code == 404


def test_the_titles_page(client, team, customer, title):
    client.force_login(team.rep1)
    page = client.get(reverse("invoices:titles", args=[customer.pk]))
    assert page.status_code == 200 and title.tax_number in page.content.decode()
    added = client.post(
        reverse("invoices:titles", args=[customer.pk]),
        {"kind": "company", "name": "华星（上海）", "tax_number": CODE_B, "is_default": "on"},
    )
    assert added.status_code == 302
    assert InvoiceTitle.objects.get(customer=customer, is_default=True).name == "华星（上海）"
    bad = client.post(
        reverse("invoices:titles", args=[customer.pk]), {"kind": "company", "name": "X", "tax_number": "123"}
    )
    assert bad.status_code == 200 and "is not a valid unified social credit code" in bad.content.decode()
    client.force_login(team.rep3)
    assert client.post(reverse("invoices:title-delete", args=[customer.pk, title.pk])).status_code == 404
    assert InvoiceTitle.objects.filter(customer=customer, deleted_at__isnull=True).count() == 2


# Session and user, the page (rows with customer and owner; the capped count; the requesters for the
# filter), the notification bell; the detail: the invoice, its lines, its approval requests (two types).
EXPECTED_LIST, EXPECTED_DETAIL = 6, 7


def _count(client, path):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured)


def test_list_and_detail_query_counts_do_not_grow_with_rows(client, team, order, title, finance):
    client.force_login(finance)
    line = {"name": "服务", "quantity": 1, "unit_price": 10, "tax_rate": 6}
    first = services.invoice_request(customer=order.customer, actor=team.rep1, lines=[line])
    one_row = _count(client, reverse("invoices:list"))
    one_line = _count(client, reverse("invoices:detail", args=[first.pk]))
    for _n in range(12):
        services.invoice_request(customer=order.customer, actor=team.rep1, lines=[line])
    many = services.invoice_request(customer=order.customer, actor=team.rep1, order=order)
    assert _count(client, reverse("invoices:list")) == one_row
    assert _count(client, reverse("invoices:detail", args=[many.pk])) == one_line
    assert (one_row, one_line) == (EXPECTED_LIST, EXPECTED_DETAIL)


def test_a_request_of_a_contract(client, team, customer, title):
    from kehu.contracts.models import Contract
    from kehu.invoices.tests.factories import make_contract

    contract = make_contract(customer, team.rep1)
    client.force_login(team.rep1)
    assert client.get(reverse("invoices:new") + f"?contract={contract.pk}").status_code == 200
    sent = client.post(
        reverse("invoices:new"),
        {
            "contract": contract.pk,
            "title": title.pk,
            "invoice_type": "special",
            "name-0": "首付款对应货物",
            "quantity-0": "1",
            "price-0": "3000",
            "rate-0": "13",
        },
    )
    invoice = Invoice.objects.get()
    assert sent.status_code == 302 and (invoice.contract_id, invoice.amount) == (contract.pk, D("3000.00"))
    client.force_login(team.rep3)
    assert client.get(reverse("invoices:new") + f"?contract={contract.pk}").status_code == 302
    assert Contract.objects.count() == 1
