"""The catalog and the price book over the API (SAL-4), mounted at /api/v1/catalog.

Everyone who works with customers reads; writes need `catalog.manage_catalog`.
`POST /prices/resolve` answers the price a customer gets for each line, and where it comes from.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from kehu.catalog import pricing, selectors, services
from kehu.catalog.models import (
    Category,
    PriceListKind,
    PricingSettings,
    ProductStatus,
    Specification,
)
from kehu.core.api import Day, Id, LongText, Page, Text
from kehu.core.pagination import Limit, Offset
from kehu.customers.models import ChannelLevel, Tier
from kehu.customers.selectors import customer_get
from kehu.users.roles import Role

router = Router(tags=["catalog"])

Money = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=4)]
Percent = Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)]
Quantity = Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=3)]
Version = Annotated[int, Field(ge=0, le=2**31)]


# ---- schemas ---------------------------------------------------------------------------------


class CatalogSpecOut(Schema):
    id: int
    code: str
    name: str
    position: int
    is_active: bool
    list_price: Decimal | None = Field(None, description="The list price valid today (tax included).")


class CatalogProductOut(Schema):
    id: int
    code: str
    name: str
    category_id: int | None
    unit: str
    status: str
    tax_rate: Decimal
    cost: Decimal | None
    floor_price: Decimal | None
    description: str
    has_image: bool
    version: int
    updated_at: datetime
    specifications: list[CatalogSpecOut]

    @staticmethod
    def resolve_has_image(obj):
        return bool(obj.image)

    @staticmethod
    def resolve_specifications(obj):
        return getattr(obj, "spec_list", [])


class CatalogProductList(Page):
    items: list[CatalogProductOut]


class CatalogProductQuery(Schema):
    q: Text(100) = ""
    category_id: Id | None = Field(None, description="Products of this category and its subcategories.")
    status: ProductStatus | None = None
    limit: Limit = 25
    offset: Offset = 0


class CatalogSpecIn(Schema):
    code: Text(60) = Field(min_length=1)
    name: Text(200) = Field(min_length=1)


class CatalogProductIn(Schema):
    code: Text(40) = Field(min_length=1)
    name: Text(200) = Field(min_length=1)
    category_id: Id | None = None
    unit: Text(10) = "台"
    status: ProductStatus = ProductStatus.ACTIVE
    tax_rate: Percent = Decimal("13.00")
    cost: Money | None = None
    floor_price: Money | None = None
    description: LongText() = ""
    specifications: list[CatalogSpecIn] = Field(
        default_factory=list,
        max_length=200,
        description="Empty: one standard specification carrying the product code.",
    )


class CatalogProductPatch(Schema):
    version: Version | None = Field(None, description="The version you read; a stale one answers 409.")
    code: Text(40) | None = Field(None, min_length=1)
    name: Text(200) | None = Field(None, min_length=1)
    category_id: Id | None = None
    unit: Text(10) | None = Field(None, min_length=1)
    status: ProductStatus | None = None
    tax_rate: Percent | None = None
    cost: Money | None = None
    floor_price: Money | None = None
    description: LongText() | None = None


class CatalogSpecPatch(Schema):
    code: Text(60) | None = Field(None, min_length=1)
    name: Text(200) | None = Field(None, min_length=1)
    position: Annotated[int, Field(ge=0, le=10000)] | None = None
    is_active: bool | None = None


class CatalogSpecDeleted(Schema):
    outcome: str = Field(description="deleted, or deactivated when the specification was quoted before.")


class CatalogSpecHit(Schema):
    id: int
    code: str
    name: str
    specification: str
    unit: str
    list_price: Decimal | None
    product_id: int


class CatalogCategoryOut(Schema):
    id: int
    name: str
    parent_id: int | None
    path: str
    position: int


class CatalogCategoryIn(Schema):
    name: Text(100) = Field(min_length=1)
    parent_id: Id | None = None
    position: Annotated[int, Field(ge=0, le=10000)] = 0


class CatalogCategoryPatch(Schema):
    name: Text(100) | None = Field(None, min_length=1)
    parent_id: Id | None = Field(None, description="Move under this category; 0 is not allowed, use move_to_top.")
    move_to_top: bool = False
    position: Annotated[int, Field(ge=0, le=10000)] | None = None


class CatalogPriceListOut(Schema):
    id: int
    name: str
    kind: str
    channel_level: str
    tier: str
    customer_id: int | None
    valid_from: date
    valid_until: date | None
    is_active: bool
    currency: str
    notes: str
    version: int


class CatalogPriceListList(Page):
    items: list[CatalogPriceListOut]


class CatalogPriceListIn(Schema):
    name: Text(120) = Field(min_length=1)
    kind: PriceListKind
    channel_level: ChannelLevel | None = None
    tier: Tier | None = None
    customer_id: Id | None = None
    valid_from: Day
    valid_until: Day | None = None
    is_active: bool = True
    notes: LongText() = ""


class CatalogPriceListPatch(Schema):
    version: Version | None = None
    name: Text(120) | None = Field(None, min_length=1)
    kind: PriceListKind | None = None
    channel_level: ChannelLevel | None = None
    tier: Tier | None = None
    customer_id: Id | None = None
    valid_from: Day | None = None
    valid_until: Day | None = None
    is_active: bool | None = None
    notes: LongText() | None = None


class CatalogPriceItemOut(Schema):
    id: int
    price_list_id: int
    product_id: int
    specification_id: int | None
    min_quantity: Decimal
    price: Decimal | None
    percent_of_list: Decimal | None
    valid_from: date | None
    valid_until: date | None


class CatalogPriceItemList(Page):
    items: list[CatalogPriceItemOut]


class CatalogPriceItemIn(Schema):
    product_id: Id | None = Field(None, description="The product; or give specification_id alone.")
    specification_id: Id | None = Field(None, description="Empty: the price is for every specification.")
    min_quantity: Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=3)] = Decimal("1")
    price: Money | None = None
    percent_of_list: Annotated[Decimal, Field(ge=0, le=1000, max_digits=6, decimal_places=2)] | None = None
    valid_from: Day | None = None
    valid_until: Day | None = None


class CatalogPriceItemPatch(Schema):
    min_quantity: Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=3)] | None = None
    price: Money | None = None
    percent_of_list: Annotated[Decimal, Field(ge=0, le=1000, max_digits=6, decimal_places=2)] | None = None
    valid_from: Day | None = None
    valid_until: Day | None = None


class CatalogLimitsOut(Schema):
    limits: dict[str, Decimal] = Field(description="Role → the largest discount (%) without approval.")
    floor_approver_roles: list[str]


class CatalogLimitsIn(Schema):
    limits: dict[Role, Percent | None] = Field(
        default_factory=dict, description="Role → largest discount %; null removes the role's limit."
    )
    floor_approver_roles: list[Role] | None = Field(None, max_length=20)


class CatalogResolveLine(Schema):
    specification_id: Id | None = None
    code: Text(60) | None = Field(None, description="A specification code, instead of specification_id.")
    quantity: Quantity = Decimal("1")


class CatalogResolveIn(Schema):
    customer_id: Id
    on: Day | None = Field(None, description="The date the prices apply on; today by default.")
    lines: list[CatalogResolveLine] = Field(min_length=1, max_length=1000)


class CatalogResolvedOut(Schema):
    specification_id: int
    code: str
    product_id: int | None
    quantity: Decimal
    list_price: Decimal | None
    price: Decimal | None = Field(description="null: the price book has no price for this customer then.")
    source: str = Field(description='Where the price comes from, for people: "二批 price list, from 100 台".')
    price_list_id: int | None
    kind: str
    min_quantity: Decimal | None
    floor_price: Decimal | None
    tax_rate: Decimal | None


class CatalogResolveOut(Schema):
    customer_id: int
    on: date
    lines: list[CatalogResolvedOut]


# ---- helpers ---------------------------------------------------------------------------------


def _view(request) -> None:
    if not selectors.may_view(request.user):
        raise PermissionDenied


def _manage(request) -> None:
    _view(request)
    if not selectors.may_manage(request.user):
        raise PermissionDenied


def _category(pk) -> Category | None:
    if pk is None:
        return None
    category = Category.objects.filter(pk=pk).first()
    if category is None:
        raise ValidationError({"category_id": [_("No category has this id.")]})
    return category


def _product(request, pk):
    _view(request)
    return selectors.product_get(request.user, pk)


# ---- products --------------------------------------------------------------------------------


@router.get("/products", response=CatalogProductList)
def product_list(request, query: Query[CatalogProductQuery]):
    _view(request)
    filters = selectors.ProductFilters(q=query.q.strip(), category_id=query.category_id, status=query.status or "")
    return selectors.product_list(request.user, filters, offset=query.offset, limit=query.limit).as_dict()


@router.post("/products", response={201: CatalogProductOut})
def product_create(request, payload: CatalogProductIn):
    _manage(request)
    data = payload.dict()
    specs = data.pop("specifications")
    category = _category(data.pop("category_id"))
    product = services.product_create(actor=request.user, category=category, specifications=specs or None, **data)
    return Status(201, selectors.product_get(request.user, product.pk))


@router.get("/products/{product_id}", response=CatalogProductOut)
def product_read(request, product_id: Id):
    return _product(request, product_id)


@router.patch("/products/{product_id}", response=CatalogProductOut)
def product_update(request, product_id: Id, payload: CatalogProductPatch):
    _manage(request)
    product = _product(request, product_id)
    data = payload.dict(exclude_unset=True)
    version = data.pop("version", None)
    if "category_id" in data:
        data["category"] = _category(data.pop("category_id"))
    for name in ("code", "name", "unit", "status", "tax_rate", "description"):
        if name in data and data[name] is None:
            data.pop(name)
    if data:
        services.product_update(
            product=product, actor=request.user, expected_version=version or product.version, **data
        )
    return selectors.product_get(request.user, product.pk)


@router.delete("/products/{product_id}", response={204: None})
def product_delete(request, product_id: Id):
    _manage(request)
    services.product_delete(product=_product(request, product_id), actor=request.user)
    return Status(204, None)


@router.post("/products/{product_id}/restore", response=CatalogProductOut)
def product_restore(request, product_id: Id):
    _manage(request)
    product = selectors.product_get(request.user, product_id, deleted=True)
    services.product_restore(product=product, actor=request.user)
    return selectors.product_get(request.user, product.pk)


# ---- specifications --------------------------------------------------------------------------


@router.get("/specifications", response=list[CatalogSpecHit])
def specification_search(request, q: Text(60), limit: Annotated[int, Field(ge=1, le=50)] = 20):
    """Code prefix matches first, then codes, names and specifications containing `q`."""
    _view(request)
    return selectors.specification_search(q, limit=limit)


@router.post("/products/{product_id}/specifications", response={201: CatalogSpecOut})
def specification_create(request, product_id: Id, payload: CatalogSpecIn):
    _manage(request)
    spec = services.specification_create(product=_product(request, product_id), actor=request.user, **payload.dict())
    spec.list_price = None
    return Status(201, spec)


@router.patch("/specifications/{specification_id}", response=CatalogSpecOut)
def specification_update(request, specification_id: Id, payload: CatalogSpecPatch):
    _manage(request)
    spec = selectors.specification_get(request.user, specification_id)
    data = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    if data:
        services.specification_update(specification=spec, actor=request.user, **data)
    spec.list_price = selectors.list_prices([spec.pk]).get(spec.pk)
    return spec


@router.delete("/specifications/{specification_id}", response=CatalogSpecDeleted)
def specification_delete(request, specification_id: Id):
    _manage(request)
    spec = selectors.specification_get(request.user, specification_id)
    return {"outcome": services.specification_delete(specification=spec, actor=request.user)}


# ---- categories ------------------------------------------------------------------------------


@router.get("/categories", response=list[CatalogCategoryOut])
def category_list(request):
    _view(request)
    return list(Category.objects.order_by("path")[:5000])


@router.post("/categories", response={201: CatalogCategoryOut})
def category_create(request, payload: CatalogCategoryIn):
    _manage(request)
    category = services.category_create(
        name=payload.name, parent=_category(payload.parent_id), position=payload.position, actor=request.user
    )
    return Status(201, category)


def _category_or_404(pk) -> Category:
    try:
        return Category.objects.get(pk=pk)
    except Category.DoesNotExist:
        raise Http404 from None


@router.patch("/categories/{category_id}", response=CatalogCategoryOut)
def category_update(request, category_id: Id, payload: CatalogCategoryPatch):
    _manage(request)
    category = _category_or_404(category_id)
    if payload.move_to_top or payload.parent_id is not None:
        parent = None if payload.move_to_top else _category(payload.parent_id)
        services.category_move(category=category, parent=parent, actor=request.user)
    if payload.name is not None or payload.position is not None:
        services.category_update(category=category, actor=request.user, name=payload.name, position=payload.position)
    category.refresh_from_db()
    return category


@router.delete("/categories/{category_id}", response={204: None})
def category_delete(request, category_id: Id):
    _manage(request)
    services.category_delete(category=_category_or_404(category_id), actor=request.user)
    return Status(204, None)


# ---- price lists and items -------------------------------------------------------------------


def _customer(request, pk):
    if pk is None:
        return None
    return customer_get(request.user, pk)


@router.get("/price-lists", response=CatalogPriceListList)
def price_list_list(request, kind: PriceListKind | None = None, limit: Limit = 50, offset: Offset = 0):
    _view(request)
    filters = selectors.PriceListFilters(kind=kind or "")
    return selectors.price_list_list(request.user, filters, offset=offset, limit=limit).as_dict()


@router.post("/price-lists", response={201: CatalogPriceListOut})
def price_list_create(request, payload: CatalogPriceListIn):
    _manage(request)
    data = payload.dict()
    customer = _customer(request, data.pop("customer_id"))
    price_list = services.price_list_create(
        actor=request.user,
        customer=customer,
        **{**data, "channel_level": data["channel_level"] or "", "tier": data["tier"] or ""},
    )
    return Status(201, price_list)


@router.get("/price-lists/{price_list_id}", response=CatalogPriceListOut)
def price_list_read(request, price_list_id: Id):
    _view(request)
    return selectors.price_list_get(request.user, price_list_id)


@router.patch("/price-lists/{price_list_id}", response=CatalogPriceListOut)
def price_list_update(request, price_list_id: Id, payload: CatalogPriceListPatch):
    _manage(request)
    price_list = selectors.price_list_get(request.user, price_list_id)
    data = payload.dict(exclude_unset=True)
    version = data.pop("version", None)
    if "customer_id" in data:
        data["customer"] = _customer(request, data.pop("customer_id"))
    for name in ("channel_level", "tier"):
        if name in data and data[name] is None:
            data[name] = ""
    for name in ("name", "kind", "valid_from", "is_active", "notes"):
        if name in data and data[name] is None:
            data.pop(name)
    if data:
        services.price_list_update(
            price_list=price_list, actor=request.user, expected_version=version or price_list.version, **data
        )
    return price_list


@router.delete("/price-lists/{price_list_id}", response={204: None})
def price_list_delete(request, price_list_id: Id):
    _manage(request)
    services.price_list_delete(price_list=selectors.price_list_get(request.user, price_list_id), actor=request.user)
    return Status(204, None)


@router.get("/price-lists/{price_list_id}/items", response=CatalogPriceItemList)
def price_item_list(request, price_list_id: Id, q: Text(60) = "", limit: Limit = 50, offset: Offset = 0):
    _view(request)
    price_list = selectors.price_list_get(request.user, price_list_id)
    return selectors.price_items(price_list, q=q, offset=offset, limit=limit).as_dict()


@router.post("/price-lists/{price_list_id}/items", response={201: CatalogPriceItemOut})
def price_item_create(request, price_list_id: Id, payload: CatalogPriceItemIn):
    _manage(request)
    price_list = selectors.price_list_get(request.user, price_list_id)
    data = payload.dict()
    spec = None
    if data.get("specification_id"):
        spec = selectors.specification_get(request.user, data["specification_id"])
    product_id = data.pop("product_id") or (spec.product_id if spec else None)
    if product_id is None:
        raise ValidationError({"product_id": [_("Give a product_id or a specification_id.")]})
    data.pop("specification_id")
    product = selectors.product_get(request.user, product_id)
    item = services.price_item_create(
        price_list=price_list, actor=request.user, product=product, specification=spec, **data
    )
    return Status(201, item)


@router.patch("/price-items/{item_id}", response=CatalogPriceItemOut)
def price_item_update(request, item_id: Id, payload: CatalogPriceItemPatch):
    _manage(request)
    item = selectors.price_item_get(request.user, item_id)
    data = payload.dict(exclude_unset=True)
    if data.get("min_quantity") is None:
        data.pop("min_quantity", None)
    if data:
        services.price_item_update(item=item, actor=request.user, **data)
    return item


@router.delete("/price-items/{item_id}", response={204: None})
def price_item_delete(request, item_id: Id):
    _manage(request)
    services.price_item_delete(item=selectors.price_item_get(request.user, item_id), actor=request.user)
    return Status(204, None)


# ---- discount limits -------------------------------------------------------------------------


def _limits() -> dict:
    return {
        "limits": selectors.discount_limits(),
        "floor_approver_roles": list(PricingSettings.load().floor_approver_roles or []),
    }


@router.get("/discount-limits", response=CatalogLimitsOut)
def discount_limits_read(request):
    _view(request)
    return _limits()


@router.put("/discount-limits", response=CatalogLimitsOut)
def discount_limits_update(request, payload: CatalogLimitsIn):
    """Set the limits named (null removes one) and, when given, the roles that approve below the floor."""
    _manage(request)
    if payload.limits:
        services.discount_limits_set(actor=request.user, limits={str(k): v for k, v in payload.limits.items()})
    if payload.floor_approver_roles is not None:
        services.pricing_settings_update(
            actor=request.user, floor_approver_roles=[str(r) for r in payload.floor_approver_roles]
        )
    return _limits()


# ---- price resolution ------------------------------------------------------------------------


@router.post("/prices/resolve", response=CatalogResolveOut)
def prices_resolve(request, payload: CatalogResolveIn):
    """The price the customer gets for each line on the date, with its source; a line whose price
    book has nothing answers `price: null`. Lines name a specification by id or by code."""
    _view(request)
    customer = customer_get(request.user, payload.customer_id)
    codes = [line.code.strip() for line in payload.lines if line.specification_id is None and line.code]
    by_code = selectors.specifications_by_code(codes)
    errors = {}
    ids = []
    for n, line in enumerate(payload.lines):
        if line.specification_id is not None:
            ids.append(line.specification_id)
        elif line.code and line.code.strip() in by_code:
            ids.append(by_code[line.code.strip()].pk)
        else:
            errors[f"lines.{n}"] = [
                _("No specification has the code “%(code)s”.") % {"code": line.code}
                if line.code
                else _("Give specification_id or code.")
            ]
    if errors:
        raise ValidationError(errors)
    known = dict(Specification.objects.filter(pk__in=ids, product__deleted_at__isnull=True).values_list("pk", "code"))
    missing = {f"lines.{n}": [_("No specification has this id.")] for n, pk in enumerate(ids) if pk not in known}
    if missing:
        raise ValidationError(missing)
    resolved = pricing.prices_resolve(
        customer=customer,
        lines=[(pk, line.quantity) for pk, line in zip(ids, payload.lines, strict=True)],
        on=payload.on,
    )
    return {
        "customer_id": customer.pk,
        "on": payload.on or timezone.localdate(),
        "lines": [{**r.__dict__, "code": known[r.specification_id]} for r in resolved],
    }
