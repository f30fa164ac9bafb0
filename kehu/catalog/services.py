"""Every write to the catalog and the price book (SAL-4).

Categories form a tree with a materialised `path` ("0001/0004/"); products keep at least one
specification and a lower-cased `search_text` (code, name, specification codes and names) for
the quote line search; price lists hold fixed prices or percentages of the list price. Only
people with `catalog.manage_catalog` write here; every change leaves an audit row.
"""

from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.catalog.models import (
    Category,
    DiscountLimit,
    PriceItem,
    PriceList,
    PriceListKind,
    PricingSettings,
    Product,
    ProductStatus,
    Specification,
)
from kehu.core.audit import audit_record, diff, snapshot
from kehu.core.models import AuditAction
from kehu.core.text import full_clean
from kehu.core.versioning import update_versioned
from kehu.users.roles import Role

MANAGE = "catalog.manage_catalog"
PRODUCT_FIELDS = (
    "code",
    "name",
    "category",
    "unit",
    "status",
    "tax_rate",
    "cost",
    "floor_price",
    "description",
)
PRICE_LIST_FIELDS = (
    "name",
    "kind",
    "channel_level",
    "tier",
    "customer",
    "valid_from",
    "valid_until",
    "is_active",
    "currency",
    "notes",
)
ITEM_FIELDS = ("product", "specification", "min_quantity", "price", "percent_of_list", "valid_from", "valid_until")
IMAGE_TYPES = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}
IMAGE_MAX_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 20


def _check(actor) -> None:
    if not getattr(actor, "is_authenticated", False) or not actor.has_perm(MANAGE):
        raise PermissionDenied


def _decimal(value, field: str, *, places: int = 4, allow_none: bool = True) -> Decimal | None:
    if value is None or value == "":
        if allow_none:
            return None
        raise ValidationError({field: [_("This field is required.")]})
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise ValidationError({field: [_("Enter a number.")]}) from None
    if not number.is_finite():
        raise ValidationError({field: [_("Enter a number.")]})
    return number.quantize(Decimal(1).scaleb(-places))


# ---- categories ------------------------------------------------------------------------------


def _segment(category: Category) -> str:
    return f"{category.pk:04d}/"


@transaction.atomic
def category_create(*, name: str, parent: Category | None = None, position: int = 0, actor) -> Category:
    _check(actor)
    category = Category(name=(name or "").strip(), parent=parent, position=position or 0)
    _category_clean(category)
    category.save()
    category.path = (parent.path if parent else "") + _segment(category)
    category.save(update_fields=["path"])
    audit_record(actor=actor, action=AuditAction.CREATE, instance=category)
    return category


def _category_clean(category: Category) -> None:
    if not category.name:
        raise ValidationError({"name": [_("Give the category a name.")]})
    full_clean(category, exclude=["path", "parent"], validate_unique=False, validate_constraints=False)
    siblings = Category.objects.filter(parent=category.parent, name=category.name).exclude(pk=category.pk)
    if siblings.exists():
        raise ValidationError({"name": [_("There is already a category “%(name)s” here.") % {"name": category.name}]})
    if category.parent is not None and category.parent.path.count("/") >= MAX_DEPTH:
        raise ValidationError({"parent": [_("Categories nest at most %(n)s levels deep.") % {"n": MAX_DEPTH}]})


@transaction.atomic
def category_update(*, category: Category, actor, name: str | None = None, position: int | None = None) -> Category:
    _check(actor)
    before = snapshot(category, ["name", "position"])
    if name is not None:
        category.name = name.strip()
    if position is not None:
        category.position = position
    _category_clean(category)
    category.save(update_fields=["name", "position"])
    changes = diff(before, snapshot(category, ["name", "position"]))
    if changes:
        audit_record(actor=actor, action=AuditAction.UPDATE, instance=category, changes=changes)
    return category


@transaction.atomic
def category_move(*, category: Category, parent: Category | None, actor) -> Category:
    """Put a category (with everything under it) under another parent, or at the top."""
    _check(actor)
    if parent is not None and (parent.pk == category.pk or parent.path.startswith(category.path)):
        raise ValidationError({"parent": [_("A category cannot move under itself or one of its subcategories.")]})
    before = str(category.parent or "")
    category.parent = parent
    _category_clean(category)
    old_path = category.path
    new_path = (parent.path if parent else "") + _segment(category)
    category.path = new_path
    category.save(update_fields=["parent", "path"])
    moved = list(Category.objects.filter(path__startswith=old_path).exclude(pk=category.pk))
    for child in moved:
        child.path = new_path + child.path[len(old_path) :]
    Category.objects.bulk_update(moved, ["path"], batch_size=500)
    audit_record(
        actor=actor, action=AuditAction.UPDATE, instance=category, changes={"parent": [before, str(parent or "")]}
    )
    return category


@transaction.atomic
def category_delete(*, category: Category, actor) -> None:
    """Only an empty category goes: no subcategories, no products (those in the recycle bin count)."""
    _check(actor)
    if Category.objects.filter(parent=category).exists():
        raise ValidationError(
            _("“%(name)s” has subcategories: move or delete them first.") % {"name": category.name}, code="in_use"
        )
    if Product.objects.filter(category=category).exists():
        raise ValidationError(
            _("“%(name)s” still holds products (perhaps in the recycle bin): move them to another category first.")
            % {"name": category.name},
            code="in_use",
        )
    audit_record(actor=actor, action=AuditAction.DELETE, instance=category)
    category.delete()


def category_for_path(path: str, *, actor, cache: dict | None = None) -> Category | None:
    """The category named by "泵/离心泵" (also "泵 > 离心泵"), created level by level when missing."""
    names = [p.strip() for p in path.replace(">", "/").replace("／", "/").split("/") if p.strip()]
    if not names:
        return None
    cache = {} if cache is None else cache
    parent = None
    for depth in range(1, len(names) + 1):
        key = "/".join(names[:depth])
        found = cache.get(key)
        if found is None:
            found = Category.objects.filter(parent=parent, name=names[depth - 1]).first()
            if found is None:
                found = category_create(name=names[depth - 1], parent=parent, actor=actor)
            cache[key] = found
        parent = found
    return parent


# ---- products --------------------------------------------------------------------------------


def search_text_of(product: Product, specifications) -> str:
    parts = [product.code, product.name]
    for spec in specifications:
        parts += [spec.code, spec.name]
    return " ".join(p for p in parts if p).lower()


def _refresh_search_text(product: Product) -> None:
    product.search_text = search_text_of(product, Specification.objects.filter(product=product).order_by("position"))
    Product.objects.filter(pk=product.pk).update(search_text=product.search_text)


def _product_clean(product: Product) -> None:
    product.code = (product.code or "").strip()
    product.name = (product.name or "").strip()
    product.unit = (product.unit or "").strip()
    errors: dict[str, list[str]] = {}
    if not product.code:
        errors["code"] = [_("Give the product a code.")]
    if not product.name:
        errors["name"] = [_("Give the product a name.")]
    if not product.unit:
        errors["unit"] = [_("Give the unit it is sold in (台, 套, 件, kg, m …).")]
    if errors:
        raise ValidationError(errors)
    for name in ("tax_rate", "cost", "floor_price"):
        setattr(
            product,
            name,
            _decimal(
                getattr(product, name), name, places=2 if name == "tax_rate" else 4, allow_none=name != "tax_rate"
            ),
        )
    full_clean(product, exclude=["category", "image", "search_text", "created_by", "deleted_by"], validate_unique=False)
    taken = Product.objects.filter(code=product.code).exclude(pk=product.pk)
    if taken.exists():
        raise ValidationError({"code": [_("The product code “%(code)s” is already used.") % {"code": product.code}]})


def _spec_clean(spec: Specification) -> None:
    spec.code = (spec.code or "").strip()
    spec.name = (spec.name or "").strip()
    errors: dict[str, list[str]] = {}
    if not spec.code:
        errors["code"] = [_("Give the specification a code.")]
    if not spec.name:
        errors["name"] = [_("Give the specification a name or model.")]
    if errors:
        raise ValidationError(errors)
    full_clean(spec, exclude=["product"], validate_unique=False)
    taken = Specification.objects.filter(code=spec.code).exclude(pk=spec.pk)
    if taken.exists():
        raise ValidationError({"code": [_("The specification code “%(code)s” is already used.") % {"code": spec.code}]})


@transaction.atomic
def product_create(
    *,
    actor,
    code: str,
    name: str,
    category: Category | None = None,
    unit: str = "台",
    status: str = ProductStatus.ACTIVE,
    tax_rate=Decimal("13.00"),
    cost=None,
    floor_price=None,
    description: str = "",
    specifications: list[dict] | None = None,
) -> Product:
    """A new product with its specifications; without any, one "standard" specification carrying
    the product's code (every product is sold through at least one)."""
    _check(actor)
    product = Product(
        code=code,
        name=name,
        category=category,
        unit=unit,
        status=status,
        tax_rate=tax_rate,
        cost=cost,
        floor_price=floor_price,
        description=description or "",
        created_by=actor,
    )
    _product_clean(product)
    product.save()
    specs = specifications or [{"code": product.code, "name": _("Standard")}]
    made = []
    seen: set[str] = set()
    for position, data in enumerate(specs):
        spec = Specification(
            product=product,
            code=data.get("code", ""),
            name=data.get("name", ""),
            position=data.get("position", position),
        )
        _spec_clean(spec)
        if spec.code in seen:
            raise ValidationError(
                {"code": [_("The specification code “%(code)s” is used twice.") % {"code": spec.code}]}
            )
        seen.add(spec.code)
        spec.save()
        made.append(spec)
    product.search_text = search_text_of(product, made)
    product.save(update_fields=["search_text"])
    audit_record(actor=actor, action=AuditAction.CREATE, instance=product)
    return product


@transaction.atomic
def product_update(*, product: Product, actor, expected_version: int, **fields) -> Product:
    _check(actor)
    if product.is_deleted:
        raise ValidationError(_("This product is in the recycle bin; restore it first."))
    before = snapshot(product, list(PRODUCT_FIELDS))
    for name, value in fields.items():
        if name not in PRODUCT_FIELDS:
            raise ValidationError({name: [_("This field cannot be changed.")]})
        setattr(product, name, value)
    _product_clean(product)
    changes = diff(before, snapshot(product, list(PRODUCT_FIELDS)))
    product.search_text = search_text_of(product, Specification.objects.filter(product=product))
    update_versioned(product, expected_version=expected_version, fields=[*PRODUCT_FIELDS, "search_text"])
    if changes:
        audit_record(actor=actor, action=AuditAction.UPDATE, instance=product, changes=changes)
    return product


@transaction.atomic
def product_delete(*, product: Product, actor) -> Product:
    """To the recycle bin: out of every list and search, restorable."""
    _check(actor)
    if product.is_deleted:
        return product
    product.deleted_at, product.deleted_by = timezone.now(), actor
    product.save(update_fields=["deleted_at", "deleted_by"])
    audit_record(actor=actor, action=AuditAction.DELETE, instance=product)
    return product


@transaction.atomic
def product_restore(*, product: Product, actor) -> Product:
    _check(actor)
    if not product.is_deleted:
        return product
    product.deleted_at, product.deleted_by = None, None
    product.save(update_fields=["deleted_at", "deleted_by"])
    audit_record(actor=actor, action=AuditAction.RESTORE, instance=product)
    return product


def image_check(upload) -> str:
    """The file's extension when it is a JPEG, PNG, WebP or GIF picture of at most 2 MB."""
    from PIL import Image, UnidentifiedImageError

    if upload.size > IMAGE_MAX_BYTES:
        raise ValidationError({"image": [_("The picture is larger than 2 MB; make it smaller.")]})
    try:
        upload.seek(0)
        with Image.open(upload) as picture:
            kind = picture.format
            picture.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        kind = None
    upload.seek(0)
    if kind not in IMAGE_TYPES:
        raise ValidationError({"image": [_("Upload a JPEG, PNG, WebP or GIF picture.")]})
    return IMAGE_TYPES[kind]


@transaction.atomic
def product_image_set(*, product: Product, actor, image) -> Product:
    """Replace the product's picture (None removes it)."""
    _check(actor)
    before = product.image.name if product.image else ""
    if image is None:
        product.image = ""
    else:
        extension = image_check(image)
        product.image.save(f"{product.pk}.{extension}", image, save=False)
    Product.objects.filter(pk=product.pk).update(image=product.image.name if product.image else "")
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=product,
        changes={"image": [before, product.image.name if product.image else ""]},
    )
    return product


# ---- specifications --------------------------------------------------------------------------


@transaction.atomic
def specification_create(*, product: Product, actor, code: str, name: str, position: int | None = None):
    _check(actor)
    if position is None:
        position = Specification.objects.filter(product=product).count()
    spec = Specification(product=product, code=code, name=name, position=position)
    _spec_clean(spec)
    spec.save()
    _refresh_search_text(product)
    audit_record(actor=actor, action=AuditAction.CREATE, instance=spec)
    return spec


@transaction.atomic
def specification_update(*, specification: Specification, actor, **fields) -> Specification:
    _check(actor)
    names = ("code", "name", "position", "is_active")
    before = snapshot(specification, list(names))
    for name, value in fields.items():
        if name not in names:
            raise ValidationError({name: [_("This field cannot be changed.")]})
        setattr(specification, name, value)
    _spec_clean(specification)
    if not specification.is_active and not (
        Specification.objects.filter(product_id=specification.product_id, is_active=True)
        .exclude(pk=specification.pk)
        .exists()
    ):
        raise ValidationError(_("A product keeps at least one active specification."))
    specification.save()
    _refresh_search_text(specification.product)
    changes = diff(before, snapshot(specification, list(names)))
    if changes:
        audit_record(actor=actor, action=AuditAction.UPDATE, instance=specification, changes=changes)
    return specification


def specification_is_used(specification: Specification) -> bool:
    """Whether another record (a quote line, an order line) names this specification; price items
    do not count (they go with it)."""
    # Hidden reverse relations too: quote lines point here with related_name="+".
    relations = [f for f in Specification._meta.get_fields(include_hidden=True) if f.auto_created and not f.concrete]
    for relation in relations:
        if relation.related_model is PriceItem or not relation.field.concrete:
            continue
        if relation.related_model._base_manager.filter(**{relation.field.name: specification}).exists():
            return True
    return False


@transaction.atomic
def specification_delete(*, specification: Specification, actor) -> str:
    """Delete a specification nobody quoted; one that was quoted is deactivated instead (the quotes
    keep pointing at it). Answers "deleted" or "deactivated"."""
    _check(actor)
    others = Specification.objects.filter(product_id=specification.product_id).exclude(pk=specification.pk)
    if not others.exists():
        raise ValidationError(_("A product keeps at least one specification; add another before removing this one."))
    if specification.is_active and not others.filter(is_active=True).exists():
        raise ValidationError(_("A product keeps at least one active specification."))
    if specification_is_used(specification):
        if specification.is_active:
            specification.is_active = False
            specification.save(update_fields=["is_active", "updated_at"])
            audit_record(
                actor=actor, action=AuditAction.UPDATE, instance=specification, changes={"is_active": [True, False]}
            )
        return "deactivated"
    product = specification.product
    audit_record(actor=actor, action=AuditAction.DELETE, instance=specification)
    try:
        with transaction.atomic():
            specification.delete()
    except ProtectedError:
        raise ValidationError(_("This specification is still used elsewhere; deactivate it instead.")) from None
    _refresh_search_text(product)
    return "deleted"


# ---- price lists and items -------------------------------------------------------------------


def _price_list_clean(price_list: PriceList) -> None:
    price_list.name = (price_list.name or "").strip()
    errors: dict[str, list[str]] = {}
    if not price_list.name:
        errors["name"] = [_("Give the price list a name.")]
    kind = price_list.kind
    if kind not in PriceListKind.values:
        errors["kind"] = [_("Choose what the price list applies to.")]
    # Only the field of its kind is kept; the others are emptied.
    if kind != PriceListKind.CHANNEL:
        price_list.channel_level = ""
    elif not price_list.channel_level:
        errors["channel_level"] = [_("Choose the channel level this price list is for.")]
    if kind != PriceListKind.TIER:
        price_list.tier = ""
    elif not price_list.tier:
        errors["tier"] = [_("Choose the customer tier this price list is for.")]
    if kind != PriceListKind.CUSTOMER:
        price_list.customer = None
    elif price_list.customer_id is None:
        errors["customer"] = [_("Choose the customer this price list is for.")]
    if not price_list.valid_from:
        errors["valid_from"] = [_("Give the date the prices start to apply.")]
    elif price_list.valid_until and price_list.valid_until < price_list.valid_from:
        errors["valid_until"] = [_("The end date lies before the start date.")]
    if errors:
        raise ValidationError(errors)
    full_clean(price_list, exclude=["customer"])
    if kind == PriceListKind.LIST and price_list.pk:
        if PriceItem.objects.filter(price_list=price_list, percent_of_list__isnull=False).exists():
            raise ValidationError(
                {"kind": [_("A list-price list holds fixed prices only; its items use percentages.")]}
            )
    if price_list.pk:
        outside = PriceItem.objects.filter(price_list=price_list).filter(
            **{"valid_from__lt": price_list.valid_from}
        ) | PriceItem.objects.filter(price_list=price_list, valid_until__isnull=False).filter(
            valid_until__gt=price_list.valid_until or date.max
        )
        if outside.exists():
            raise ValidationError(
                {
                    "valid_from": [
                        _("Some prices of this list have validity dates outside the new dates; change them first.")
                    ]
                }
            )


@transaction.atomic
def price_list_create(
    *,
    actor,
    name: str,
    kind: str,
    valid_from: date,
    channel_level: str = "",
    tier: str = "",
    customer=None,
    valid_until: date | None = None,
    is_active: bool = True,
    currency: str = "CNY",
    notes: str = "",
) -> PriceList:
    _check(actor)
    price_list = PriceList(
        name=name,
        kind=kind,
        channel_level=channel_level or "",
        tier=tier or "",
        customer=customer,
        valid_from=valid_from,
        valid_until=valid_until,
        is_active=is_active,
        currency=currency or "CNY",
        notes=notes or "",
    )
    _price_list_clean(price_list)
    price_list.save()
    audit_record(actor=actor, action=AuditAction.CREATE, instance=price_list)
    return price_list


@transaction.atomic
def price_list_update(*, price_list: PriceList, actor, expected_version: int, **fields) -> PriceList:
    _check(actor)
    before = snapshot(price_list, list(PRICE_LIST_FIELDS))
    for name, value in fields.items():
        if name not in PRICE_LIST_FIELDS:
            raise ValidationError({name: [_("This field cannot be changed.")]})
        setattr(price_list, name, value)
    _price_list_clean(price_list)
    update_versioned(price_list, expected_version=expected_version, fields=list(PRICE_LIST_FIELDS))
    changes = diff(before, snapshot(price_list, list(PRICE_LIST_FIELDS)))
    if changes:
        audit_record(actor=actor, action=AuditAction.UPDATE, instance=price_list, changes=changes)
    return price_list


@transaction.atomic
def price_list_delete(*, price_list: PriceList, actor) -> None:
    """A price list goes with its items; quotes keep the prices they copied."""
    _check(actor)
    audit_record(actor=actor, action=AuditAction.DELETE, instance=price_list)
    try:
        with transaction.atomic():
            price_list.delete()
    except (ProtectedError, IntegrityError):
        raise ValidationError(_("This price list is still used by quotes; switch it off instead.")) from None


def _item_clean(item: PriceItem, price_list: PriceList) -> None:
    errors: dict[str, list[str]] = {}
    item.min_quantity = _decimal(item.min_quantity, "min_quantity", places=3, allow_none=False)
    item.price = _decimal(item.price, "price")
    item.percent_of_list = _decimal(item.percent_of_list, "percent_of_list", places=2)
    if item.product_id is None:
        errors["product"] = [_("Choose a product.")]
    elif item.specification_id is not None and item.specification.product_id != item.product_id:
        errors["specification"] = [_("This specification belongs to another product.")]
    if item.price is None and item.percent_of_list is None:
        errors["price"] = [_("Give either a fixed price or a percentage of the list price.")]
    elif item.price is not None and item.percent_of_list is not None:
        errors["price"] = [_("Give a fixed price or a percentage of the list price, not both.")]
    elif price_list.kind == PriceListKind.LIST and item.percent_of_list is not None:
        errors["percent_of_list"] = [_("The list price is a fixed price, not a percentage.")]
    if item.min_quantity is not None and item.min_quantity < 0:
        errors["min_quantity"] = [_("The quantity cannot be negative.")]
    if item.valid_from and item.valid_until and item.valid_until < item.valid_from:
        errors["valid_until"] = [_("The end date lies before the start date.")]
    elif item.valid_from and item.valid_from < price_list.valid_from:
        errors["valid_from"] = [
            _("The price cannot start before its price list (%(date)s).") % {"date": price_list.valid_from.isoformat()}
        ]
    elif price_list.valid_until and item.valid_until and item.valid_until > price_list.valid_until:
        errors["valid_until"] = [
            _("The price cannot end after its price list (%(date)s).") % {"date": price_list.valid_until.isoformat()}
        ]
    if errors:
        raise ValidationError(errors)
    full_clean(item, exclude=["price_list", "product", "specification"], validate_constraints=False)
    same = PriceItem.objects.filter(
        price_list=price_list,
        product_id=item.product_id,
        specification_id=item.specification_id,
        min_quantity=item.min_quantity,
        valid_from=item.valid_from,
    ).exclude(pk=item.pk)
    if same.exists():
        raise ValidationError(
            {"min_quantity": [_("This list already has a price for it from this quantity; change that one instead.")]}
        )


@transaction.atomic
def price_item_create(
    *,
    price_list: PriceList,
    actor,
    product: Product,
    specification: Specification | None = None,
    min_quantity=Decimal("1"),
    price=None,
    percent_of_list=None,
    valid_from: date | None = None,
    valid_until: date | None = None,
) -> PriceItem:
    _check(actor)
    item = PriceItem(
        price_list=price_list,
        product=product,
        specification=specification,
        min_quantity=Decimal("1") if min_quantity in (None, "") else min_quantity,
        price=price,
        percent_of_list=percent_of_list,
        valid_from=valid_from,
        valid_until=valid_until,
    )
    _item_clean(item, price_list)
    item.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=price_list,
        changes={"item": [None, _item_words(item)]},
    )
    return item


def _item_words(item: PriceItem) -> str:
    target = item.specification.code if item.specification_id else item.product.code
    value = f"¥{item.price}" if item.price is not None else f"{item.percent_of_list}%"
    return f"{target} ≥{item.min_quantity}: {value}"


@transaction.atomic
def price_item_update(*, item: PriceItem, actor, **fields) -> PriceItem:
    _check(actor)
    before = _item_words(item)
    for name, value in fields.items():
        if name not in ITEM_FIELDS:
            raise ValidationError({name: [_("This field cannot be changed.")]})
        setattr(item, name, value)
    _item_clean(item, item.price_list)
    item.save()
    after = _item_words(item)
    if after != before:
        audit_record(
            actor=actor, action=AuditAction.UPDATE, instance=item.price_list, changes={"item": [before, after]}
        )
    return item


@transaction.atomic
def price_item_delete(*, item: PriceItem, actor) -> None:
    _check(actor)
    audit_record(
        actor=actor, action=AuditAction.UPDATE, instance=item.price_list, changes={"item": [_item_words(item), None]}
    )
    item.delete()


def list_price_list(*, actor, on: date | None = None) -> PriceList:
    """The list-price list in force today (the one starting last), created when there is none."""
    on = on or timezone.localdate()
    found = (
        PriceList.objects.filter(kind=PriceListKind.LIST, is_active=True, valid_from__lte=on)
        .exclude(valid_until__lt=on)
        .order_by("-valid_from", "-id")
        .first()
    )
    if found is not None:
        return found
    return price_list_create(actor=actor, name=_("List price"), kind=PriceListKind.LIST, valid_from=on)


# ---- discount limits and pricing settings ----------------------------------------------------


@transaction.atomic
def discount_limits_set(*, actor, limits: dict) -> list[DiscountLimit]:
    """{role: largest discount %} — a role given None (or left out of the form) loses its limit."""
    _check(actor)
    errors = {}
    cleaned: dict[str, Decimal | None] = {}
    for role, value in limits.items():
        if role not in Role.values:
            errors[role] = [_("Unknown role.")]
            continue
        try:
            number = _decimal(value, role, places=2)
        except ValidationError as exc:
            errors.update(exc.message_dict)
            continue
        if number is not None and not Decimal("0") <= number <= Decimal("100"):
            errors[role] = [_("A discount lies between 0 and 100%.")]
            continue
        cleaned[role] = number
    if errors:
        raise ValidationError(errors)
    existing = {d.role: d for d in DiscountLimit.objects.select_for_update()}
    for role, number in cleaned.items():
        row = existing.get(role)
        before = str(row.max_discount) if row else None
        if number is None:
            if row is not None:
                audit_record(actor=actor, action=AuditAction.DELETE, instance=row)
                row.delete()
            continue
        if row is None:
            row = DiscountLimit.objects.create(role=role, max_discount=number)
            audit_record(actor=actor, action=AuditAction.CREATE, instance=row)
        elif row.max_discount != number:
            row.max_discount = number
            row.save(update_fields=["max_discount"])
            audit_record(
                actor=actor, action=AuditAction.UPDATE, instance=row, changes={"max_discount": [before, str(number)]}
            )
    return list(DiscountLimit.objects.all())


@transaction.atomic
def pricing_settings_update(*, actor, floor_approver_roles: list[str]) -> PricingSettings:
    _check(actor)
    roles = list(dict.fromkeys(floor_approver_roles or []))
    unknown = [r for r in roles if r not in Role.values]
    if unknown:
        raise ValidationError({"floor_approver_roles": [_("Unknown role.")]})
    if not roles:
        raise ValidationError(
            {"floor_approver_roles": [_("Name at least one role, or no price below a floor could ever be approved.")]}
        )
    settings = PricingSettings.load()
    before = list(settings.floor_approver_roles or [])
    settings.floor_approver_roles = roles
    settings.save()
    if before != roles:
        audit_record(
            actor=actor, action=AuditAction.UPDATE, instance=settings, changes={"floor_approver_roles": [before, roles]}
        )
    return settings
