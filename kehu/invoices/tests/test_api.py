from decimal import Decimal

import pytest

from kehu.approvals.models import ApprovalRequest
from kehu.approvals.services import request_act
from kehu.invoices.models import Invoice, InvoiceTitle
from kehu.invoices.tests.factories import CODE_A, CODE_B
from kehu.orders.models import Order, OrderLine

BASE = "/api/v1/invoices"


def test_titles_crud(api_client, team, customer):
    rep1 = api_client(team.rep1)
    made = rep1.post(f"{BASE}/customers/{customer.pk}/titles", {"name": "苏州华星", "tax_number": CODE_A})
    assert made.status_code == 201 and made.json()["is_default"] is True
    second = rep1.post(
        f"{BASE}/customers/{customer.pk}/titles", {"name": "华星上海", "tax_number": CODE_B, "is_default": True}
    ).json()
    listed = rep1.get(f"{BASE}/customers/{customer.pk}/titles").json()
    assert [(t["name"], t["is_default"]) for t in listed] == [("华星上海", True), ("苏州华星", False)]
    changed = rep1.patch(f"{BASE}/customers/{customer.pk}/titles/{second['id']}", {"phone": "0512-1"})
    assert changed.json()["phone"] == "0512-1"
    bad = rep1.post(f"{BASE}/customers/{customer.pk}/titles", {"name": "X", "tax_number": "123"})
    assert bad.status_code == 400 and "tax_number" in bad.json()["errors"]
    assert rep1.delete(f"{BASE}/customers/{customer.pk}/titles/{second['id']}").status_code == 204
    assert InvoiceTitle.objects.get(customer=customer, is_default=True).name == "苏州华星"


def test_the_refusal_speaks_the_users_language(api_client, team, customer):
    rep1 = api_client(team.rep1)
    rep1.headers["Accept-Language"] = "zh-hans"
    bad = rep1.post(f"{BASE}/customers/{customer.pk}/titles", {"name": "X", "kind": "company", "tax_number": ""})
    assert bad.status_code == 400
    assert bad.json()["errors"]["tax_number"] == ["公司抬头需要填写税号。"]


def test_request_submit_approve_issue_reverse(api_client, team, order, title, finance):
    rep1, fin = api_client(team.rep1), api_client(finance)
    first = OrderLine.objects.filter(order=order).order_by("position").first()
    too_much = rep1.post(BASE, {"order_id": order.pk, "order_lines": [{"order_line_id": first.pk, "quantity": "4"}]})
    assert too_much.status_code == 400
    assert too_much.json()["errors"]["lines"] == ["Line 1: 数控车床 has 3 台 left to invoice, not 4."]
    made = rep1.post(BASE, {"order_id": order.pk})
    assert made.status_code == 201
    body = made.json()
    assert (body["state"], body["amount"], len(body["lines"])) == ("draft", "533.33", 2)
    invoice_id = body["id"]
    assert rep1.post(f"{BASE}/{invoice_id}/submit").json()["state"] == "pending"
    request = ApprovalRequest.objects.get(document_type="invoice", object_id=invoice_id)
    request_act(request=request, actor=team.manager1, action="approve")
    assert rep1.post(f"{BASE}/{invoice_id}/issue", {"invoice_number": "1"}).status_code == 403
    issued = fin.post(f"{BASE}/{invoice_id}/issue", {"invoice_number": "04400123", "issued_on": "2026-03-05"})
    assert issued.status_code == 200
    assert (issued.json()["state"], issued.json()["invoice_number"]) == ("issued", "04400123")
    assert Order.objects.get(pk=order.pk).invoiced_amount == Decimal("533.33")
    red = fin.post(f"{BASE}/{invoice_id}/reverse", {"reason": "退货"})
    assert red.status_code == 201
    assert (red.json()["is_red"], red.json()["amount"], red.json()["reverses_id"]) == (True, "-533.33", invoice_id)
    assert fin.get(f"{BASE}/{invoice_id}").json()["state"] == "reversed"
    again = fin.post(f"{BASE}/{invoice_id}/reverse", {"reason": "再冲"})
    assert again.status_code == 409  # its state (reversed) does not allow it
    lines = fin.get(f"{BASE}/{red.json()['id']}/lines").json()
    assert [line["quantity"] for line in lines] == ["-3.000", "-7.000"]


def test_typed_lines_and_replacing_them(api_client, team, customer, title):
    rep1 = api_client(team.rep1)
    made = rep1.post(
        BASE,
        {
            "customer_id": customer.pk,
            "invoice_type": "ordinary",
            "lines": [{"name": "技术服务费", "quantity": "1", "unit_price": "1060", "tax_rate": "6"}],
        },
    ).json()
    assert (made["amount"], made["amount_net"], made["tax"]) == ("1060.00", "1000.00", "60.00")
    replaced = rep1.put(
        f"{BASE}/{made['id']}/lines",
        {"lines": [{"name": "培训费", "quantity": "2", "unit_price": "530", "tax_rate": "6"}]},
    ).json()
    assert (replaced["amount"], [line["name"] for line in replaced["lines"]]) == ("1060.00", ["培训费"])
    stale = rep1.patch(f"{BASE}/{made['id']}", {"version": 0, "notes": "x"})
    assert stale.status_code == 409


@pytest.mark.parametrize(
    ("who", "read", "write"),
    [(None, 401, 401), ("rep3", 404, 404), ("rep1", 200, 200), ("manager1", 200, 200), ("finance", 200, 200)],
)
def test_who_may_read_and_write(api_client, team, order, title, finance, who, read, write):
    from kehu.invoices import services

    invoice = services.invoice_request(customer=order.customer, actor=team.rep1, order=order)
    user = finance if who == "finance" else (getattr(team, who) if who else None)
    client = api_client(user)
    assert client.get(f"{BASE}/{invoice.pk}").status_code == read
    assert client.post(f"{BASE}/{invoice.pk}/submit").status_code == write
    expected = "pending" if write == 200 else "draft"
    assert Invoice.objects.get(pk=invoice.pk).state == expected
    listed = client.get(BASE)
    if read == 200:
        assert [row["id"] for row in listed.json()["items"]] == [invoice.pk]
    elif who == "rep3":
        assert listed.json()["items"] == []


def test_the_list_filters(api_client, team, order, title, finance):
    from kehu.invoices import services

    draft = services.invoice_request(customer=order.customer, actor=team.rep1, order=order)
    fin = api_client(finance)
    assert fin.get(f"{BASE}?state=draft&customer_id={order.customer_id}").json()["count"] == 1
    assert fin.get(f"{BASE}?state=issued").json()["count"] == 0
    assert fin.get(f"{BASE}?q={draft.number[:6]}").json()["count"] == 1
    assert fin.get(f"{BASE}?invoice_type=ordinary").json()["count"] == 0
    assert request_act  # imported for the flows above
