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
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import (
    Case,
    Count,
    DecimalField,
    Expression,
    F,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Abs, Coalesce, TruncDate
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
    line_count: int = 0  # the period's lines; `lines` may be one page of them
    offset: int = 0
    brought_forward: Decimal = ZERO  # the balance before `lines[0]`

    @property
    def carried_forward(self) -> Decimal:
        return self.lines[-1].balance if self.lines else self.brought_forward

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


MONEY = DecimalField(max_digits=16, decimal_places=2)


def _if(condition: Q, value: str) -> Expression:
    return Case(When(condition, then=F(value)), default=Value(ZERO), output_field=MONEY)


def _day_of(field_name: str) -> Expression:
    return TruncDate(field_name, tzinfo=timezone.get_current_timezone())


def _order_line(pk, on, number, total):
    return StatementLine(on, "order", number, pgettext("statement", "Order"), debit=total, sort=(on, 0, pk))


def _plan_line(pk, on, contract_number, sequence, amount):
    text = _("Contract instalment %(n)s") % {"n": sequence}
    return StatementLine(on, "plan", contract_number or "", text, debit=amount, sort=(on, 1, pk))


def _invoice_line(pk, on, number, invoice_number, amount, is_red):
    text = _("Red-letter invoice (红冲)") if is_red else _("Invoice issued")
    signed = -abs(amount) if is_red else amount
    return StatementLine(on, "invoice", invoice_number or number, text, invoiced=signed, sort=(on, 2, pk))


def _payment_line(pk, on, number, amount, is_refund, method):
    if is_refund:
        return StatementLine(on, "refund", number, _("Refund"), debit=amount, sort=(on, 3, pk))
    text = _("Payment received (%(method)s)") % {"method": PaymentMethod(method).label}
    return StatementLine(on, "payment", number, text, credit=amount, sort=(on, 3, pk))


def _reversal_line(pk, on, number, amount, original, was_refund):
    text = _("Reversal of %(number)s") % {"number": original}
    if was_refund:
        return StatementLine(on, "reversal", number, text, credit=amount, sort=(on, 4, pk))
    return StatementLine(on, "reversal", number, text, debit=amount, sort=(on, 4, pk))


@dataclass(frozen=True)
class Source:
    """One kind of movement: its rows, the day each counts on, what it charges, pays or invoices
    (SQL expressions, so totals and balances are sums in the database; None where it never does),
    and how a row reads. `rank` orders the kinds within one day."""

    rank: int
    rows: Callable[[int], QuerySet]
    day: Callable[[], Expression]
    debit: Expression | None
    credit: Expression | None
    invoiced: Expression | None
    fields: tuple[str, ...]
    line: Callable[..., StatementLine]

    def dated(self, customer_id: int) -> QuerySet:
        return self.rows(customer_id).annotate(on=self.day())

    @property
    def moves_balance(self) -> bool:
        return self.debit is not None or self.credit is not None

    def balance(self) -> Expression:
        if self.credit is None:
            return self.debit
        if self.debit is None:
            return -self.credit
        return self.debit - self.credit


SOURCES = (
    Source(
        0,
        lambda cid: Order.objects.filter(customer_id=cid, state__in=BOOKED_STATES, deleted_at__isnull=True),
        lambda: F("ordered_on"),
        F("total"),
        None,
        None,
        ("number", "total"),
        _order_line,
    ),
    # A contract's plans tied to no order (an order's plans are charged by the order itself); a plan
    # waiting for its event counts on the day it was made.
    Source(
        1,
        lambda cid: PaymentPlan.objects.filter(customer_id=cid, order__isnull=True, contract__isnull=False).exclude(
            state=PlanState.VOID
        ),
        lambda: Coalesce("due_on", _day_of("created_at")),
        F("amount"),
        None,
        None,
        ("contract__number", "sequence", "amount"),
        _plan_line,
    ),
    Source(
        2,
        lambda cid: Invoice.objects.filter(
            customer_id=cid, state__in=(InvoiceState.ISSUED, InvoiceState.REVERSED), deleted_at__isnull=True
        ),
        lambda: F("issued_on"),
        None,
        None,
        Case(When(is_red=True, then=-Abs("amount")), default=F("amount"), output_field=MONEY),
        ("number", "invoice_number", "amount", "is_red"),
        _invoice_line,
    ),
    Source(
        3,
        lambda cid: Payment.objects.filter(customer_id=cid, reverses__isnull=True, state__in=COUNTED_PAYMENTS),
        lambda: F("received_on"),
        _if(Q(is_refund=True), "amount"),
        _if(Q(is_refund=False), "amount"),
        None,
        ("number", "amount", "is_refund", "method"),
        _payment_line,
    ),
    # A reversal undoes its payment on the day it was made.
    Source(
        4,
        lambda cid: Payment.objects.filter(customer_id=cid, reverses__isnull=False).exclude(
            state__in=(PaymentState.PENDING, PaymentState.REJECTED)
        ),
        lambda: _day_of("created_at"),
        _if(Q(reverses__is_refund=False), "amount"),
        _if(Q(reverses__is_refund=True), "amount"),
        None,
        ("number", "amount", "reverses__number", "reverses__is_refund"),
        _reversal_line,
    ),
)


def _before_key(source: Source, key: tuple) -> Q:
    """Rows of `source` that come before the statement line `key` = (day, rank, pk)."""
    on, rank, pk = key
    if source.rank < rank:
        return Q(on__lte=on)
    if source.rank > rank:
        return Q(on__lt=on)
    return Q(on__lt=on) | Q(on=on, pk__lt=pk)


def _window_keys(customer_id: int, first: date, last: date, offset: int, limit: int) -> list[tuple]:
    """(day, rank, pk) of the statement's lines offset … offset + limit, in statement order: one
    UNION ALL query, so a page of a dealer's thousands of lines reads only its own rows."""
    parts = [
        source.dated(customer_id)
        .filter(on__gte=first, on__lte=last)
        .annotate(rank=Value(source.rank, output_field=IntegerField()), key=F("pk"))
        .values_list("on", "rank", "key")
        .order_by()
        for source in SOURCES
    ]
    union = parts[0].union(*parts[1:], all=True).order_by("on", "rank", "key")
    return [(_as_date(on), rank, pk) for on, rank, pk in union[offset : offset + limit]]


def _as_date(value) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def statement_build(
    customer: Customer,
    first: date,
    last: date,
    *,
    today: date | None = None,
    offset: int = 0,
    limit: int | None = None,
) -> Statement:
    """The statement of `customer` from `first` to `last` (both included). Opening, closing and the
    period's totals are sums in the database; `lines` are all the period's lines, or with `limit`
    the `limit` lines from `offset` with the running balance they carry there."""
    today = today or timezone.localdate()
    keys = _window_keys(customer.pk, first, last, offset, limit) if limit is not None else None
    opening = debits = credits = invoiced = carried = ZERO
    count = 0
    period = Q(on__gte=first)
    for source in SOURCES:
        rows = source.dated(customer.pk).filter(on__lte=last)
        sums = {"count": Count("pk", filter=period)}
        if source.moves_balance:
            sums["opening"] = Sum(source.balance(), filter=Q(on__lt=first))
            if keys and offset:
                sums["carried"] = Sum(source.balance(), filter=period & _before_key(source, keys[0]))
        else:
            rows = rows.filter(period)  # billed, not owed: nothing before the period counts
        for name in ("debit", "credit", "invoiced"):
            if getattr(source, name) is not None:
                sums[name] = Sum(getattr(source, name), filter=period)
        got = rows.aggregate(**sums)
        opening += got.get("opening") or ZERO
        carried += got.get("carried") or ZERO
        debits += got.get("debit") or ZERO
        credits += got.get("credit") or ZERO
        invoiced += got.get("invoiced") or ZERO
        count += got["count"]
    lines: list[StatementLine] = []
    for source in SOURCES:
        rows = source.dated(customer.pk)
        if keys is None:
            rows = rows.filter(period, on__lte=last)
        else:
            pks = [pk for _on, rank, pk in keys if rank == source.rank]
            if not pks:
                continue
            rows = rows.filter(pk__in=pks)
        lines.extend(
            source.line(pk, _as_date(on), *rest) for pk, on, *rest in rows.values_list("pk", "on", *source.fields)
        )
    lines.sort(key=lambda line: line.sort)
    opening = opening.quantize(FEN)
    running = opening + carried
    for line in lines:
        running += line.debit - line.credit
        line.balance = running
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
        closing=opening + debits - credits,
        debits=debits,
        credits=credits,
        invoiced=invoiced,
        owed_by_due=ordered,
        owed=owed,
        overdue=overdue,
        line_count=count,
        offset=offset,
        brought_forward=opening + carried,
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
    '<div class="d-md-none small text-secondary">{} <span class="text-nowrap">{}</span></div></td>'
    '<td class="text-end text-nowrap d-none d-md-table-cell">{}</td>'
    '<td class="text-end text-nowrap d-none d-md-table-cell">{}</td>'
    '<td class="text-end text-nowrap d-none d-md-table-cell">{}</td><td class="text-end text-nowrap">{}</td></tr>'
)


def rows_html(statement: Statement) -> str:
    """The page's table rows, escaped (one pass of `format_html` per row is several times faster than
    the template engine's per-cell work). On a phone the charged and paid columns fold into one
    signed amount under the description."""
    return format_html_join(
        "\n",
        ROW_HTML,
        (
            (
                on,
                ref,
                text,
                ref,
                f"+{debit}" if debit else f"−{credit}" if credit else "",
                debit,
                credit,
                invoiced,
                balance,
            )
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
