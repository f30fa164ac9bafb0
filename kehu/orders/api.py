"""Orders (订单, SAL-5) under /api/v1/orders: the order, its lines, transitions, deliveries, and
sell-through records.

Amounts are strings of decimals (CNY, tax included unless named `_net`); a line's amount is rounded
to the fen and an order's totals are sums of its rounded lines. Only drafts are edited (400
otherwise); a header edit names the version it read (409 when stale). `delivered_amount`,
`invoiced_amount`, `received_amount`, `owed_amount` and `settlement_status` are rollups.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from kehu.contracts.selectors import contract_get
from kehu.core.api import Day, Id, LongText, Page, Text
from kehu.core.pagination import Limit, Offset, page_of
from kehu.customers.selectors import customer_get
from kehu.orders import selectors, services
from kehu.orders.models import DeliveryStatus, Order, OrderState, SettlementStatus
from kehu.quotes.selectors import quote_get
from kehu.users.models import User

router = Router(tags=["orders"])

Quantity = Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=3)]
Amount = Annotated[Decimal, Field(ge=0, max_digits=16, decimal_places=2)]
DiscountPercent = Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)]
UnitPrice = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=4)]
Version = Annotated[int, Field(ge=0, le=2**31)]
States = Literal["", *OrderState.values]


class OrderOut(Schema):
    id: int
    number: str
    customer_id: int
    customer_name: str
    contract_id: int | None
    quote_id: int | None
    owner_id: int
    owner_name: str
    source: str
    state: str
    state_label: str
    ordered_on: date
    currency: str
    external_reference: str
    line_count: int
    total_net: Decimal
    total_tax: Decimal
    total: Decimal
    max_discount: Decimal
    below_floor: bool
    credit_hold: bool
    credit_note: str
    delivery_status: str
    settlement_status: str
    delivered_amount: Decimal
    invoiced_amount: Decimal
    received_amount: Decimal
    owed_amount: Decimal
    confirmed_at: datetime | None
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
    def resolve_state_label(obj):
        return str(obj.get_state_display())


class OrderLineOut(Schema):
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
    discount: Decimal
    unit_price: Decimal
    floor_price: Decimal | None
    tax_rate: Decimal
    amount: Decimal
    amount_net: Decimal
    tax: Decimal
    delivered_quantity: Decimal
    invoiced_quantity: Decimal
    notes: str


class DeliveryLineOut(Schema):
    order_line_id: int
    quantity: Decimal
    amount: Decimal


class OrderDeliveryOut(Schema):
    id: int
    delivered_on: date
    carrier: str
    tracking_number: str
    notes: str
    amount: Decimal
    is_held: bool
    lines: list[DeliveryLineOut]

    @staticmethod
    def resolve_lines(obj):
        return getattr(obj, "line_rows", None) or list(obj.lines.all())


class OrderDetailOut(OrderOut):
    delivery_address: str
    payment_terms: str
    notes: str
    may_change: bool
    lines: list[OrderLineOut]

    @staticmethod
    def resolve_may_change(obj, context):
        return services.may_change(context["request"].user, obj)

    @staticmethod
    def resolve_lines(obj):
        return selectors.order_lines(obj)


class OrderListPage(Page):
    items: list[OrderOut]


class OrderListQuery(Schema):
    q: Text(100) = Field("", description="The start of a number (SO2026-…), part of the customer's name.")
    state: States = ""
    delivery: Literal["", *DeliveryStatus.values] = ""
    settlement: Literal["", *SettlementStatus.values] = ""
    owner_id: Id | None = None
    customer_id: Id | None = None
    contract_id: Id | None = None
    quote_id: Id | None = None
    ordered_from: Day | None = None
    ordered_to: Day | None = None
    sort: Literal["-updated", "-ordered", "-total", "number"] = "-updated"
    limit: Limit = 25
    offset: Offset = 0


class OrderLineIn(Schema):
    specification_id: Id
    quantity: Quantity


class OrderIn(Schema):
    customer_id: Id | None = Field(None, description="The customer; or give `quote_id` or `contract_id`.")
    quote_id: Id | None = Field(None, description="From an approved or accepted quote: its lines and prices.")
    contract_id: Id | None = Field(None, description="From a contract in force: what of it is not ordered yet.")
    owner_id: Id | None = Field(None, description="Default: you. Managers may give orders to their team.")
    ordered_on: Day | None = Field(None, description="Default: today.")
    external_reference: Text(60) = ""
    delivery_address: LongText() = ""
    payment_terms: LongText() | None = None
    notes: LongText() = ""
    lines: list[OrderLineIn] = Field([], max_length=services.MAX_LINES)


class OrderPatch(Schema):
    version: Version = Field(description="The version you read; a stale one answers 409.")
    owner_id: Id | None = None
    ordered_on: Day | None = None
    external_reference: Text(60) | None = None
    delivery_address: LongText() | None = None
    payment_terms: LongText() | None = None
    notes: LongText() | None = None


class OrderLinesIn(Schema):
    lines: list[OrderLineIn] = Field(min_length=1, max_length=services.MAX_LINES)


class OrderPasteIn(Schema):
    text: LongText(200_000) = Field(min_length=1, description="Rows of a code and a quantity (tab, comma or ;).")


class OrderLinePatch(Schema):
    quantity: Quantity | None = None
    discount: DiscountPercent | None = None
    unit_price: UnitPrice | None = None
    notes: Text(200) | None = None


class OrderTransitionIn(Schema):
    to: Literal["confirmed", "draft", "completed", "cancelled"] = Field(
        description="confirmed (price approval and the credit check may keep it pending), draft (withdraw from "
        "approval), completed (delivered in full), cancelled."
    )
    note: LongText(2000) = ""


class DeliveryLineIn(Schema):
    order_line_id: Id
    quantity: Quantity


class DeliveryIn(Schema):
    lines: list[DeliveryLineIn] = Field(min_length=1, max_length=services.MAX_LINES)
    delivered_on: Day | None = Field(None, description="Default: today.")
    carrier: Text(100) = ""
    tracking_number: Text(60) = ""
    notes: LongText(2000) = ""


class SellThroughOut(Schema):
    id: int
    month: date
    seller_id: int
    seller_name: str
    buyer_id: int | None
    buyer_name: str
    buyer_level: str
    product_id: int
    specification_id: int | None
    quantity: Decimal
    amount: Decimal

    @staticmethod
    def resolve_seller_name(obj):
        return obj.seller.name


class SellThroughPage(Page):
    items: list[SellThroughOut]


class SellThroughQuery(Schema):
    seller_id: Id | None = None
    month_from: Day | None = None
    month_to: Day | None = None
    limit: Limit = 25
    offset: Offset = 0


class SellThroughIn(Schema):
    seller_id: Id
    month: Day = Field(description="Any day of the month.")
    specification_id: Id
    quantity: Quantity
    amount: Amount = Decimal("0")
    buyer_id: Id | None = Field(None, description="A customer Kehu knows; or give `buyer_name`.")
    buyer_name: Text(200) = ""
    buyer_level: Text(20) = ""


class DeletedOrderQuery(Schema):
    limit: Limit = 25
    offset: Offset = 0


class DeletedOrderPage(Page):
    items: list[OrderOut]


def _use(user) -> None:
    if not selectors.may_use_orders(user):
        raise PermissionDenied


def _detail_out(user, order: Order) -> Order:
    return selectors.order_get(user, order.pk)


def _writable(user, order_id, perm: str = "orders.change_order") -> Order:
    _use(user)
    order = selectors.order_get(user, order_id)
    if not services.may_change(user, order, perm):
        raise PermissionDenied
    return order


def _user(pk, field: str) -> User:
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None:
        raise ValidationError({field: [_("Choose an active user.")]})
    return user


@router.get("", response=OrderListPage)
def order_list(request, query: Query[OrderListQuery]):
    """Orders you may see (yours, your team's, your account teams' customers'), newest change first."""
    _use(request.user)
    filters = selectors.OrderFilters(**query.dict(exclude={"limit", "offset"}))
    return selectors.order_list(request.user, filters, limit=query.limit, offset=query.offset).as_dict()


@router.post("", response={201: OrderDetailOut})
def order_create(request, payload: OrderIn):
    """A draft order: from a quote, from a contract, or for a customer with `lines` priced by the book."""
    if not request.user.has_perm("orders.add_order"):
        raise PermissionDenied
    data = payload.dict()
    quote = contract = customer = None
    if data.pop("quote_id") is not None:
        try:
            quote = quote_get(request.user, payload.quote_id)
        except Http404:
            raise ValidationError({"quote_id": [_("No such quote in your scope.")]}) from None
    if data.pop("contract_id") is not None:
        try:
            contract = contract_get(request.user, payload.contract_id)
        except Http404:
            raise ValidationError({"contract_id": [_("No such contract in your scope.")]}) from None
    if data.pop("customer_id") is not None:
        try:
            customer = customer_get(request.user, payload.customer_id)
        except Http404:
            raise ValidationError({"customer_id": [_("No such customer in your scope.")]}) from None
    owner_id = data.pop("owner_id")
    owner = _user(owner_id, "owner_id") if owner_id is not None else None
    lines = [(line["specification_id"], line["quantity"]) for line in data.pop("lines")]
    header = {k: v for k, v in data.items() if v is not None}
    order = services.order_create(
        customer=customer,
        quote=quote,
        contract=contract,
        owner=owner,
        actor=request.user,
        lines=lines or None,
        **header,
    )
    return Status(201, _detail_out(request.user, order))


@router.get("/deleted", response=DeletedOrderPage)
def order_deleted_list(request, query: Query[DeletedOrderQuery]):
    """The orders' recycle bin (for those who may delete orders)."""
    if not request.user.has_perm("orders.delete_order"):
        raise PermissionDenied
    return page_of(selectors.deleted_orders_for(request.user), offset=query.offset, limit=query.limit).as_dict()


@router.get("/sell-through", response=SellThroughPage)
def sell_through_list(request, query: Query[SellThroughQuery]):
    """Sell-through of the dealers you may see, newest month first."""
    _use(request.user)
    filters = selectors.SellThroughFilters(
        seller_id=query.seller_id, month_from=query.month_from, month_to=query.month_to
    )
    return selectors.sell_through_list(request.user, filters, limit=query.limit, offset=query.offset).as_dict()


@router.post("/sell-through", response={201: SellThroughOut})
def sell_through_create(request, payload: SellThroughIn):
    """One sell-through record of a dealer you may see."""
    if not request.user.has_perm("orders.add_order"):
        raise PermissionDenied
    try:
        seller = customer_get(request.user, payload.seller_id)
    except Http404:
        raise ValidationError({"seller_id": [_("No such customer in your scope.")]}) from None
    buyer = None
    if payload.buyer_id is not None:
        try:
            buyer = customer_get(request.user, payload.buyer_id)
        except Http404:
            raise ValidationError({"buyer_id": [_("No such customer in your scope.")]}) from None
    from kehu.catalog.models import Specification

    spec = Specification.objects.filter(pk=payload.specification_id).first()
    if spec is None:
        raise ValidationError({"specification_id": [_("No such specification.")]})
    record = services.sell_through_create(
        actor=request.user,
        seller=seller,
        month=payload.month,
        specification=spec,
        quantity=payload.quantity,
        amount=payload.amount,
        buyer=buyer,
        buyer_name=payload.buyer_name,
        buyer_level=payload.buyer_level,
    )
    return Status(201, record)


@router.get("/{order_id}", response=OrderDetailOut)
def order_read(request, order_id: Id):
    """The order with its lines in order, its totals and rollups."""
    _use(request.user)
    return selectors.order_get(request.user, order_id)


@router.patch("/{order_id}", response=OrderDetailOut)
def order_update(request, order_id: Id, payload: OrderPatch):
    """Change a draft's header (400 for an order that is no longer a draft, 409 for a stale version)."""
    order = _writable(request.user, order_id)
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    header = {}
    if data.get("owner_id") is not None:
        header["owner"] = _user(data["owner_id"], "owner_id")
    data.pop("owner_id", None)
    header.update({k: v for k, v in data.items() if v is not None})
    services.order_update(order=order, actor=request.user, expected_version=version, **header)
    return _detail_out(request.user, order)


@router.delete("/{order_id}", response={204: None})
def order_delete(request, order_id: Id):
    """To the recycle bin (drafts and cancelled orders)."""
    _use(request.user)
    order = selectors.order_get(request.user, order_id)
    services.order_delete(order=order, actor=request.user)
    return Status(204, None)


@router.post("/{order_id}/restore", response=OrderDetailOut)
def order_restore(request, order_id: Id):
    order = selectors.deleted_order_get(request.user, order_id)
    services.order_restore(order=order, actor=request.user)
    return _detail_out(request.user, order)


@router.get("/{order_id}/lines", response=list[OrderLineOut])
def order_lines(request, order_id: Id):
    _use(request.user)
    return selectors.order_lines(selectors.order_get(request.user, order_id))


@router.post("/{order_id}/lines", response={201: OrderDetailOut})
def order_lines_add(request, order_id: Id, payload: OrderLinesIn):
    """Add lines priced by the price book; all or nothing (400 lists each problem)."""
    order = _writable(request.user, order_id)
    services.order_lines_add(
        order=order, actor=request.user, lines=[(line.specification_id, line.quantity) for line in payload.lines]
    )
    return Status(201, _detail_out(request.user, order))


@router.post("/{order_id}/lines/paste", response={201: OrderDetailOut})
def order_lines_paste(request, order_id: Id, payload: OrderPasteIn):
    """Add lines pasted from a spreadsheet ("code<TAB>quantity" a row); each bad row is listed."""
    order = _writable(request.user, order_id)
    services.order_lines_paste(order=order, actor=request.user, text=payload.text)
    return Status(201, _detail_out(request.user, order))


@router.patch("/{order_id}/lines/{line_id}", response=OrderDetailOut)
def order_line_update(request, order_id: Id, line_id: Id, payload: OrderLinePatch):
    """Change a line: its quantity, its discount or its unit price (not both), its notes."""
    order = _writable(request.user, order_id)
    line = selectors.order_line_get(request.user, order.pk, line_id)
    services.order_line_update(line=line, actor=request.user, **payload.dict(exclude_unset=True))
    return _detail_out(request.user, order)


@router.delete("/{order_id}/lines/{line_id}", response=OrderDetailOut)
def order_line_remove(request, order_id: Id, line_id: Id):
    order = _writable(request.user, order_id)
    line = selectors.order_line_get(request.user, order.pk, line_id)
    services.order_line_remove(line=line, actor=request.user)
    return _detail_out(request.user, order)


@router.post("/{order_id}/transition", response=OrderDetailOut)
def order_transition(request, order_id: Id, payload: OrderTransitionIn):
    """Move the order (one table of allowed moves; 400 with the reason otherwise)."""
    order = _writable(request.user, order_id)
    services.order_transition(order=order, to=payload.to, actor=request.user, note=payload.note)
    return _detail_out(request.user, order)


@router.get("/{order_id}/deliveries", response=list[OrderDeliveryOut])
def delivery_list(request, order_id: Id):
    _use(request.user)
    return selectors.order_deliveries(selectors.order_get(request.user, order_id))


@router.post("/{order_id}/deliveries", response={201: OrderDeliveryOut})
def delivery_create(request, order_id: Id, payload: DeliveryIn):
    """A (partial) delivery of a confirmed order; more than is left to deliver is refused (400)."""
    order = _writable(request.user, order_id, "orders.deliver_order")
    delivery = services.delivery_record(
        order=order,
        actor=request.user,
        lines=[(line.order_line_id, line.quantity) for line in payload.lines],
        delivered_on=payload.delivered_on,
        carrier=payload.carrier,
        tracking_number=payload.tracking_number,
        notes=payload.notes,
    )
    return Status(201, delivery)
