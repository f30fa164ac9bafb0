"""The customer statement (对账单): opening balance, lines in date order with a running balance,
closing balance, owed by due date; the PDF's text (pdftotext) and the .xlsx read back."""

import io
import re
import subprocess
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from kehu.contracts.models import Contract
from kehu.invoices.models import Invoice, InvoiceState
from kehu.orders.models import OrderState
from kehu.receivables import statement as statements
from kehu.receivables.models import PaymentState
from kehu.receivables.tests.reports_fixtures import _credit_answers, customer, order, payment, plan  # noqa: F401

pytestmark = pytest.mark.django_db
FIRST, LAST = date(2026, 5, 1), date(2026, 5, 31)


@pytest.fixture
def history(team):
    c = customer(team.rep1, "上海对账有限公司")
    order(c, "10000.00", on=date(2026, 4, 10))  # before: opening
    payment(c, "4000.00", date(2026, 4, 20))  # before: opening → 6000
    order(c, "2500.50", on=date(2026, 5, 3))
    order(c, "888.00", on=date(2026, 5, 4), state=OrderState.CANCELLED)  # not counted
    o = order(c, "1200.00", on=date(2026, 5, 20))
    paid = payment(c, "3000.00", date(2026, 5, 10))
    payment(c, "500.00", date(2026, 5, 12), refund=True)
    payment(c, "99.00", date(2026, 5, 13), state=PaymentState.PENDING)  # not counted
    wrong = payment(c, "700.00", date(2026, 5, 15), state=PaymentState.REVERSED)
    reversal = payment(c, "700.00", date(2026, 5, 16), reverses=wrong)
    type(reversal).objects.filter(pk=reversal.pk).update(
        created_at=timezone.make_aware(timezone.datetime(2026, 5, 16, 10))
    )
    contract = Contract.objects.create(number="HT-T-9", title="t", customer=c, owner=team.rep1)
    plan(c, "1000.00", date(2026, 5, 25), contract=contract)
    plan(c, "1200.00", date(2026, 6, 19), order_=o)
    Invoice.objects.create(
        number="FP-T-1",
        customer=c,
        owner=team.rep1,
        state=InvoiceState.ISSUED,
        title_name="上海对账有限公司",
        amount=Decimal("2500.50"),
        invoice_number="04400001",
        issued_on=date(2026, 5, 5),
    )
    outside = order(c, "777.00", on=date(2026, 6, 2))  # after the period
    return c, paid, outside


def test_statement_figures(team, history):
    c, _paid, _outside = history
    s = statements.statement_build(c, FIRST, LAST, today=date(2026, 6, 30))
    assert s.opening == Decimal("6000.00")
    got = [(line.on, line.kind, line.debit, line.credit, line.invoiced, line.balance) for line in s.lines]
    assert got == [
        (date(2026, 5, 3), "order", Decimal("2500.50"), 0, 0, Decimal("8500.50")),
        (date(2026, 5, 5), "invoice", 0, 0, Decimal("2500.50"), Decimal("8500.50")),
        (date(2026, 5, 10), "payment", 0, Decimal("3000.00"), 0, Decimal("5500.50")),
        (date(2026, 5, 12), "refund", Decimal("500.00"), 0, 0, Decimal("6000.50")),
        (date(2026, 5, 15), "payment", 0, Decimal("700.00"), 0, Decimal("5300.50")),
        (date(2026, 5, 16), "reversal", Decimal("700.00"), 0, 0, Decimal("6000.50")),
        (date(2026, 5, 20), "order", Decimal("1200.00"), 0, 0, Decimal("7200.50")),
        (date(2026, 5, 25), "plan", Decimal("1000.00"), 0, 0, Decimal("8200.50")),
    ]
    assert s.closing == Decimal("8200.50")
    assert (s.debits, s.credits, s.invoiced) == (Decimal("5900.50"), Decimal("3700.00"), Decimal("2500.50"))
    assert s.owed_by_due == [(date(2026, 5, 25), Decimal("1000.00")), (date(2026, 6, 19), Decimal("1200.00"))]
    assert (s.owed, s.overdue) == (Decimal("2200.00"), Decimal("2200.00"))
    # the next period opens where this one closed
    assert statements.statement_build(c, LAST + timedelta(days=1), date(2026, 6, 30)).opening == s.closing


def test_statement_pdf_text(team, history):
    c, *_ = history
    with translation.override("zh-hans"):
        s = statements.statement_build(c, FIRST, LAST, today=date(2026, 6, 30))
        pdf = statements.statement_pdf(s)
    assert pdf.startswith(b"%PDF")
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    assert "上海对账有限公司" in text
    assert "6,000.00" in text  # opening
    assert "8,200.50" in text  # closing
    assert "04400001" in text
    assert "捌仟贰佰元伍角" in text  # the closing balance in capitals


def test_statement_xlsx_read_back(team, history):
    from openpyxl import load_workbook

    c, *_ = history
    s = statements.statement_build(c, FIRST, LAST, today=date(2026, 6, 30))
    sheet = load_workbook(io.BytesIO(statements.statement_xlsx(s))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("Customer statement", "上海对账有限公司")
    assert rows[3][:2] == ("Opening balance", 6000.0)
    lines = rows[5:13]
    assert [r[0] for r in lines] == [
        "2026-05-03",
        "2026-05-05",
        "2026-05-10",
        "2026-05-12",
        "2026-05-15",
        "2026-05-16",
        "2026-05-20",
        "2026-05-25",
    ]
    assert [Decimal(str(r[7])).quantize(Decimal("0.01")) for r in lines][-1] == Decimal("8200.50")
    assert rows[13][0] == "Total" and rows[13][4:8] == (5900.5, 3700.0, 2500.5, 8200.5)
    assert rows[14][:2] == ("Closing balance", 8200.5)
    assert ("Total owed", 2200.0) in [tuple(r[:2]) for r in rows]


@pytest.mark.parametrize("limit", [1, 2, 3, 5, 8])
def test_a_page_of_lines_carries_the_balance_of_the_lines_before_it(team, history, limit):
    c, *_ = history
    whole = statements.statement_build(c, FIRST, LAST, today=date(2026, 6, 30))
    expected = [(line.on, line.kind, line.reference, line.balance) for line in whole.lines]
    for offset in range(0, whole.line_count, limit):
        page = statements.statement_build(c, FIRST, LAST, today=date(2026, 6, 30), offset=offset, limit=limit)
        got = [(line.on, line.kind, line.reference, line.balance) for line in page.lines]
        assert got == expected[offset : offset + limit]
        assert (page.line_count, page.opening, page.closing) == (8, whole.opening, whole.closing)
        assert (page.debits, page.credits, page.invoiced) == (whole.debits, whole.credits, whole.invoiced)


def test_lines_on_one_day_keep_their_order_across_pages(team):
    c = customer(team.rep1, "同日多笔")
    day = date(2026, 5, 7)
    for amount in ("100.00", "200.00", "300.00"):
        order(c, amount, on=day)
        payment(c, amount, day)
    whole = statements.statement_build(c, FIRST, LAST)
    assert [line.kind for line in whole.lines] == ["order"] * 3 + ["payment"] * 3
    balances = [line.balance for line in whole.lines]
    assert balances == [Decimal(x) for x in ("100.00", "300.00", "600.00", "500.00", "300.00", "0.00")]
    for offset in range(6):
        page = statements.statement_build(c, FIRST, LAST, offset=offset, limit=1)
        assert [line.balance for line in page.lines] == balances[offset : offset + 1]


def test_the_page_shows_the_lines_a_page_at_a_time(client, team, history, monkeypatch):
    from django.urls import reverse

    from kehu.receivables import report_views

    monkeypatch.setattr(report_views, "STATEMENT_LINES_SHOWN", 3)
    c, *_ = history
    client.force_login(team.rep1)
    url = reverse("receivables_reports:statement", args=[c.pk]) + "?first=2026-05-01&last=2026-05-31"
    pages = [client.get(url + f"&page={n}") for n in (1, 2, 3)]
    balances = [[line.balance for line in page.context["s"].lines] for page in pages]
    assert balances == [
        [Decimal("8500.50"), Decimal("8500.50"), Decimal("5500.50")],
        [Decimal("6000.50"), Decimal("5300.50"), Decimal("6000.50")],
        [Decimal("7200.50"), Decimal("8200.50")],
    ]
    first, middle, last = (page.content.decode() for page in pages)
    assert "Lines 1–3 of 8" in first and "Opening balance" in first and "Carried forward" in first
    assert "Lines 4–6 of 8" in middle and "Brought forward" in middle and "5,500.50" in middle
    assert "Lines 7–8 of 8" in last and "Carried forward" not in last and "8,200.50" in last
    # the period's totals and closing balance close the last page only
    assert "5,900.50" in last and "5,900.50" not in first
    # a page past the end shows the first; a page that is not a number too
    for odd in ("99", "x", "-1"):
        assert [line.balance for line in client.get(url + f"&page={odd}").context["s"].lines] == balances[0]
    # the files carry every line
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(client.get(url + "&format=xlsx").getvalue())).active
    dated = [row for row in sheet.iter_rows(values_only=True) if re.fullmatch(r"2026-05-\d\d", str(row[0]))]
    assert len([row for row in dated if isinstance(row[1], str)]) == 8  # the owed-by-due rows carry a number
