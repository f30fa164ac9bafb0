"""Contracts (合同, CON-1/CON-2) under /api/v1/contracts: the contract, its lines, stage moves,
amendments, attachments and the documents (PDF, .docx).

Amounts are strings of decimals (CNY, tax included). Only drafts are edited (400 otherwise); an
edit names the version it read (409 when stale). A signed contract changes through amendments.
Rollups (ordered … received, plans) are written by the orders, invoices and receivables apps.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from kehu.contracts import document, selectors, services
from kehu.contracts.models import Contract, ContractStage, ContractTemplate, DocumentLanguage
from kehu.core.api import Day, Id, LongText, Message, Page, Text
from kehu.core.pagination import Limit, Offset
from kehu.customers.models import Contact
from kehu.customers.selectors import customer_get
from kehu.quotes.selectors import quote_get
from kehu.sales.selectors import opportunity_get
from kehu.users.models import User

router = Router(tags=["contracts"])

Amount = Annotated[Decimal, Field(ge=0, max_digits=16, decimal_places=2)]
Quantity = Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=3)]
UnitPrice = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=4)]
Version = Annotated[int, Field(ge=0, le=2**31)]
Stages = Literal["", *ContractStage.values]
Languages = Literal[*DocumentLanguage.values]


class ContractOut(Schema):
    id: int
    number: str
    title: str
    customer_id: int
    customer_name: str
    opportunity_id: int | None
    quote_id: int | None
    contact_id: int | None
    owner_id: int
    owner_name: str
    stage: str
    stage_label: str
    currency: str
    language: str
    signed_amount: Decimal
    amount: Decimal
    ordered_amount: Decimal
    delivered_amount: Decimal
    invoiced_amount: Decimal
    received_amount: Decimal
    outstanding_amount: Decimal
    received_percent: Decimal
    plans_count: int
    plans_done: int
    line_count: int
    starts_on: date | None
    ends_on: date | None
    signed_on: date | None
    approved_at: datetime | None
    closed_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_customer_name(obj):
        return obj.customer.name

    @staticmethod
    def resolve_owner_name(obj):
        return obj.owner.get_full_name() or obj.owner.username

    @staticmethod
    def resolve_stage_label(obj):
        return services.stage_display(obj)


class ContractLineOut(Schema):
    id: int
    position: int
    product_id: int
    specification_id: int
    code: str
    name: str
    specification_name: str
    unit: str
    quantity: Decimal
    unit_price: Decimal
    discount: Decimal
    tax_rate: Decimal
    amount: Decimal
    amount_net: Decimal
    tax: Decimal


class ContractDetailOut(ContractOut):
    payment_terms: str
    delivery_terms: str
    other_terms: str
    our_signatory: str
    notes: str
    close_reason: str
    template_id: int | None
    may_change: bool
    lines: list[ContractLineOut]

    @staticmethod
    def resolve_may_change(obj, context):
        return services.may_change(context["request"].user, obj)

    @staticmethod
    def resolve_lines(obj):
        return selectors.contract_lines(obj)


class ContractListPage(Page):
    items: list[ContractOut]


class ContractListQuery(Schema):
    q: Text(100) = Field("", description="The start of a number (HT2026-…) or part of the title or customer's name.")
    stage: Stages = ""
    owner_id: Id | None = None
    customer_id: Id | None = None
    expiring_days: Annotated[int, Field(ge=0, le=3650)] | None = Field(
        None, description="In force and ending within this many days."
    )
    sort: Literal["-updated", "ends_on", "-amount", "-number"] = "-updated"
    limit: Limit = 25
    offset: Offset = 0


class ContractIn(Schema):
    customer_id: Id | None = Field(None, description="The customer; or give `opportunity_id` or `quote_id`.")
    opportunity_id: Id | None = None
    quote_id: Id | None = Field(None, description="An ACCEPTED quote: its lines and terms are copied.")
    contact_id: Id | None = None
    owner_id: Id | None = Field(None, description="Default: you.")
    template_id: Id | None = None
    title: Text(200) = ""
    language: Languages | None = None
    amount: Amount | None = Field(None, description="Typed only for a contract without lines.")
    payment_terms: LongText() | None = None
    delivery_terms: LongText() | None = None
    other_terms: LongText() | None = None
    starts_on: Day | None = None
    ends_on: Day | None = None
    our_signatory: Text(100) = ""
    notes: LongText() = ""


class ContractPatch(Schema):
    version: Version = Field(description="The version you read; a stale one answers 409.")
    title: Text(200) | None = None
    contact_id: Id | None = None
    clear_contact: bool = False
    owner_id: Id | None = None
    template_id: Id | None = None
    language: Languages | None = None
    amount: Amount | None = None
    payment_terms: LongText() | None = None
    delivery_terms: LongText() | None = None
    other_terms: LongText() | None = None
    starts_on: Day | None = None
    ends_on: Day | None = None
    our_signatory: Text(100) | None = None
    notes: LongText() | None = None


class ContractTransitionIn(Schema):
    to: Literal["pending", "draft", "signed", "completed", "terminated", "void"]
    signed_on: Day | None = Field(None, description="Needed to mark it signed.")
    reason: LongText(2000) = Field("", description="Needed to terminate or void.")


class ContractLineIn(Schema):
    specification_id: Id
    quantity: Quantity
    unit_price: UnitPrice | None = Field(None, description="Default: the price book's price for the customer.")


class AmendmentOut(Schema):
    id: int
    sequence: int
    state: str
    summary: str
    signed_on: date | None
    amount_before: Decimal
    amount_after: Decimal
    payment_terms_before: str
    payment_terms_after: str
    other_terms_before: str
    other_terms_after: str
    ends_on_before: date | None
    ends_on_after: date | None
    effective_at: datetime | None
    created_at: datetime


class AmendmentIn(Schema):
    summary: LongText(4000) = Field(min_length=1)
    amount_after: Amount | None = None
    payment_terms_after: LongText() | None = None
    other_terms_after: LongText() | None = None
    ends_on_after: Day | None = None
    signed_on: Day | None = None


class AmendmentActIn(Schema):
    action: Literal["submit", "discard"]


class ContractAttachmentOut(Schema):
    id: int
    name: str
    size: int
    is_signed_copy: bool
    uploaded_at: datetime
    uploaded_by_id: int | None


def _use(user) -> None:
    if not selectors.may_use_contracts(user):
        raise PermissionDenied


def _detail(user, contract: Contract) -> Contract:
    return selectors.contract_get(user, contract.pk)


def _writable(user, contract_id) -> Contract:
    _use(user)
    contract = selectors.contract_get(user, contract_id)
    if not services.may_change(user, contract):
        raise PermissionDenied
    return contract


def _user(pk, field: str) -> User:
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None:
        raise ValidationError({field: [_("Choose an active user.")]})
    return user


def _contact(customer_id: int, contact_id: int) -> Contact:
    contact = Contact.objects.filter(pk=contact_id, customer_id=customer_id, deleted_at__isnull=True).first()
    if contact is None:
        raise ValidationError({"contact_id": [_("Choose a contact of this customer.")]})
    return contact


def _template(template_id: int) -> ContractTemplate:
    template = ContractTemplate.objects.filter(pk=template_id, is_active=True).first()
    if template is None:
        raise ValidationError({"template_id": [_("Choose a template in use.")]})
    return template


@router.get("", response=ContractListPage)
def contract_list(request, query: Query[ContractListQuery]):
    """Contracts you may see (yours, your team's, your account teams' customers'), newest change first."""
    _use(request.user)
    filters = selectors.ContractFilters(
        q=query.q.strip(),
        stage=query.stage,
        owner_id=query.owner_id,
        customer_id=query.customer_id,
        expiring_days=query.expiring_days,
        sort=query.sort,
    )
    return selectors.contract_list(request.user, filters, limit=query.limit, offset=query.offset).as_dict()


@router.post("", response={201: ContractDetailOut})
def contract_create(request, payload: ContractIn):
    """A draft contract for a customer you may see, one of its opportunities, or an accepted quote."""
    if not request.user.has_perm("contracts.add_contract"):
        raise PermissionDenied
    data = payload.dict()
    customer = opportunity = quote = None
    if (quote_id := data.pop("quote_id")) is not None:
        try:
            quote = quote_get(request.user, quote_id)
        except Http404:
            raise ValidationError({"quote_id": [_("No such quote in your scope.")]}) from None
    if (opportunity_id := data.pop("opportunity_id")) is not None:
        try:
            opportunity = opportunity_get(request.user, opportunity_id)
        except Http404:
            raise ValidationError({"opportunity_id": [_("No such opportunity in your scope.")]}) from None
    if (customer_id := data.pop("customer_id")) is not None:
        try:
            customer = customer_get(request.user, customer_id)
        except Http404:
            raise ValidationError({"customer_id": [_("No such customer in your scope.")]}) from None
        if opportunity is not None and opportunity.customer_id != customer.pk:
            raise ValidationError({"opportunity_id": [_("Choose an opportunity of this customer.")]})
    target = customer or (opportunity.customer if opportunity else None) or (quote.customer if quote else None)
    if target is None:
        raise ValidationError({"customer_id": [_("Choose a customer, an opportunity or an accepted quote.")]})
    if (contact_id := data.pop("contact_id")) is not None:
        data["contact"] = _contact(target.pk, contact_id)
    if (template_id := data.pop("template_id")) is not None:
        data["template"] = _template(template_id)
    owner_id = data.pop("owner_id")
    owner = _user(owner_id, "owner_id") if owner_id is not None else None
    data = {k: v for k, v in data.items() if v not in (None, "")}
    contract = services.contract_create(
        customer=customer, opportunity=opportunity, quote=quote, owner=owner, actor=request.user, **data
    )
    return Status(201, _detail(request.user, contract))


@router.get("/{contract_id}", response=ContractDetailOut)
def contract_read(request, contract_id: Id):
    """The contract with its lines and rollups."""
    _use(request.user)
    return selectors.contract_get(request.user, contract_id)


@router.patch("/{contract_id}", response=ContractDetailOut)
def contract_update(request, contract_id: Id, payload: ContractPatch):
    """Change a draft (400 once it is submitted, 409 for a stale version)."""
    contract = _writable(request.user, contract_id)
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    header = {}
    if data.pop("clear_contact", False):
        header["contact"] = None
    elif data.get("contact_id") is not None:
        header["contact"] = _contact(contract.customer_id, data["contact_id"])
    data.pop("contact_id", None)
    if data.get("owner_id") is not None:
        header["owner"] = _user(data["owner_id"], "owner_id")
    data.pop("owner_id", None)
    if data.get("template_id") is not None:
        header["template"] = _template(data["template_id"])
    data.pop("template_id", None)
    header.update({k: v for k, v in data.items() if v is not None})
    services.contract_update(contract=contract, actor=request.user, expected_version=version, **header)
    return _detail(request.user, contract)


@router.delete("/{contract_id}", response={204: None})
def contract_delete(request, contract_id: Id):
    """A draft to the recycle bin (a signed contract is voided instead: 400)."""
    _use(request.user)
    contract = selectors.contract_get(request.user, contract_id)
    services.contract_delete(contract=contract, actor=request.user)
    return Status(204, None)


@router.post("/{contract_id}/transition", response=ContractDetailOut)
def contract_transition(request, contract_id: Id, payload: ContractTransitionIn):
    """Move the stage: `pending` (submit: approved at once or through the approval flow), `draft`
    (withdraw), `signed` (once approved, with `signed_on`), `completed`, `terminated` or `void`
    (with a reason). Which stage may follow which is fixed; a move it does not allow answers 400."""
    contract = _writable(request.user, contract_id)
    services.contract_transition(
        contract=contract,
        to=payload.to,
        actor=request.user,
        signed_on=payload.signed_on,
        reason=payload.reason,
    )
    return _detail(request.user, contract)


@router.get("/{contract_id}/lines", response=list[ContractLineOut])
def contract_lines(request, contract_id: Id):
    _use(request.user)
    return selectors.contract_lines(selectors.contract_get(request.user, contract_id))


@router.post("/{contract_id}/lines", response={201: ContractDetailOut})
def contract_line_add(request, contract_id: Id, payload: ContractLineIn):
    """Add a line to a draft."""
    contract = _writable(request.user, contract_id)
    services.contract_line_add(
        contract=contract,
        actor=request.user,
        specification_id=payload.specification_id,
        quantity=payload.quantity,
        unit_price=payload.unit_price,
    )
    return Status(201, _detail(request.user, contract))


@router.delete("/{contract_id}/lines/{line_id}", response=ContractDetailOut)
def contract_line_remove(request, contract_id: Id, line_id: Id):
    contract = _writable(request.user, contract_id)
    line = contract.lines.filter(pk=line_id).first()
    if line is None:
        raise Http404
    line.contract = contract
    services.contract_line_remove(line=line, actor=request.user)
    return _detail(request.user, contract)


@router.get("/{contract_id}/amendments", response=list[AmendmentOut])
def amendment_list(request, contract_id: Id):
    """The amendments (补充协议), the first first, with what each changed."""
    _use(request.user)
    return selectors.contract_amendments(selectors.contract_get(request.user, contract_id))


@router.post("/{contract_id}/amendments", response={201: AmendmentOut})
def amendment_create(request, contract_id: Id, payload: AmendmentIn):
    """A draft amendment of a signed contract; fields left out keep what the contract says."""
    contract = _writable(request.user, contract_id)
    values = {k: v for k, v in payload.dict().items() if v is not None}
    return Status(201, services.amendment_create(contract=contract, actor=request.user, **values))


@router.post("/{contract_id}/amendments/{amendment_id}", response=AmendmentOut)
def amendment_act(request, contract_id: Id, amendment_id: Id, payload: AmendmentActIn):
    """`submit`: in effect at once, or through the approval flow by the contracts' rule;
    `discard`: a draft amendment is void (kept in the history)."""
    _writable(request.user, contract_id)
    amendment = selectors.amendment_get(request.user, contract_id, amendment_id)
    if payload.action == "submit":
        result = services.amendment_submit(amendment=amendment, actor=request.user)
    else:
        result = services.amendment_discard(amendment=amendment, actor=request.user)
    result.refresh_from_db()
    return result


@router.get("/{contract_id}/attachments", response=list[ContractAttachmentOut])
def attachment_list(request, contract_id: Id):
    """The files kept with the contract (download them on the contract's page)."""
    _use(request.user)
    return selectors.contract_attachments(selectors.contract_get(request.user, contract_id))


def _file(content: bytes, content_type: str, filename: str) -> HttpResponse:
    from urllib.parse import quote

    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


@router.get(
    "/{contract_id}/document.pdf",
    response={200: None, 404: Message},
    openapi_extra={"responses": {200: {"description": "The contract as PDF", "content": {"application/pdf": {}}}}},
)
def contract_pdf(request, contract_id: Id):
    """The contract's document, rendered with its template, as PDF."""
    _use(request.user)
    contract = selectors.contract_get(request.user, contract_id)
    return _file(document.document_pdf(contract), "application/pdf", document.document_filename(contract, "pdf"))


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@router.get(
    "/{contract_id}/document.docx",
    response={200: None, 404: Message},
    openapi_extra={"responses": {200: {"description": "The contract as Word", "content": {DOCX: {}}}}},
)
def contract_docx(request, contract_id: Id):
    """The contract's document as Word (.docx), to edit."""
    _use(request.user)
    contract = selectors.contract_get(request.user, contract_id)
    return _file(document.document_docx(contract), DOCX, document.document_filename(contract, "docx"))
