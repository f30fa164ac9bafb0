"""Invoices (发票) under /api/v1/invoices: a customer's titles (抬头), requests, approval, issue, red-letter reversal.

Amounts are strings of decimals (CNY, tax included unless named `_net`); a line's amount is rounded to
the fen and an invoice's totals are sums of its lines. Red-letter invoices have negative amounts.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from kehu.contracts.models import Contract
from kehu.core.api import Day, Id, LongText, Page, Text
from kehu.core.pagination import Limit, Offset
from kehu.customers.selectors import customer_get, customer_qs_visible_to
from kehu.invoices import selectors, services
from kehu.invoices.models import Invoice, InvoiceState, InvoiceType, TitleKind
from kehu.orders.selectors import order_get

router = Router(tags=["invoices"])

Quantity = Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=3)]
UnitPrice = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=4)]
TaxRate = Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)]
Version = Annotated[int, Field(ge=0, le=2**31)]
States = Literal["", *InvoiceState.values]
Types = Literal[*InvoiceType.values]
Kinds = Literal[*TitleKind.values]


class InvoiceTitleOut(Schema):
    id: int
    customer_id: int
    kind: str
    name: str
    tax_number: str
    bank_name: str
    bank_account: str
    address: str
    phone: str
    is_default: bool


class InvoiceTitleIn(Schema):
    kind: Kinds = TitleKind.COMPANY
    name: Text(200)
    tax_number: Text(20) = Field("", description="The unified social credit code; required for a company.")
    bank_name: Text(100) = ""
    bank_account: Text(40) = ""
    address: Text(200) = ""
    phone: Text(40) = ""
    is_default: bool = False


class InvoiceTitlePatch(Schema):
    kind: Kinds | None = None
    name: Text(200) | None = None
    tax_number: Text(20) | None = None
    bank_name: Text(100) | None = None
    bank_account: Text(40) | None = None
    address: Text(200) | None = None
    phone: Text(40) | None = None
    is_default: bool | None = Field(None, description="true: this title becomes the customer's default.")


class InvoiceOut(Schema):
    id: int
    number: str
    customer_id: int
    customer_name: str
    order_id: int | None
    contract_id: int | None
    owner_id: int
    state: str
    state_label: str
    invoice_type: str
    title_id: int | None
    title_name: str
    tax_number: str
    amount: Decimal
    amount_net: Decimal
    tax: Decimal
    line_count: int
    invoice_number: str
    issued_on: date | None
    logistics_number: str
    is_red: bool
    reverses_id: int | None
    reversal_reason: str
    approved_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_customer_name(obj):
        return obj.customer.name

    @staticmethod
    def resolve_state_label(obj):
        return str(obj.get_state_display())


class InvoiceLineOut(Schema):
    id: int
    position: int
    order_line_id: int | None
    product_id: int | None
    specification_id: int | None
    name: str
    specification_name: str
    unit: str
    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal
    amount: Decimal
    amount_net: Decimal
    tax: Decimal


class InvoiceDetailOut(InvoiceOut):
    bank_name: str
    bank_account: str
    address: str
    phone: str
    notes: str
    issued_by_id: int | None
    may_change: bool
    lines: list[InvoiceLineOut]

    @staticmethod
    def resolve_may_change(obj, context):
        return services.may_change(context["request"].user, obj)

    @staticmethod
    def resolve_lines(obj):
        return selectors.invoice_lines(obj)


class InvoicePage(Page):
    items: list[InvoiceOut]


class InvoiceListQuery(Schema):
    q: Text(60) = Field("", description="The start of a request number (FP2026-…) or an invoice number.")
    state: States = ""
    invoice_type: Literal["", *InvoiceType.values] = ""
    customer_id: Id | None = None
    owner_id: Id | None = None
    order_id: Id | None = None
    contract_id: Id | None = None
    issued_from: Day | None = None
    issued_to: Day | None = None
    limit: Limit = 25
    offset: Offset = 0


class OrderLinePick(Schema):
    order_line_id: Id
    quantity: Quantity


class TypedLineIn(Schema):
    name: Text(200)
    specification_name: Text(200) = ""
    unit: Text(10) = ""
    quantity: Quantity
    unit_price: UnitPrice = Field(description="Tax included.")
    tax_rate: TaxRate = Field(description="In %, e.g. 13.")


class InvoiceIn(Schema):
    customer_id: Id | None = Field(None, description="The customer; or give `order_id` or `contract_id`.")
    order_id: Id | None = Field(None, description="Invoice this order's lines.")
    contract_id: Id | None = None
    title_id: Id | None = Field(None, description="Default: the customer's default title.")
    invoice_type: Types = InvoiceType.SPECIAL
    notes: LongText(2000) = ""
    order_lines: list[OrderLinePick] | None = Field(
        None, max_length=services.MAX_LINES, description="Of an order: what to invoice; omitted: all that is left."
    )
    lines: list[TypedLineIn] | None = Field(None, max_length=services.MAX_LINES, description="Without an order.")
    submit: bool = Field(False, description="Send it for approval at once.")


class InvoicePatch(Schema):
    version: Version = Field(description="The version you read; a stale one answers 409.")
    title_id: Id | None = None
    invoice_type: Types | None = None
    notes: LongText(2000) | None = None


class InvoiceLinesIn(Schema):
    order_lines: list[OrderLinePick] | None = Field(None, max_length=services.MAX_LINES)
    lines: list[TypedLineIn] | None = Field(None, max_length=services.MAX_LINES)


class InvoiceIssueIn(Schema):
    invoice_number: Text(40)
    issued_on: Day | None = Field(None, description="Default: today.")
    invoice_type: Types | None = None
    logistics_number: Text(60) = ""


class InvoiceReverseIn(Schema):
    reason: LongText(2000) = Field(min_length=1)
    invoice_number: Text(40) = Field("", description="The red-letter invoice's number, when known.")
    issued_on: Day | None = None


def _use(user) -> None:
    if not selectors.may_use_invoices(user):
        raise PermissionDenied


def _out(user, invoice: Invoice) -> Invoice:
    return selectors.invoice_get(user, invoice.pk)


def _writable(user, invoice_id) -> Invoice:
    _use(user)
    invoice = selectors.invoice_get(user, invoice_id)
    if not services.may_change(user, invoice):
        raise PermissionDenied
    return invoice


def _customer(user, customer_id):
    _use(user)
    try:
        return customer_get(user, customer_id)
    except Http404:
        raise Http404 from None


def _title(customer, title_id):
    if title_id is None:
        return None
    try:
        return selectors.title_get(customer, title_id)
    except Http404:
        raise ValidationError({"title_id": [_("Choose one of this customer's invoice titles.")]}) from None


def _typed(lines) -> list[dict]:
    return [line.dict() for line in lines]


# --- titles --------------------------------------------------------------------------------------


@router.get("/customers/{customer_id}/titles", response=list[InvoiceTitleOut])
def title_list(request, customer_id: Id):
    """The customer's invoice titles, the default first."""
    return selectors.titles_of(_customer(request.user, customer_id))


@router.post("/customers/{customer_id}/titles", response={201: InvoiceTitleOut})
def title_create(request, customer_id: Id, payload: InvoiceTitleIn):
    """Add a title; its customer's first one (or one sent with is_default) becomes the default."""
    customer = _customer(request.user, customer_id)
    return Status(201, services.invoice_title_create(customer=customer, actor=request.user, **payload.dict()))


@router.patch("/customers/{customer_id}/titles/{title_id}", response=InvoiceTitleOut)
def title_update(request, customer_id: Id, title_id: Id, payload: InvoiceTitlePatch):
    customer = _customer(request.user, customer_id)
    title = selectors.title_get(customer, title_id)
    data = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    return services.invoice_title_update(title=title, actor=request.user, **data)


@router.delete("/customers/{customer_id}/titles/{title_id}", response={204: None})
def title_delete(request, customer_id: Id, title_id: Id):
    """Remove a title (invoices keep their copy of it)."""
    customer = _customer(request.user, customer_id)
    services.invoice_title_delete(title=selectors.title_get(customer, title_id), actor=request.user)
    return Status(204, None)


# --- invoices ------------------------------------------------------------------------------------


@router.get("", response=InvoicePage)
def invoice_list(request, query: Query[InvoiceListQuery]):
    """Invoices you may see, newest change first."""
    _use(request.user)
    filters = selectors.InvoiceFilters(
        q=query.q.strip(),
        state=query.state,
        invoice_type=query.invoice_type,
        customer_id=query.customer_id,
        owner_id=query.owner_id,
        order_id=query.order_id,
        contract_id=query.contract_id,
        issued_from=query.issued_from,
        issued_to=query.issued_to,
    )
    return selectors.invoice_list(request.user, filters, limit=query.limit, offset=query.offset).as_dict()


@router.post("", response={201: InvoiceDetailOut})
def invoice_create(request, payload: InvoiceIn):
    """An invoice request: of an order's lines (all that is left unless `order_lines` says), of a
    contract or of a customer (typed `lines`). Over-invoicing an order line answers 400."""
    user = request.user
    _use(user)
    if not user.has_perm("invoices.request_invoice"):
        raise PermissionDenied
    order = contract = customer = None
    if payload.order_id is not None:
        try:
            order = order_get(user, payload.order_id)
        except Http404:
            raise ValidationError({"order_id": [_("No such order in your scope.")]}) from None
        customer = order.customer
    if payload.contract_id is not None:
        contract = Contract.objects.filter(
            pk=payload.contract_id, customer__in=customer_qs_visible_to(user).values("pk"), deleted_at__isnull=True
        ).first()
        if contract is None:
            raise ValidationError({"contract_id": [_("No such contract in your scope.")]})
        customer = customer or contract.customer
    if payload.customer_id is not None:
        try:
            given = customer_get(user, payload.customer_id)
        except Http404:
            raise ValidationError({"customer_id": [_("No such customer in your scope.")]}) from None
        if customer is not None and customer.pk != given.pk:
            raise ValidationError({"customer_id": [_("The order or contract is of another customer.")]})
        customer = given
    if customer is None:
        raise ValidationError({"customer_id": [_("Choose a customer, an order or a contract.")]})
    if order is not None:
        lines = None if payload.order_lines is None else [(p.order_line_id, p.quantity) for p in payload.order_lines]
    else:
        lines = _typed(payload.lines or [])
    invoice = services.invoice_request(
        customer=customer,
        actor=user,
        order=order,
        contract=contract,
        title=_title(customer, payload.title_id),
        invoice_type=payload.invoice_type,
        notes=payload.notes,
        lines=lines,
        submit=payload.submit,
    )
    return Status(201, _out(user, invoice))


@router.get("/{invoice_id}", response=InvoiceDetailOut)
def invoice_read(request, invoice_id: Id):
    _use(request.user)
    return selectors.invoice_get(request.user, invoice_id)


@router.patch("/{invoice_id}", response=InvoiceDetailOut)
def invoice_update(request, invoice_id: Id, payload: InvoicePatch):
    """Change a draft's title (copied again), type or notes."""
    invoice = _writable(request.user, invoice_id)
    data = payload.dict(exclude_unset=True)
    title = _title(invoice.customer, data.get("title_id"))
    services.invoice_update(
        invoice=invoice,
        actor=request.user,
        expected_version=data["version"],
        title=title,
        invoice_type=data.get("invoice_type"),
        notes=data.get("notes"),
    )
    return _out(request.user, invoice)


@router.get("/{invoice_id}/lines", response=list[InvoiceLineOut])
def invoice_lines(request, invoice_id: Id):
    _use(request.user)
    return selectors.invoice_lines(selectors.invoice_get(request.user, invoice_id))


@router.put("/{invoice_id}/lines", response=InvoiceDetailOut)
def invoice_lines_set(request, invoice_id: Id, payload: InvoiceLinesIn):
    """Replace a draft's lines: `order_lines` for an order's invoice, `lines` otherwise."""
    invoice = _writable(request.user, invoice_id)
    if invoice.order_id:
        lines = [(p.order_line_id, p.quantity) for p in payload.order_lines or []]
        if not lines:
            raise ValidationError({"order_lines": [_("Add at least one line.")]})
    else:
        lines = _typed(payload.lines or [])
    services.invoice_update(invoice=invoice, actor=request.user, lines=lines, replace_lines=True)
    return _out(request.user, invoice)


@router.post("/{invoice_id}/submit", response=InvoiceDetailOut)
def invoice_submit(request, invoice_id: Id):
    """Send a draft for approval (a credit exception first when the credit check holds it)."""
    invoice = _writable(request.user, invoice_id)
    services.invoice_submit(invoice=invoice, actor=request.user)
    return _out(request.user, invoice)


@router.post("/{invoice_id}/withdraw", response=InvoiceDetailOut)
def invoice_withdraw(request, invoice_id: Id):
    invoice = _writable(request.user, invoice_id)
    services.invoice_withdraw(invoice=invoice, actor=request.user)
    return _out(request.user, invoice)


@router.post("/{invoice_id}/cancel", response=InvoiceDetailOut)
def invoice_cancel(request, invoice_id: Id):
    """Cancel a draft, or an approved request not issued."""
    _use(request.user)
    invoice = selectors.invoice_get(request.user, invoice_id)
    services.invoice_cancel(invoice=invoice, actor=request.user)
    return _out(request.user, invoice)


@router.post("/{invoice_id}/issue", response=InvoiceDetailOut)
def invoice_issue(request, invoice_id: Id, payload: InvoiceIssueIn):
    """Finance issues an approved request (its number, date, type and logistics number)."""
    _use(request.user)
    invoice = selectors.invoice_get(request.user, invoice_id)
    services.invoice_issue(invoice=invoice, actor=request.user, **payload.dict())
    return _out(request.user, invoice)


@router.post("/{invoice_id}/reverse", response={201: InvoiceDetailOut})
def invoice_reverse(request, invoice_id: Id, payload: InvoiceReverseIn):
    """红冲: the red-letter invoice (negative amounts and lines) is issued and returned; the original
    becomes reversed."""
    _use(request.user)
    invoice = selectors.invoice_get(request.user, invoice_id)
    red = services.invoice_reverse(invoice=invoice, actor=request.user, **payload.dict())
    return Status(201, _out(request.user, red))
