"""The ageing report, customer statements and credit control in the REST API (SAL-9, CLS-4), under
/api/v1/receivables/ beside the plans and payments, through the same functions as the pages."""

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from kehu.core.api import Day, FieldErrors, Id, Message, Page
from kehu.core.pagination import Limit, Offset
from kehu.customers.selectors import customer_get
from kehu.quotes.document_views import pdf_response
from kehu.receivables import ageing, credit
from kehu.receivables import statement as statements
from kehu.receivables.models import CreditStage, CustomerBalance, ReceivablesSettings

router = Router(tags=["receivables"])

ERRORS = {400: FieldErrors, 403: Message, 404: Message}
Amount = Annotated[Decimal, Field(ge=0, le=Decimal("99999999999999.99"), max_digits=16, decimal_places=2)]
PLAN_PERM = "receivables.view_paymentplan"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class AgeingBucketsOut(Schema):
    d0_30: Decimal = Field(description="0–30 days past the due date (due today counts as 0)")
    d31_60: Decimal
    d61_90: Decimal
    d91_180: Decimal
    d181: Decimal = Field(description="more than 180 days")


class AgeingRowOut(Schema):
    key: int = Field(description="department id (0: no department), user id or customer id")
    label: str
    owed: Decimal
    due: Decimal
    not_due: Decimal
    not_invoiced: Decimal
    buckets: AgeingBucketsOut


class AgeingYearOut(Schema):
    year: int
    outstanding: Decimal


class AgeingSummaryOut(Schema):
    level: str
    today: date
    rows: list[AgeingRowOut]
    total: AgeingRowOut
    years: list[AgeingYearOut]


class AgeingSummaryQuery(Schema):
    level: Literal["department", "rep"] = "department"
    department: Annotated[int, Field(ge=0, le=2**31 - 1)] | None = None


class AgeingCustomerQuery(Schema):
    department: Annotated[int, Field(ge=0, le=2**31 - 1)] | None = None
    owner: Id | None = None
    limit: Limit = 50
    offset: Offset = 0


class AgeingCustomerList(Page):
    items: list[AgeingRowOut]


class StatementLineOut(Schema):
    on: date
    kind: str = Field(description="order, plan, invoice, payment, refund or reversal")
    reference: str
    description: str
    debit: Decimal = Field(description="adds to what the customer owes")
    credit: Decimal = Field(description="takes off what the customer owes")
    invoiced: Decimal = Field(description="invoiced amount, for the record (does not move the balance)")
    balance: Decimal


class StatementDueOut(Schema):
    due_on: date | None
    amount: Decimal


class StatementOut(Schema):
    customer_id: int
    customer: str
    first: date
    last: date
    opening: Decimal
    closing: Decimal
    debits: Decimal
    credits: Decimal
    invoiced: Decimal
    owed: Decimal
    overdue: Decimal
    lines: list[StatementLineOut]
    owed_by_due: list[StatementDueOut]


class StatementQuery(Schema):
    first: Day | None = Field(None, description="first day (default: the first of the month two months back)")
    last: Day | None = Field(None, description="last day (default: today)")


class CreditCheckIn(Schema):
    customer_id: Id
    amount: Amount
    stage: Literal["order", "delivery", "invoice"] = "order"


class CreditCheckOut(Schema):
    customer_id: int
    held: bool
    limit: Decimal
    exposure: Decimal
    overdue: Decimal
    reasons: list[str]
    over_limit: bool
    owed: Decimal
    checked_at_stage: bool = Field(description="whether the company holds at this stage (ReceivablesSettings)")


class ReceivablesSettingsOut(Schema):
    credit_stage: str
    hold_over_limit: bool
    hold_overdue_days: int | None
    payments_need_approval: bool
    remind_days_before_due: int


class ReceivablesSettingsIn(Schema):
    credit_stage: Literal["off", "order", "delivery", "invoice"]
    hold_over_limit: bool
    hold_overdue_days: Annotated[int, Field(ge=0, le=3650)] | None
    payments_need_approval: bool
    remind_days_before_due: Annotated[int, Field(ge=0, le=365)]


def _row(row: ageing.AgeingRow) -> dict:
    return {
        "key": row.key,
        "label": row.label,
        "owed": row.owed,
        "due": row.due,
        "not_due": row.not_due,
        "not_invoiced": row.not_invoiced,
        "buckets": dict(row.buckets),
    }


@router.get("/ageing", response={200: AgeingSummaryOut, 403: Message})
def ageing_summary(request, query: Query[AgeingSummaryQuery]):
    """The ageing report by department or rep, in the reader's scope (receivables.view_ageing)."""
    summary = ageing.ageing_summary(request.user, level=query.level, department=query.department)
    return {
        "level": summary.level,
        "today": summary.today,
        "rows": [_row(r) for r in summary.rows],
        "total": _row(summary.total),
        "years": [{"year": y, "outstanding": a} for y, a in summary.years],
    }


@router.get("/ageing/customers", response={200: AgeingCustomerList, 403: Message})
def ageing_customers(request, query: Query[AgeingCustomerQuery]):
    """The ageing report per customer, largest balance first."""
    page, rows = ageing.customer_page(
        request.user, department=query.department, owner=query.owner, offset=query.offset, limit=query.limit
    )
    return {
        "items": [_row(r) for r in rows],
        "count": page.count,
        "count_is_capped": page.count_is_capped,
        "has_next": page.has_next,
    }


def _statement(request, customer_id: int, query: StatementQuery) -> statements.Statement:
    customer = customer_get(request.user, customer_id)
    if not request.user.has_perm(PLAN_PERM):
        raise PermissionDenied
    first, last = statements.default_period()
    first = query.first or first
    last = query.last or last
    if first > last:
        raise ValidationError({"first": [_("The first day must not be after the last.")]})
    if (last - first).days > statements.MAX_DAYS:
        raise ValidationError({"last": [_("A statement covers at most three years.")]})
    return statements.statement_build(customer, first, last)


@router.get("/statements/{customer_id}", response={200: StatementOut, **ERRORS})
def statement_json(request, customer_id: Id, query: Query[StatementQuery]):
    """A customer's statement (对账单): opening balance, lines with a running balance, closing balance."""
    return _statement(request, customer_id, query).as_dict()


@router.get(
    "/statements/{customer_id}/pdf",
    response={200: None, **ERRORS},
    openapi_extra={"responses": {200: {"description": "The statement as PDF", "content": {"application/pdf": {}}}}},
)
def statement_pdf(request, customer_id: Id, query: Query[StatementQuery]):
    s = _statement(request, customer_id, query)
    return pdf_response(statements.statement_pdf(s), statements.file_name(s, ".pdf"), download=True)


@router.get(
    "/statements/{customer_id}/xlsx",
    response={200: None, **ERRORS},
    openapi_extra={"responses": {200: {"description": "The statement as .xlsx", "content": {XLSX: {}}}}},
)
def statement_xlsx(request, customer_id: Id, query: Query[StatementQuery]):
    s = _statement(request, customer_id, query)
    response = HttpResponse(statements.statement_xlsx(s), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="statement-{customer_id}.xlsx"'
    response["Cache-Control"] = "private, no-store"
    return response


@router.post("/credit-check", response={200: CreditCheckOut, **ERRORS})
def credit_check(request, payload: CreditCheckIn):
    """Whether an amount would be held for a credit exception (a question; nothing is written)."""
    customer = customer_get(request.user, payload.customer_id)
    if not request.user.has_perm(PLAN_PERM):
        raise PermissionDenied
    conf = ReceivablesSettings.current()
    verdict = credit.credit_verdict(customer.pk, payload.amount, conf=conf, stage=payload.stage)
    balance = CustomerBalance.objects.filter(customer_id=customer.pk).first()
    return {
        "customer_id": customer.pk,
        "held": verdict.held,
        "limit": verdict.limit,
        "exposure": verdict.exposure,
        "overdue": verdict.overdue,
        "reasons": list(verdict.reasons),
        "over_limit": verdict.exposure > verdict.limit,
        "owed": balance.owed if balance else Decimal("0"),
        "checked_at_stage": conf.credit_stage == payload.stage and conf.credit_stage != CreditStage.OFF,
    }


def _settings_out(conf: ReceivablesSettings) -> dict:
    return {name: getattr(conf, name) for name in credit.SETTINGS_FIELDS}


@router.get("/credit-settings", response={200: ReceivablesSettingsOut, 403: Message})
def settings_get(request):
    if not credit.may_manage_credit(request.user):
        raise PermissionDenied
    return _settings_out(ReceivablesSettings.current())


@router.put("/credit-settings", response={200: ReceivablesSettingsOut, **ERRORS})
def settings_put(request, payload: ReceivablesSettingsIn):
    """Change the credit control and receivables settings (receivables.manage_credit)."""
    if not credit.may_manage_credit(request.user):
        raise PermissionDenied
    return _settings_out(credit.receivables_settings_update(actor=request.user, **payload.dict()))
