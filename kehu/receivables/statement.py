"""The customer statement (对账单, SAL-9): what a customer was charged and paid in a period.

The balance a statement carries is what the customer owes on its orders and contracts:
- a booked order (confirmed or completed; not cancelled, not deleted) adds its total on its order date;
- a contract payment plan tied to no order adds its amount on its due date (else the day it was made);
- a payment (回款, confirmed) takes its amount off on the day received; a refund adds it back;
- a reversal of a payment undoes it on the day the reversal was made;
- invoices (issued, and red-letter ones negative) are listed with their amounts for the record and
  do not move the balance (they are what was billed, not what is owed).

Opening balance = the sum of everything before the first day; the lines of the period come in date
order with a running balance; closing balance = opening + the period's movements. Below, the amount
still owed by due date (the open plans). Money is Decimal to the fen throughout; nothing is rounded
but the amounts as stored.

The same figures are a page, a PDF (WeasyPrint, Noto Sans CJK SC embedded) and an .xlsx.
"""

import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import F, Q, Sum
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from kehu.core.money import FEN, capital_amount
from kehu.customers.models import Customer
from kehu.invoices.models import Invoice, InvoiceState
from kehu.orders.models import BOOKED_STATES, Order
from kehu.receivables.models import OPEN_PLAN_STATES, Payment, PaymentMethod, PaymentPlan, PaymentState, PlanState
from kehu.users.models import CompanySettings

ZERO = Decimal("0")
COUNTED_PAYMENTS = (PaymentState.CONFIRMED, PaymentState.REVERSED)
MAX_DAYS = 3 * 366


@dataclass
class StatementLine:
    on: date
    kind: str  # "order", "plan", "invoice", "payment", "refund", "reversal"
    reference: str
    description: str
    debit: Decimal = ZERO  # adds to what the customer owes
    credit: Decimal = ZERO  # takes off
    invoiced: Decimal = ZERO  # for the record
    balance: Decimal = ZERO
    sort: tuple = ()


@dataclass
class Statement:
    customer: Customer
    first: date
    last: date
    opening: Decimal
    lines: list[StatementLine]
    closing: Decimal
    debits: Decimal
    credits: Decimal
    invoiced: Decimal
    owed_by_due: list[tuple[date | None, Decimal]] = field(default_factory=list)
    owed: Decimal = ZERO
    overdue: Decimal = ZERO

    def as_dict(self) -> dict:
        return {
            "customer_id": self.customer.pk,
            "customer": self.customer.name,
            "first": self.first,
            "last": self.last,
            "opening": self.opening,
            "closing": self.closing,
            "debits": self.debits,
            "credits": self.credits,
            "invoiced": self.invoiced,
            "owed": self.owed,
            "overdue": self.overdue,
            "lines": [
                {
                    "on": line.on,
                    "kind": line.kind,
                    "reference": line.reference,
                    "description": line.description,
                    "debit": line.debit,
                    "credit": line.credit,
                    "invoiced": line.invoiced,
                    "balance": line.balance,
                }
                for line in self.lines
            ],
            "owed_by_due": [{"due_on": due, "amount": amount} for due, amount in self.owed_by_due],
        }


def default_period(today: date | None = None) -> tuple[date, date]:
    """From the first of the month three months back to today."""
    today = today or timezone.localdate()
    month = today.month - 2
    year = today.year
    if month <= 0:
        month += 12
        year -= 1
    return date(year, month, 1), today


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _orders(customer_id: int):
    return Order.objects.filter(customer_id=customer_id, state__in=BOOKED_STATES, deleted_at__isnull=True)


def _plans(customer_id: int):
    return PaymentPlan.objects.filter(customer_id=customer_id, order__isnull=True, contract__isnull=False).exclude(
        state=PlanState.VOID
    )


def _payments(customer_id: int):
    return Payment.objects.filter(customer_id=customer_id, reverses__isnull=True, state__in=COUNTED_PAYMENTS)


def _reversals(customer_id: int):
    return Payment.objects.filter(customer_id=customer_id, reverses__isnull=False).exclude(
        state__in=(PaymentState.PENDING, PaymentState.REJECTED)
    )


def _signed(rows, *, refund_sign: int) -> Decimal:
    total = ZERO
    for is_refund, amount in rows:
        total += (amount or ZERO) * (refund_sign if is_refund else -refund_sign)
    return total


def opening_balance(customer_id: int, first: date) -> Decimal:
    """What the customer owed at the start of `first` (four aggregate queries)."""
    orders = _orders(customer_id).filter(ordered_on__lt=first).aggregate(s=Sum("total"))["s"] or ZERO
    before = Q(due_on__lt=first) | Q(due_on__isnull=True, created_at__lt=_day_start(first))
    plans = _plans(customer_id).filter(before).aggregate(s=Sum("amount"))["s"] or ZERO
    paid = (
        _payments(customer_id)
        .filter(received_on__lt=first)
        .values("is_refund")
        .annotate(s=Sum("amount"))
        .values_list("is_refund", "s")
    )
    undone = (
        _reversals(customer_id)
        .filter(created_at__lt=_day_start(first))
        .values("reverses__is_refund")
        .annotate(s=Sum("amount"))
        .values_list("reverses__is_refund", "s")
    )
    return (orders + plans + _signed(paid, refund_sign=1) + _signed(undone, refund_sign=-1)).quantize(FEN)


def _plan_day(due_on: date | None, created_at: datetime) -> date:
    return due_on or timezone.localtime(created_at).date()


def statement_build(customer: Customer, first: date, last: date, *, today: date | None = None) -> Statement:
    """The statement of `customer` from `first` to `last` (both included)."""
    today = today or timezone.localdate()
    opening = opening_balance(customer.pk, first)
    lines: list[StatementLine] = []
    for pk, number, on, total in (
        _orders(customer.pk)
        .filter(ordered_on__gte=first, ordered_on__lte=last)
        .values_list("pk", "number", "ordered_on", "total")
    ):
        lines.append(StatementLine(on, "order", number, pgettext("statement", "Order"), debit=total, sort=(on, 0, pk)))
    within = Q(due_on__gte=first, due_on__lte=last) | Q(
        due_on__isnull=True, created_at__gte=_day_start(first), created_at__lt=_day_start(last + timedelta(days=1))
    )
    for pk, contract_number, sequence, due_on, created_at, amount in (
        _plans(customer.pk)
        .filter(within)
        .values_list("pk", "contract__number", "sequence", "due_on", "created_at", "amount")
    ):
        on = _plan_day(due_on, created_at)
        if first <= on <= last:
            text = _("Contract instalment %(n)s") % {"n": sequence}
            lines.append(StatementLine(on, "plan", contract_number or "", text, debit=amount, sort=(on, 1, pk)))
    invoices = Invoice.objects.filter(
        customer_id=customer.pk,
        state__in=(InvoiceState.ISSUED, InvoiceState.REVERSED),
        deleted_at__isnull=True,
        issued_on__gte=first,
        issued_on__lte=last,
    ).values_list("pk", "number", "invoice_number", "issued_on", "amount", "is_red")
    for pk, number, invoice_number, on, amount, is_red in invoices:
        text = _("Red-letter invoice (红冲)") if is_red else _("Invoice issued")
        signed = -abs(amount) if is_red else amount
        lines.append(StatementLine(on, "invoice", invoice_number or number, text, invoiced=signed, sort=(on, 2, pk)))
    for pk, number, on, amount, is_refund, method in (
        _payments(customer.pk)
        .filter(received_on__gte=first, received_on__lte=last)
        .values_list("pk", "number", "received_on", "amount", "is_refund", "method")
    ):
        if is_refund:
            lines.append(StatementLine(on, "refund", number, _("Refund"), debit=amount, sort=(on, 3, pk)))
        else:
            text = _("Payment received (%(method)s)") % {"method": PaymentMethod(method).label}
            lines.append(StatementLine(on, "payment", number, text, credit=amount, sort=(on, 3, pk)))
    for pk, number, created_at, amount, original, was_refund in (
        _reversals(customer.pk)
        .filter(created_at__gte=_day_start(first), created_at__lt=_day_start(last + timedelta(days=1)))
        .values_list("pk", "number", "created_at", "amount", "reverses__number", "reverses__is_refund")
    ):
        on = timezone.localtime(created_at).date()
        text = _("Reversal of %(number)s") % {"number": original}
        line = StatementLine(on, "reversal", number, text, sort=(on, 4, pk))
        if was_refund:
            line.credit = amount
        else:
            line.debit = amount
        lines.append(line)
    lines.sort(key=lambda line: line.sort)
    running = opening
    debits = credits = invoiced = ZERO
    for line in lines:
        running += line.debit - line.credit
        line.balance = running
        debits += line.debit
        credits += line.credit
        invoiced += line.invoiced
    owed_by_due: dict[date | None, Decimal] = {}
    owed = overdue = ZERO
    for due_on, outstanding in (
        PaymentPlan.objects.filter(customer_id=customer.pk, state__in=OPEN_PLAN_STATES, amount__gt=F("received_amount"))
        .values("due_on")
        .annotate(s=Sum(F("amount") - F("received_amount")))
        .values_list("due_on", "s")
    ):
        outstanding = Decimal(outstanding).quantize(FEN)
        owed_by_due[due_on] = outstanding
        owed += outstanding
        if due_on is not None and due_on < today:
            overdue += outstanding
    ordered = sorted(owed_by_due.items(), key=lambda item: (item[0] is None, item[0] or date.min))
    return Statement(
        customer=customer,
        first=first,
        last=last,
        opening=opening,
        lines=lines,
        closing=running,
        debits=debits,
        credits=credits,
        invoiced=invoiced,
        owed_by_due=ordered,
        owed=owed,
        overdue=overdue,
    )


def kind_label(kind: str) -> str:
    return {
        "order": pgettext("statement", "Order"),
        "plan": _("Contract instalment"),
        "invoice": pgettext("statement", "Invoice"),
        "payment": _("Payment"),
        "refund": _("Refund"),
        "reversal": _("Reversal"),
    }.get(kind, kind)


def display_rows(statement: Statement) -> list[tuple[str, ...]]:
    """The lines as the page prints them (date, reference, description, charged, paid, invoiced,
    balance), formatted once here rather than by a filter per cell."""
    return [
        (
            line.on.isoformat(),
            line.reference,
            line.description,
            money(line.debit) if line.debit else "",
            money(line.credit) if line.credit else "",
            money(line.invoiced) if line.invoiced else "",
            money(line.balance),
        )
        for line in statement.lines
    ]


ROW_HTML = (
    '<tr><td class="text-nowrap">{}</td><td class="text-nowrap d-none d-md-table-cell">{}</td><td>{}'
    '<span class="d-md-none small text-secondary"> {}</span></td><td class="text-end text-nowrap">{}</td>'
    '<td class="text-end text-nowrap">{}</td><td class="text-end text-nowrap d-none d-md-table-cell">{}</td>'
    '<td class="text-end text-nowrap">{}</td></tr>'
)


def rows_html(statement: Statement) -> str:
    """The page's table rows, escaped (a statement may have hundreds of lines: one pass of
    `format_html` each is several times faster than the template engine's per-cell work)."""
    return format_html_join(
        "\n",
        ROW_HTML,
        (
            (on, ref, text, ref, debit, credit, invoiced, balance)
            for on, ref, text, debit, credit, invoiced, balance in display_rows(statement)
        ),
    )


def money(value) -> str:
    return f"{Decimal(value):,.2f}"


def file_name(statement: Statement, suffix: str) -> str:
    name = _("Statement %(customer)s %(first)s–%(last)s") % {
        "customer": statement.customer.name,
        "first": statement.first.isoformat(),
        "last": statement.last.isoformat(),
    }
    return re.sub(r'[\\/:*?"<>|\x00-\x1f]', "_", name) + suffix


def statement_html(statement: Statement) -> str:
    return render_to_string(
        "receivables/reports/statement_pdf.html",
        {
            "s": statement,
            "company_name": CompanySettings.load().company_name,
            "closing_capitals": capital_amount(abs(statement.closing)),
            "printed_on": timezone.localdate(),
        },
    )


def statement_pdf(statement: Statement) -> bytes:
    from kehu.quotes.document import pdf_from_html

    return pdf_from_html(statement_html(statement))


def statement_xlsx(statement: Statement) -> bytes:
    """The statement as a workbook: numbers as numbers (two decimals), text as text."""
    from openpyxl import Workbook

    from kehu.core.spreadsheet_safety import xlsx_row

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Statement")[:31]
    sheet.append(xlsx_row(sheet, [_("Customer statement"), statement.customer.name]))
    sheet.append(xlsx_row(sheet, [_("Period"), f"{statement.first.isoformat()} – {statement.last.isoformat()}"]))
    sheet.append([])
    sheet.append(xlsx_row(sheet, [_("Opening balance")]) + [float(statement.opening)])
    header = [
        _("Date"),
        _("Kind"),
        _("Reference"),
        _("Description"),
        _("Charged"),
        pgettext("statement", "Paid"),
        _("Invoiced"),
        _("Balance"),
    ]
    sheet.append(xlsx_row(sheet, header))
    for line in statement.lines:
        sheet.append(
            xlsx_row(sheet, [line.on.isoformat(), kind_label(line.kind), line.reference, line.description])
            + [float(line.debit), float(line.credit), float(line.invoiced), float(line.balance)]
        )
    sheet.append(
        xlsx_row(sheet, [_("Total"), "", "", ""])
        + [float(statement.debits), float(statement.credits), float(statement.invoiced), float(statement.closing)]
    )
    sheet.append(xlsx_row(sheet, [_("Closing balance")]) + [float(statement.closing)])
    sheet.append([])
    sheet.append(xlsx_row(sheet, [_("Owed by due date")]))
    sheet.append(xlsx_row(sheet, [_("Due date"), _("Amount")]))
    for due, amount in statement.owed_by_due:
        sheet.append(xlsx_row(sheet, [due.isoformat() if due else _("No date yet")]) + [float(amount)])
    sheet.append(xlsx_row(sheet, [_("Total owed")]) + [float(statement.owed)])
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, float):
                cell.number_format = "#,##0.00"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
