# ruff: noqa: F811 (the fixtures are imported by name)
"""Pages of returns: who may see and change them (anonymous, another rep, the customer's rep, the
after-sales specialist, the service manager), the way through the forms, the stock note's PDF with
its Chinese text, query counts."""

import subprocess
from decimal import Decimal

import pytest
from django.utils import translation

from kehu.support import rma_services
from kehu.support.models import ReturnRequest, StockNote
from kehu.support.tests.returns_fixtures import aftersales, book, customer, lathe_line, order  # noqa: F401


@pytest.fixture
def rma(aftersales, lathe_line):
    return rma_services.rma_create(
        actor=aftersales, order_line=lathe_line, quantity=2, reason="主轴异响", remedy="replace"
    )


def login(client, user):
    client.force_login(user)
    return client


def test_anonymous_is_sent_to_login(client, rma):
    for path in ["/service/returns/", f"/service/returns/{rma.pk}/", "/service/returns/new/"]:
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response["Location"]
    client.post(f"/service/returns/{rma.pk}/move/", {"to": "pending"})
    rma.refresh_from_db()
    assert rma.state == "draft"


def test_another_rep_sees_nothing_and_changes_nothing(client, team, rma):
    login(client, team.rep3)
    assert client.get(f"/service/returns/{rma.pk}/").status_code == 404
    assert rma.number not in client.get("/service/returns/").content.decode()
    assert client.post(f"/service/returns/{rma.pk}/move/", {"to": "pending", "version": rma.version}).status_code in (
        403,
        404,
    )
    rma.refresh_from_db()
    assert (rma.state, rma.version) == ("draft", 1)


def test_the_customers_rep_reads_but_does_not_change(client, team, rma):
    login(client, team.rep1)
    page = client.get(f"/service/returns/{rma.pk}/")
    assert page.status_code == 200 and "主轴异响" in page.content.decode()
    assert 'id="submit-form"' not in page.content.decode()
    assert client.post(f"/service/returns/{rma.pk}/move/", {"to": "pending", "version": rma.version}).status_code == 403
    assert client.get("/service/returns/new/").status_code == 403
    rma.refresh_from_db()
    assert rma.state == "draft"


def test_after_sales_open_and_work_a_return_through_the_pages(
    client, team, aftersales, lathe_line, django_capture_on_commit_callbacks
):
    login(client, aftersales)
    picked = client.get("/service/returns/new/")
    assert f"?line={lathe_line.pk}" in picked.content.decode()
    too_many = client.post(
        f"/service/returns/new/?line={lathe_line.pk}", {"quantity": "9", "remedy": "repair", "reason": "坏了"}
    )
    assert too_many.status_code == 200
    assert "At most 8 台 of this line can be returned" in too_many.content.decode()
    assert not ReturnRequest.objects.exists()
    made = client.post(
        f"/service/returns/new/?line={lathe_line.pk}", {"quantity": "2", "remedy": "repair", "reason": "坏了"}
    )
    rma = ReturnRequest.objects.get()
    assert made["Location"] == f"/service/returns/{rma.pk}/"
    client.post(f"/service/returns/{rma.pk}/move/", {"to": "pending", "version": rma.version})
    rma.refresh_from_db()
    assert rma.state == "pending"
    # The service manager approves in the approval request.
    from kehu.approvals.services import open_request

    request = open_request("support.rma", rma.pk)
    login(client, team.service1)
    client.post(f"/approvals/{request.pk}/act/", {"action": "approve", "version": request.version})
    rma.refresh_from_db()
    assert rma.state == "approved"
    login(client, aftersales)
    bad = client.post(f"/service/returns/{rma.pk}/move/", {"to": "received", "version": rma.version,
                      "received-received_quantity": "5", "received-received_on": "2026-01-05"})  # fmt: skip
    assert bad.status_code == 400 and "At most 2 were approved to come back." in bad.content.decode()
    client.post(f"/service/returns/{rma.pk}/move/", {"to": "received", "version": rma.version,
                "received-received_quantity": "2", "received-received_on": "2026-01-05", "received-freight_cost": "30"})  # fmt: skip
    rma.refresh_from_db()
    assert (rma.state, rma.freight_cost) == ("received", Decimal("30.00"))
    client.post(f"/service/returns/{rma.pk}/costs/", {"costs-labour_cost": "45", "costs-freight_cost": "30"})
    rma.refresh_from_db()
    assert rma.total_cost == Decimal("75.00")
    page = client.get(f"/service/returns/{rma.pk}/").content.decode()
    assert 'id="step-inspected"' in page and "RK" in page


def test_the_stock_note_pdf_has_the_chinese_text(client, aftersales, rma, team):
    from kehu.support.rma_views import stock_note_html

    rma_services.rma_submit(rma=rma, actor=aftersales)
    from kehu.approvals.services import open_request, request_act

    request_act(request=open_request("support.rma", rma.pk), actor=team.service1, action="approve")
    rma_services.rma_receive(rma=rma, actor=aftersales, received_quantity=2)
    note = StockNote.objects.get()
    login(client, aftersales)
    with translation.override("zh-hans"):
        client.cookies["django_language"] = "zh-hans"
        response = client.get(f"/service/returns/stock-notes/{note.pk}/pdf/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=response.content, capture_output=True, check=True
    ).stdout.decode()
    assert "退货入库单" in text and "苏州华星精密机械有限公司" in text and note.number in text and "主轴异响" in text
    assert "CK6140-A" in stock_note_html(note, language="en")
    login(client, team.rep3)
    assert client.get(f"/service/returns/stock-notes/{note.pk}/pdf/").status_code == 404


def test_the_list_runs_few_queries(client, aftersales, lathe_line, django_assert_max_num_queries):
    for _ in range(4):
        rma_services.rma_create(actor=aftersales, order_line=lathe_line, quantity=1, reason="坏", remedy="repair")
    login(client, aftersales)
    client.get("/service/returns/")
    with django_assert_max_num_queries(12):
        response = client.get("/service/returns/")
    assert response.content.decode().count('href="/service/returns/') >= 4


def test_the_ticket_page_lists_the_tickets_returns(client, team, aftersales, lathe_line, customer):
    from kehu.support.services import ticket_open

    ticket = ticket_open(actor=team.service1, customer=customer, subject="主轴异响")
    rma = rma_services.rma_create(
        actor=aftersales, order_line=lathe_line, quantity=1, reason="异响", remedy="repair", ticket=ticket
    )
    login(client, team.service1)
    page = client.get(f"/service/tickets/{ticket.pk}/").content.decode()
    assert 'id="ticket-returns"' in page and rma.number in page
    login(client, team.rep1)
    assert rma.number in client.get(f"/service/tickets/{ticket.pk}/").content.decode()
