"""Quotes (报价单, SAL-3/SAL-4) under /api/v1/quotes: the quote, its lines and its lifecycle.

Amounts are strings of decimals (CNY, tax included unless named `_net`); a line's amount is rounded
to the fen and a quote's totals are sums of its rounded lines. Only drafts are edited (400
otherwise); a header edit names the version it read (409 when stale).
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from kehu.core.api import Day, Id, LongText, Page, Text
from kehu.core.pagination import Limit, Offset, page_of
from kehu.customers.selectors import customer_get
from kehu.quotes import selectors, services
from kehu.quotes.models import DocumentLanguage, Quote, QuoteState
from kehu.sales.selectors import opportunity_get
from kehu.users.models import User

router = Router(tags=["quotes"])

Quantity = Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=3)]
DiscountPercent = Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)]
UnitPrice = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=4)]
Version = Annotated[int, Field(ge=0, le=2**31)]
States = Literal["", *QuoteState.values]
Languages = Literal[*DocumentLanguage.values]


class QuoteOut(Schema):
    id: int
    number: str
    revision: int
    display_number: str
    previous_id: int | None
    customer_id: int
    customer_name: str
    opportunity_id: int | None
    contact_id: int | None
    owner_id: int
    owner_name: str
    state: str
    state_label: str
    title: str
    currency: str
    language: str
    quoted_on: date
    valid_until: date
    line_count: int
    total_net: Decimal
    total_tax: Decimal
    total: Decimal
    max_discount: Decimal
    below_floor: bool
    approved_at: datetime | None
    sent_at: datetime | None
    decided_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_display_number(obj):
        return str(obj)

    @staticmethod
    def resolve_customer_name(obj):
        return obj.customer.name

    @staticmethod
    def resolve_owner_name(obj):
        return obj.owner.get_full_name() or obj.owner.username

    @staticmethod
    def resolve_state_label(obj):
        return str(obj.get_state_display())


class QuoteLineOut(Schema):
    id: int
    position: int
    product_id: int
    specification_id: int
    code: str
    name: str
    specification_name: str
    unit: str
    quantity: Decimal
    list_price: Decimal | None
    base_price: Decimal
    price_source: str
    price_list_id: int | None
    discount: Decimal
    unit_price: Decimal
    floor_price: Decimal | None
    below_floor: bool
    tax_rate: Decimal
    amount: Decimal
    amount_net: Decimal
    tax: Decimal
    notes: str

    @staticmethod
    def resolve_below_floor(obj):
        return obj.floor_price is not None and obj.unit_price < obj.floor_price


class QuoteDetailOut(QuoteOut):
    payment_terms: str
    delivery_terms: str
    notes: str
    decision_note: str
    may_change: bool
    lines: list[QuoteLineOut]

    @staticmethod
    def resolve_may_change(obj, context):
        return services.may_change(context["request"].user, obj)

    @staticmethod
    def resolve_lines(obj):
        return selectors.quote_lines(obj)


class QuoteListPage(Page):
    items: list[QuoteOut]


class QuoteListQuery(Schema):
    q: Text(100) = Field("", description="The start of a number (Q2026-00…) or part of the customer's name or title.")
    state: States = ""
    owner_id: Id | None = None
    customer_id: Id | None = None
    opportunity_id: Id | None = None
    valid_from: Day | None = Field(None, description="Valid until this day or later.")
    valid_to: Day | None = Field(None, description="Valid until this day or earlier.")
    sort: Literal["-updated", "valid_until", "-total", "number"] = "-updated"
    limit: Limit = 25
    offset: Offset = 0


class QuoteIn(Schema):
    customer_id: Id | None = Field(None, description="The customer; or give `opportunity_id`.")
    opportunity_id: Id | None = Field(None, description="A quote for this opportunity (and its customer).")
    contact_id: Id | None = None
    owner_id: Id | None = Field(None, description="Default: you. Managers may give quotes to their team.")
    title: Text(200) = ""
    language: Languages = DocumentLanguage.CHINESE
    quoted_on: Day | None = Field(None, description="Default: today.")
    valid_until: Day | None = Field(None, description="Default: 30 days after the quote date.")
    payment_terms: LongText() = ""
    delivery_terms: LongText() = ""
    notes: LongText() = ""


class QuotePatch(Schema):
    version: Version = Field(description="The version you read; a stale one answers 409.")
    title: Text(200) | None = None
    contact_id: Id | None = None
    clear_contact: bool = False
    opportunity_id: Id | None = None
    clear_opportunity: bool = False
    owner_id: Id | None = None
    language: Languages | None = None
    quoted_on: Day | None = None
    valid_until: Day | None = None
    payment_terms: LongText() | None = None
    delivery_terms: LongText() | None = None
    notes: LongText() | None = None


class QuoteLineIn(Schema):
    specification_id: Id
    quantity: Quantity


class QuoteLinesIn(Schema):
    lines: list[QuoteLineIn] = Field(min_length=1, max_length=services.MAX_LINES)


class QuotePasteIn(Schema):
    text: LongText(200_000) = Field(
        min_length=1, description="Rows of a code and a quantity as a spreadsheet copies them (tab, comma or ;)."
    )


class QuoteLinePatch(Schema):
    quantity: Quantity | None = None
    discount: DiscountPercent | None = Field(None, description="A discount off the book price, in %.")
    unit_price: UnitPrice | None = Field(None, description="Or the unit price (the discount is derived).")
    notes: Text(200) | None = None


class QuoteSentIn(Schema):
    how: Literal["manual", "email", "link"] = "manual"


class QuoteDecisionIn(Schema):
    note: LongText(2000) = Field("", description="What the customer said.")


class QuoteLinesAdded(Schema):
    added: int
    quote: QuoteDetailOut


class DeletedQuoteOut(QuoteOut):
    deleted_at: datetime
    deleted_by_id: int | None


class DeletedQuotePage(Page):
    items: list[DeletedQuoteOut]


class DeletedQuoteQuery(Schema):
    limit: Limit = 25
    offset: Offset = 0


def _use(user) -> None:
    if not selectors.may_use_quotes(user):
        raise PermissionDenied


def _detail_out(user, quote: Quote) -> Quote:
    """The quote as read now (after a write), for QuoteDetailOut."""
    return selectors.quote_get(user, quote.pk)


def _writable(user, quote_id) -> Quote:
    _use(user)
    quote = selectors.quote_get(user, quote_id)
    if not services.may_change(user, quote):
        raise PermissionDenied
    return quote


def _user(pk, field: str) -> User:
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None:
        raise ValidationError({field: [_("Choose an active user.")]})
    return user


@router.get("", response=QuoteListPage)
def quote_list(request, query: Query[QuoteListQuery]):
    """Quotes you may see (yours, your team's, your account teams' customers'), newest change first."""
    _use(request.user)
    filters = selectors.QuoteFilters(
        q=query.q.strip(),
        state=query.state,
        owner_id=query.owner_id,
        customer_id=query.customer_id,
        opportunity_id=query.opportunity_id,
        valid_from=query.valid_from,
        valid_to=query.valid_to,
        sort=query.sort,
    )
    return selectors.quote_list(request.user, filters, limit=query.limit, offset=query.offset).as_dict()


@router.post("", response={201: QuoteDetailOut})
def quote_create(request, payload: QuoteIn):
    """A draft quote for a customer you may see, or for one of its opportunities."""
    if not request.user.has_perm("quotes.add_quote"):
        raise PermissionDenied
    data = payload.dict()
    customer = opportunity = None
    if data.pop("opportunity_id") is not None:
        try:
            opportunity = opportunity_get(request.user, payload.opportunity_id)
        except Http404:
            raise ValidationError({"opportunity_id": [_("No such opportunity in your scope.")]}) from None
    customer_id = data.pop("customer_id")
    if customer_id is not None:
        try:
            customer = customer_get(request.user, customer_id)
        except Http404:
            raise ValidationError({"customer_id": [_("No such customer in your scope.")]}) from None
        if opportunity is not None and opportunity.customer_id != customer.pk:
            raise ValidationError({"opportunity_id": [_("Choose an opportunity of this customer.")]})
    if customer is None and opportunity is None:
        raise ValidationError({"customer_id": [_("Choose a customer or an opportunity.")]})
    target = customer or opportunity.customer
    contact_id = data.pop("contact_id")
    if contact_id is not None:
        data["contact"] = services.contact_for(target, contact_id)
        if data["contact"] is None:
            raise ValidationError({"contact_id": [_("Choose a contact of this customer.")]})
    owner_id = data.pop("owner_id")
    owner = _user(owner_id, "owner_id") if owner_id is not None else None
    data = {k: v for k, v in data.items() if v is not None}
    quote = services.quote_create(customer=customer, opportunity=opportunity, owner=owner, actor=request.user, **data)
    return Status(201, _detail_out(request.user, quote))


@router.get("/deleted", response=DeletedQuotePage)
def quote_deleted_list(request, query: Query[DeletedQuoteQuery]):
    """The quotes' recycle bin: deleted quotes of your scope (for those who may delete quotes)."""
    if not request.user.has_perm("quotes.delete_quote"):
        raise PermissionDenied
    return page_of(selectors.deleted_quotes_for(request.user), offset=query.offset, limit=query.limit).as_dict()


@router.get("/{quote_id}", response=QuoteDetailOut)
def quote_read(request, quote_id: Id):
    """The quote with its lines in order and its totals."""
    _use(request.user)
    return _detail_out(request.user, selectors.quote_get(request.user, quote_id))


@router.patch("/{quote_id}", response=QuoteDetailOut)
def quote_update(request, quote_id: Id, payload: QuotePatch):
    """Change a draft's header (400 for a quote that is no longer a draft, 409 for a stale version)."""
    quote = _writable(request.user, quote_id)
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    header = {}
    if data.pop("clear_contact", False):
        header["contact"] = None
    elif data.get("contact_id") is not None:
        header["contact"] = services.contact_for(quote.customer, data["contact_id"])
        if header["contact"] is None:
            raise ValidationError({"contact_id": [_("Choose a contact of this customer.")]})
    data.pop("contact_id", None)
    if data.pop("clear_opportunity", False):
        header["opportunity"] = None
    elif data.get("opportunity_id") is not None:
        try:
            header["opportunity"] = opportunity_get(request.user, data["opportunity_id"])
        except Http404:
            raise ValidationError({"opportunity_id": [_("No such opportunity in your scope.")]}) from None
    data.pop("opportunity_id", None)
    if data.get("owner_id") is not None:
        header["owner"] = _user(data["owner_id"], "owner_id")
    data.pop("owner_id", None)
    header.update({k: v for k, v in data.items() if v is not None})
    services.quote_update(quote=quote, actor=request.user, expected_version=version, **header)
    return _detail_out(request.user, quote)


@router.delete("/{quote_id}", response={204: None})
def quote_delete(request, quote_id: Id):
    """To the recycle bin (not an accepted quote, nor one waiting for approval)."""
    _use(request.user)
    quote = selectors.quote_get(request.user, quote_id)
    services.quote_delete(quote=quote, actor=request.user)
    return Status(204, None)


@router.post("/{quote_id}/restore", response=QuoteDetailOut)
def quote_restore(request, quote_id: Id):
    """Back from the recycle bin."""
    quote = selectors.deleted_quote_get(request.user, quote_id)
    services.quote_restore(quote=quote, actor=request.user)
    return _detail_out(request.user, quote)


@router.get("/{quote_id}/versions", response=list[QuoteOut])
def quote_versions(request, quote_id: Id):
    """Every version of the quote's number you may see, the first revision first."""
    _use(request.user)
    return selectors.quote_versions(request.user, selectors.quote_get(request.user, quote_id))


@router.get("/{quote_id}/lines", response=list[QuoteLineOut])
def quote_lines(request, quote_id: Id):
    _use(request.user)
    return selectors.quote_lines(selectors.quote_get(request.user, quote_id))


@router.post("/{quote_id}/lines", response={201: QuoteLinesAdded})
def quote_lines_add(request, quote_id: Id, payload: QuoteLinesIn):
    """Add lines priced by the price book; all or nothing (400 lists each problem)."""
    quote = _writable(request.user, quote_id)
    added = services.quote_lines_add(
        quote=quote, actor=request.user, lines=[(line.specification_id, line.quantity) for line in payload.lines]
    )
    return Status(201, {"added": len(added), "quote": _detail_out(request.user, quote)})


@router.post("/{quote_id}/lines/paste", response={201: QuoteLinesAdded})
def quote_lines_paste(request, quote_id: Id, payload: QuotePasteIn):
    """Add lines pasted from a spreadsheet: "code<TAB>quantity" a row (also comma or semicolon; a
    header row, blank rows, full-width digits and thousands separators are understood). Each bad row
    is listed in `errors.text` and then nothing is added."""
    quote = _writable(request.user, quote_id)
    added = services.quote_lines_paste(quote=quote, actor=request.user, text=payload.text)
    return Status(201, {"added": len(added), "quote": _detail_out(request.user, quote)})


def _line(request, quote_id, line_id):
    quote = _writable(request.user, quote_id)
    line = selectors.quote_line_get(request.user, quote.pk, line_id)
    return quote, line


@router.patch("/{quote_id}/lines/{line_id}", response=QuoteDetailOut)
def quote_line_update(request, quote_id: Id, line_id: Id, payload: QuoteLinePatch):
    """Change a line: its quantity (priced again), its discount or its unit price (not both), its notes."""
    quote, line = _line(request, quote_id, line_id)
    services.quote_line_update(line=line, actor=request.user, **payload.dict(exclude_unset=True))
    return _detail_out(request.user, quote)


@router.delete("/{quote_id}/lines/{line_id}", response=QuoteDetailOut)
def quote_line_remove(request, quote_id: Id, line_id: Id):
    quote, line = _line(request, quote_id, line_id)
    services.quote_line_remove(line=line, actor=request.user)
    return _detail_out(request.user, quote)


@router.post("/{quote_id}/reprice", response=QuoteDetailOut)
def quote_reprice(request, quote_id: Id):
    """Price every line again from today's price book (discounts kept)."""
    quote = _writable(request.user, quote_id)
    services.quote_reprice(quote=quote, actor=request.user)
    return _detail_out(request.user, quote)


@router.post("/{quote_id}/submit", response=QuoteDetailOut)
def quote_submit(request, quote_id: Id):
    """Approved at once, or waiting for approval when a discount is beyond your limit or a line is
    below its floor price."""
    quote = _writable(request.user, quote_id)
    services.quote_submit(quote=quote, actor=request.user)
    return _detail_out(request.user, quote)


@router.post("/{quote_id}/withdraw", response=QuoteDetailOut)
def quote_withdraw(request, quote_id: Id):
    """Take the quote back out of approval (to change it)."""
    quote = _writable(request.user, quote_id)
    services.quote_withdraw(quote=quote, actor=request.user)
    return _detail_out(request.user, quote)


@router.post("/{quote_id}/sent", response=QuoteDetailOut)
def quote_mark_sent(request, quote_id: Id, payload: QuoteSentIn):
    """The customer has the approved quote."""
    quote = _writable(request.user, quote_id)
    services.quote_mark_sent(quote=quote, actor=request.user, how=payload.how)
    return _detail_out(request.user, quote)


@router.post("/{quote_id}/accept", response=QuoteDetailOut)
def quote_accept(request, quote_id: Id, payload: QuoteDecisionIn):
    """The customer accepts: the quote's opportunity is won."""
    quote = _writable(request.user, quote_id)
    services.quote_accept(quote=quote, actor=request.user, note=payload.note)
    return _detail_out(request.user, quote)


@router.post("/{quote_id}/reject", response=QuoteDetailOut)
def quote_reject(request, quote_id: Id, payload: QuoteDecisionIn):
    """The customer says no."""
    quote = _writable(request.user, quote_id)
    services.quote_reject(quote=quote, actor=request.user, note=payload.note)
    return _detail_out(request.user, quote)


@router.post("/{quote_id}/revise", response={201: QuoteDetailOut})
def quote_revise(request, quote_id: Id):
    """A new version as a draft (same number, next revision, lines copied); this one is superseded."""
    quote = _writable(request.user, quote_id)
    revision = services.quote_revise(quote=quote, actor=request.user)
    return Status(201, _detail_out(request.user, revision))
