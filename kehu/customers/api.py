"""Customers and contacts in the REST API, through the same selectors and services as the UI."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from kehu.core.api import Day, Id, Keep, LongText, Page, Text
from kehu.core.exceptions import ConcurrentEditError
from kehu.core.masking import mask
from kehu.core.pagination import Limit, Offset, page_of
from kehu.customers import merge, selectors, services
from kehu.customers.models import (
    BuyingRole,
    ChannelLevel,
    Contact,
    Customer,
    CustomerKind,
    CustomerStatus,
    EmailKind,
    Gender,
    ImService,
    Industry,
    Medium,
    PhoneKind,
    Segment,
    Source,
    Tier,
)
from kehu.customers.points import MAX_PER_MEDIUM, Point
from kehu.users.models import User
from kehu.users.selectors import assignable_owners

customers_router = Router(tags=["customers"])
contacts_router = Router(tags=["contacts"])

Latitude = Annotated[Decimal, Field(ge=-90, le=90, max_digits=9, decimal_places=6)]
Longitude = Annotated[Decimal, Field(ge=-180, le=180, max_digits=9, decimal_places=6)]


class CustomerOut(Schema):
    id: int
    name: str
    kind: str
    segment: str
    industry: str
    region: str
    city: str
    address: str
    latitude: Decimal | None
    longitude: Decimal | None
    source: str
    status: str
    tier: str
    channel_level: str = Field(
        "", description="Where the customer sits in the sales channel; picks its channel price list."
    )
    phone: str
    email: str
    website: str
    credit_code: str
    notes: str
    owner_id: int | None
    created_at: datetime
    updated_at: datetime
    version: int


class CustomerList(Page):
    items: list[CustomerOut]


class CustomerFields(Schema):
    kind: CustomerKind = CustomerKind.COMPANY
    segment: Segment = Segment.INDUSTRIAL
    industry: Industry | None = None
    region: Text(50) = ""
    city: Text(50) = ""
    address: Text(300) = ""
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    source: Source | None = None
    status: CustomerStatus = CustomerStatus.POTENTIAL
    tier: Tier = Tier.PROSPECT
    channel_level: ChannelLevel | None = None
    phone: Text(40) = ""
    email: Text(254) = ""
    website: Text(200) = ""
    credit_code: Text(18) = ""
    notes: LongText() = ""
    owner_id: Id | None = None


class CustomerIn(CustomerFields):
    name: Text(200, blank=False)
    allow_duplicate: bool = Field(
        False, description="Save even though likely duplicates exist (otherwise 409 lists them)."
    )


class DuplicateOut(Schema):
    id: int | None = Field(description="null when the customer is outside your scope")
    name: str
    owner: str
    reasons: list[str] = Field(description="name, phone, email, credit_code")


class DuplicatesFound(Schema):
    detail: str
    duplicates: list[DuplicateOut]


class MergeIn(Schema):
    source_ids: list[Id] = Field(min_length=1, max_length=20, description="Customers merged into this one.")
    fields: dict[Literal[*merge.MERGE_FIELDS], Id] = Field(
        {}, description="Field name → id of the customer (this one or a source) whose value is kept."
    )


class CustomerPatch(Schema):
    name: Text(200, blank=False) = Keep()
    kind: CustomerKind = Keep()
    segment: Segment = Keep()
    industry: Industry | None = None
    region: Text(50) | None = None
    city: Text(50) | None = None
    address: Text(300) | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    source: Source | None = None
    status: CustomerStatus = Keep()
    tier: Tier = Keep()
    channel_level: ChannelLevel | None = None
    phone: Text(40) | None = None
    email: Text(254) | None = None
    website: Text(200) | None = None
    credit_code: Text(18) | None = None
    notes: LongText() | None = None
    owner_id: Id = Keep()
    version: Annotated[int, Field(ge=1, le=2**31)] | None = Field(
        None, description="The version you read; a save based on an older version is refused with 409."
    )
    allow_duplicate: bool = Field(
        False, description="Save even though the new name, phone, email or code matches other customers."
    )


class CustomerQuery(Schema):
    q: Text(100) = ""
    owner: Id | None = None
    region: Text(50) = ""
    industry: Industry | None = None
    tier: Tier | None = None
    status: CustomerStatus | None = None
    sort: Text(20) = "updated"
    limit: Limit = 25
    offset: Offset = 0


def customer_out(user: User, customer: Customer, sensitive: bool | None = None) -> dict:
    data = CustomerOut.from_orm(customer).dict()
    if sensitive is None:
        sensitive = selectors.can_see_sensitive(user, customer)
    if not sensitive:
        data["phone"] = mask(data["phone"])
    return data


def _owner(user: User, owner_id: int | None) -> User | None:
    if owner_id is None:
        return None
    return get_object_or_404(assignable_owners(user), pk=owner_id)


def check_version(record, version: int | None) -> int:
    """A PATCH may name the version it was based on; a stale one is refused (409) before any change."""
    if version is not None and version != record.version:
        raise ConcurrentEditError()
    return record.version


def model_values(model, data: dict) -> dict:
    """Schema values → model values: enums to their value, None to "" on text fields."""
    values = {}
    for name, value in data.items():
        value = getattr(value, "value", value)
        field_name = name[:-3] if name.endswith("_id") else name
        field = model._meta.get_field(field_name)
        if value is None and field.get_internal_type() in ("CharField", "TextField", "EmailField"):
            value = ""
        values[name] = value
    return values


@customers_router.get("/", response=CustomerList)
def customer_list(request, query: Query[CustomerQuery]):
    """Customers in your data scope, newest changes first; filter with q, owner, region, industry, tier, status."""
    filters = selectors.CustomerFilters(
        q=query.q,
        owner=query.owner,
        region=query.region,
        industry=query.industry or "",
        tier=query.tier or "",
        status=query.status or "",
        sort=query.sort,
    )
    page = selectors.customer_page(request.user, filters, offset=query.offset, limit=query.limit)
    page.rows = [customer_out(request.user, c, c.sensitive) for c in page.rows]
    return page.as_dict()


def _duplicates_found(exc: services.DuplicateCustomerError):
    """409 with the likely duplicates, details only of those in the caller's scope."""
    return Status(
        409,
        {
            "detail": _("This customer may already exist. Send allow_duplicate: true to save it anyway."),
            "duplicates": [
                {
                    "id": m.customer_id if m.in_scope else None,
                    "name": m.name,
                    "owner": m.owner,
                    "reasons": m.reasons,
                }
                for m in exc.matches
            ],
        },
    )


@customers_router.post("/", response={201: CustomerOut, 409: DuplicatesFound})
def customer_create(request, payload: CustomerIn):
    """Creates a customer; likely duplicates (name, phone, email, credit code) answer 409 unless allowed."""
    data = model_values(Customer, payload.dict(exclude={"allow_duplicate"}))
    owner = _owner(request.user, data.pop("owner_id")) or request.user
    try:
        customer = services.customer_create(
            actor=request.user, owner=owner, allow_duplicate=payload.allow_duplicate, **data
        )
    except services.DuplicateCustomerError as exc:
        return _duplicates_found(exc)
    return Status(201, customer_out(request.user, customer, True))


@customers_router.get("/{customer_id}", response=CustomerOut)
def customer_read(request, customer_id: Id):
    return customer_out(request.user, selectors.customer_get(request.user, customer_id))


@customers_router.patch("/{customer_id}", response={200: CustomerOut, 409: DuplicatesFound})
def customer_update(request, customer_id: Id, payload: CustomerPatch):
    """Changes fields; a new name, phone, email or credit code matching other customers answers 409 unless allowed."""
    customer = selectors.customer_get(request.user, customer_id, to_change=True)
    data = payload.dict(exclude_unset=True)
    allow_duplicate = data.pop("allow_duplicate", False)
    version = check_version(customer, data.pop("version", None))
    fields = model_values(Customer, data)
    if "owner_id" in fields:
        fields["owner"] = _owner(request.user, fields.pop("owner_id") or None)
    try:
        customer = services.customer_update(
            customer=customer, actor=request.user, expected_version=version, allow_duplicate=allow_duplicate, **fields
        )
    except services.DuplicateCustomerError as exc:
        return _duplicates_found(exc)
    return customer_out(request.user, customer)


@customers_router.post("/{customer_id}/merge", response=CustomerOut)
def customer_merge(request, customer_id: Id, payload: MergeIn):
    """Merges duplicates into this customer: their contacts, information, activities and history move
    here, blank fields are filled from them (or taken as `fields` says), and they go to the recycle bin."""
    target = selectors.customer_get(request.user, customer_id)
    if not request.user.has_perm("customers.change_customer"):
        raise PermissionDenied
    sources = [selectors.customer_get(request.user, pk) for pk in dict.fromkeys(payload.source_ids)]
    if len(sources) != len(payload.source_ids):
        raise ValidationError({"source_ids": _("A customer cannot be merged into itself or twice.")})
    merge.customer_merge(target=target, sources=sources, actor=request.user, field_choices=payload.fields)
    return customer_out(request.user, selectors.customer_get(request.user, customer_id))


@customers_router.delete("/{customer_id}", response={204: None})
def customer_delete(request, customer_id: Id):
    """Moves the customer to the recycle bin."""
    customer = selectors.customer_get(request.user, customer_id, to_change=True)
    services.customer_delete(customer=customer, actor=request.user)
    return Status(204, None)


class PhoneOut(Schema):
    kind: str = Field(description="mobile, work, home, fax or other")
    number: str = Field(description="Masked (138****5678) for people outside the account team.")
    label: str = Field(description="The person's own label, e.g. 秘书 or iPhone.")


class EmailOut(Schema):
    kind: str = Field(description="work, home or other")
    address: str
    label: str


class HandleOut(Schema):
    service: str = Field(description="wechat, qq, wecom, dingtalk, skype, … or other (see `label`)")
    handle: str = Field(description="Masked for people outside the account team.")
    label: str


class ContactCore(Schema):
    id: int
    customer_id: int
    name: str
    gender: str
    position: str
    department: str
    buying_role: str
    mobile: str = Field(description="The first mobile number of `phones`.")
    office_phone: str = Field(description="The first work number of `phones`.")
    email: str = Field(description="The first address of `emails`.")
    wechat: str = Field(description="The first WeChat account of `handles`.")
    is_primary: bool
    birthday: date | None
    birthday_month: int | None = Field(description="A birthday without its year: month (1-12), else null.")
    birthday_day: int | None = Field(description="A birthday without its year: day of the month, else null.")
    anniversary: date | None
    anniversary_name: str = Field(description="What the anniversary is, e.g. 结婚纪念日.")
    address: str
    family_background: str
    family_birthdays: str
    hobbies: str
    personality: str
    in_position_since: date | None
    transfer_reason: str
    notes: str
    updated_at: datetime
    version: int


class ContactOut(ContactCore):
    phones: list[PhoneOut] = Field(description="Every phone number, in order.")
    emails: list[EmailOut] = Field(description="Every e-mail address, in order.")
    handles: list[HandleOut] = Field(description="Every messaging account (WeChat, QQ, …), in order.")


class ContactList(Page):
    items: list[ContactOut]


class PhoneIn(Schema):
    kind: PhoneKind = PhoneKind.MOBILE
    number: Text(40)
    label: Text(50) = ""


class EmailIn(Schema):
    kind: EmailKind = EmailKind.WORK
    address: Text(254)
    label: Text(50) = ""


class HandleIn(Schema):
    service: ImService = ImService.WECHAT
    handle: Text(60)
    label: Text(50) = ""


Phones = Annotated[list[PhoneIn], Field(max_length=MAX_PER_MEDIUM)]
Emails = Annotated[list[EmailIn], Field(max_length=MAX_PER_MEDIUM)]
Handles = Annotated[list[HandleIn], Field(max_length=MAX_PER_MEDIUM)]
BirthMonth = Annotated[int, Field(ge=1, le=12)]
BirthDay = Annotated[int, Field(ge=1, le=31)]
LISTS_DESCRIPTION = (
    "Given, it replaces all of that list; `mobile`, `office_phone`, `email` and `wechat` set the first of their kind."
)


class ContactFields(Schema):
    gender: Gender | None = None
    position: Text(100) = ""
    department: Text(100) = ""
    buying_role: BuyingRole | None = None
    mobile: Text(40) = ""
    office_phone: Text(40) = ""
    email: Text(254) = ""
    wechat: Text(60) = ""
    phones: Phones | None = Field(None, description=LISTS_DESCRIPTION)
    emails: Emails | None = Field(None, description=LISTS_DESCRIPTION)
    handles: Handles | None = Field(None, description=LISTS_DESCRIPTION)
    is_primary: bool = False
    birthday: Day | None = None
    birthday_month: BirthMonth | None = None
    birthday_day: BirthDay | None = None
    anniversary: Day | None = None
    anniversary_name: Text(50) = ""
    address: Text(300) = ""
    family_background: LongText() = ""
    family_birthdays: LongText() = ""
    hobbies: LongText() = ""
    personality: LongText() = ""
    in_position_since: Day | None = None
    transfer_reason: LongText() = ""
    notes: LongText() = ""


class ContactIn(ContactFields):
    customer_id: Id
    name: Text(100, blank=False)


class ContactPatch(Schema):
    customer_id: Id | None = Field(
        None, description="Move the contact to another customer you may change; their activities stay where they were."
    )
    name: Text(100, blank=False) = Keep()
    gender: Gender | None = None
    position: Text(100) | None = None
    department: Text(100) | None = None
    buying_role: BuyingRole | None = None
    mobile: Text(40) | None = None
    office_phone: Text(40) | None = None
    email: Text(254) | None = None
    wechat: Text(60) | None = None
    phones: Phones | None = Field(None, description=LISTS_DESCRIPTION)
    emails: Emails | None = Field(None, description=LISTS_DESCRIPTION)
    handles: Handles | None = Field(None, description=LISTS_DESCRIPTION)
    is_primary: bool = Keep()
    birthday: Day | None = None
    birthday_month: BirthMonth | None = None
    birthday_day: BirthDay | None = None
    anniversary: Day | None = None
    anniversary_name: Text(50) | None = None
    address: Text(300) | None = None
    family_background: LongText() | None = None
    family_birthdays: LongText() | None = None
    hobbies: LongText() | None = None
    personality: LongText() | None = None
    in_position_since: Day | None = None
    transfer_reason: LongText() | None = None
    notes: LongText() | None = None
    version: Annotated[int, Field(ge=1, le=2**31)] | None = None


class ContactQuery(Schema):
    customer_id: Id | None = None
    limit: Limit = 25
    offset: Offset = 0


POINT_NAMES = {
    Medium.PHONE: ("phones", "number"),
    Medium.EMAIL: ("emails", "address"),
    Medium.IM: ("handles", "handle"),
}
MASKED_MEDIA = (Medium.PHONE, Medium.IM)


def _code(choice) -> str:
    return getattr(choice, "value", choice)


def _points_in(data: dict, payload: Schema) -> dict:
    """The lists of a payload as `Point`s for the services (absent lists stay None: unchanged). They are
    read from the payload itself: a dict made with exclude_unset would lack each item's defaults."""
    lists = {}
    for medium, (name, value_name) in POINT_NAMES.items():
        if name in data:
            data.pop(name)
            given = getattr(payload, name)
            kind_name = "service" if medium == Medium.IM else "kind"
            lists[name] = (
                None
                if given is None
                else [Point(medium, _code(getattr(i, kind_name)), getattr(i, value_name), i.label) for i in given]
            )
    return lists


def contact_out(user: User, contact: Contact, sensitive: bool | None = None) -> dict:
    data = ContactCore.from_orm(contact).dict()
    if sensitive is None:
        sensitive = selectors.can_see_sensitive(user, contact.customer)
    for medium, (name, value_name) in POINT_NAMES.items():
        kind_name = "service" if medium == Medium.IM else "kind"
        data[name] = [
            {
                kind_name: p.kind,
                value_name: p.value if sensitive or medium not in MASKED_MEDIA else mask(p.value),
                "label": p.label,
            }
            for p in contact.points.all()
            if p.medium == medium
        ]
    if not sensitive:
        for name in Contact.PRIVATE_FIELDS:
            if name in ("mobile", "office_phone", "wechat"):
                data[name] = mask(data[name])
            else:
                data[name] = "" if isinstance(data[name], str) else None
    return data


@contacts_router.get("/", response=ContactList)
def contact_list(request, query: Query[ContactQuery]):
    qs = (
        selectors.contact_qs_visible_to(request.user)
        .select_related("customer")
        .prefetch_related("points")
        .order_by("-updated_at", "-id")
    )
    if query.customer_id:
        qs = qs.filter(customer_id=query.customer_id)
    page = page_of(qs, offset=query.offset, limit=query.limit)
    sensitive_all = request.user.has_perm("customers.view_sensitive")
    page.rows = [
        contact_out(request.user, c, sensitive_all or c.customer.owner_id == request.user.pk) for c in page.rows
    ]
    return page.as_dict()


@contacts_router.post("/", response={201: ContactOut})
def contact_create(request, payload: ContactIn):
    data = payload.dict()
    lists = _points_in(data, payload)
    data = model_values(Contact, data)
    customer = selectors.customer_get(request.user, data.pop("customer_id"))
    contact = services.contact_create(customer=customer, actor=request.user, **data, **lists)
    return Status(201, contact_out(request.user, contact, True))


@contacts_router.get("/{contact_id}", response=ContactOut)
def contact_read(request, contact_id: Id):
    return contact_out(request.user, selectors.contact_get(request.user, contact_id))


@contacts_router.patch("/{contact_id}", response=ContactOut)
@transaction.atomic
def contact_update(request, contact_id: Id, payload: ContactPatch):
    contact = selectors.contact_get(request.user, contact_id)
    data = payload.dict(exclude_unset=True)
    version = check_version(contact, data.pop("version", None))
    to_customer_id = data.pop("customer_id", None)
    lists = _points_in(data, payload)
    if data or lists:
        contact = services.contact_update(
            contact=contact, actor=request.user, expected_version=version, **model_values(Contact, data), **lists
        )
    if to_customer_id is not None:
        to_customer = selectors.customer_get(request.user, to_customer_id)
        contact = services.contact_move(contact=contact, to_customer=to_customer, actor=request.user)
    return contact_out(request.user, contact)


class ContactMergeIn(Schema):
    source_ids: list[Id] = Field(min_length=1, max_length=20, description="Contacts (of the same customer) merged in.")
    fields: dict[Literal[*services.CONTACT_FIELDS], Id] = Field(
        {}, description="Field name → id of the contact (this one or a source) whose value is kept."
    )


@contacts_router.post("/{contact_id}/merge", response=ContactOut)
def contact_merge(request, contact_id: Id, payload: ContactMergeIn):
    """Merges duplicate contacts of one customer into this one: their activities point here, blank
    fields are filled from them (or taken as `fields` says), and they go to the recycle bin."""
    target = selectors.contact_get(request.user, contact_id)
    if not request.user.has_perm("customers.change_customer"):
        raise PermissionDenied
    sources = [selectors.contact_get(request.user, pk) for pk in dict.fromkeys(payload.source_ids)]
    if len(sources) != len(payload.source_ids):
        raise ValidationError({"source_ids": _("A contact cannot be merged into itself or twice.")})
    contact = merge.contact_merge(target=target, sources=sources, actor=request.user, field_choices=payload.fields)
    return contact_out(request.user, contact)


@contacts_router.delete("/{contact_id}", response={204: None})
def contact_delete(request, contact_id: Id):
    services.contact_delete(contact=selectors.contact_get(request.user, contact_id), actor=request.user)
    return Status(204, None)
