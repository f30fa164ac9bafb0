"""Every read of the catalog and the price book (SAL-4).

The catalog is the company's, not a rep's: everyone with `catalog.view_product` sees every product
that is not in the recycle bin. Lists run a fixed number of queries whatever the page size.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from kehu.catalog.models import (
    Category,
    DiscountLimit,
    PriceItem,
    PriceList,
    PriceListKind,
    Product,
    Specification,
)
from kehu.core.pagination import PageOf, page_of

VIEW = "catalog.view_product"
SEARCH_CANDIDATES = 200


def may_view(user) -> bool:
    return getattr(user, "is_authenticated", False) and user.has_perm(VIEW)


def may_manage(user) -> bool:
    return getattr(user, "is_authenticated", False) and user.has_perm("catalog.manage_catalog")


def product_qs_visible_to(user) -> QuerySet[Product]:
    if not may_view(user):
        return Product.objects.none()
    return Product.objects.filter(deleted_at__isnull=True)


def price_list_qs_visible_to(user) -> QuerySet[PriceList]:
    if not may_view(user):
        return PriceList.objects.none()
    return PriceList.objects.all()


# ---- categories ------------------------------------------------------------------------------


def categories_all() -> list[Category]:
    """The whole tree in path order, each with `depth` and `label` ("泵 / 离心泵")."""
    rows = list(
        Category.objects.order_by("path").annotate(
            product_count=Count("products", filter=Q(products__deleted_at__isnull=True))
        )
    )
    by_pk = {c.pk: c for c in rows}
    for c in rows:
        c.depth = c.path.count("/") - 1
        names = [by_pk[int(seg)].name for seg in c.path.strip("/").split("/") if seg and int(seg) in by_pk]
        c.label = " / ".join(names)
        c.path_label = "/".join(names)
    # Siblings by position, then name, keeping children under their parent.
    return sorted(rows, key=lambda c: _sort_key(c, by_pk))


def _sort_key(category: Category, by_pk: dict) -> tuple:
    key = []
    for seg in category.path.strip("/").split("/"):
        node = by_pk.get(int(seg)) if seg else None
        key.append((node.position, node.name, node.pk) if node else (0, "", 0))
    return tuple(key)


def category_path_labels() -> dict[int, str]:
    return {c.pk: c.path_label for c in categories_all()}


# ---- products --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProductFilters:
    q: str = ""
    category_id: int | None = None
    status: str = ""
    deleted: bool = False


def _filtered(user, filters: ProductFilters) -> QuerySet[Product]:
    if filters.deleted:
        qs = (
            Product.objects.filter(deleted_at__isnull=False)
            if may_view(user) and may_manage(user)
            else Product.objects.none()
        )
    else:
        qs = product_qs_visible_to(user)
    if filters.q:
        q = filters.q.strip().lower()
        qs = qs.filter(search_text__contains=q)
    if filters.category_id:
        category = Category.objects.filter(pk=filters.category_id).only("path").first()
        qs = qs.filter(category__path__startswith=category.path) if category else qs.none()
    if filters.status:
        qs = qs.filter(status=filters.status)
    return qs


def product_list(user, filters: ProductFilters, *, offset: int = 0, limit: int = 25) -> PageOf:
    """One page of products, newest changes first, with their category and specifications
    (`spec_list`) and each specification's list price today (`spec.list_price`)."""
    qs = (
        _filtered(user, filters)
        .select_related("category")
        .prefetch_related(Prefetch("specifications", queryset=Specification.objects.order_by("position", "id")))
        .order_by("code")
    )
    page = page_of(qs, offset=offset, limit=limit)
    specs = [s for p in page.rows for s in p.specifications.all()]
    prices = list_prices([s.pk for s in specs])
    for product in page.rows:
        product.spec_list = list(product.specifications.all())
        for spec in product.spec_list:
            spec.list_price = prices.get(spec.pk)
        known = [s.list_price for s in product.spec_list if s.list_price is not None]
        product.price_low = min(known) if known else None
        product.price_high = max(known) if known else None
    return page


def product_get(user, pk, *, deleted: bool = False) -> Product:
    """A product with `spec_list` (each with `list_price` today), else 404."""
    qs = product_qs_visible_to(user) if not deleted else Product.objects.filter(pk__isnull=False)
    if deleted and not (may_view(user) and may_manage(user)):
        raise Http404
    try:
        product = qs.select_related("category", "created_by").get(pk=int(pk))
    except (Product.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None
    product.spec_list = list(Specification.objects.filter(product=product).order_by("position", "id"))
    prices = list_prices([s.pk for s in product.spec_list])
    for spec in product.spec_list:
        spec.list_price = prices.get(spec.pk)
    return product


def specification_get(user, pk) -> Specification:
    try:
        return (
            Specification.objects.select_related("product")
            .filter(product__in=product_qs_visible_to(user))
            .get(pk=int(pk))
        )
    except (Specification.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


def _valid_on(on: date, prefix: str = "") -> Q:
    return Q(**{f"{prefix}valid_from__lte": on}) & (
        Q(**{f"{prefix}valid_until__isnull": True}) | Q(**{f"{prefix}valid_until__gte": on})
    )


def _item_valid_on(on: date) -> Q:
    return (Q(valid_from__isnull=True) | Q(valid_from__lte=on)) & (Q(valid_until__isnull=True) | Q(valid_until__gte=on))


def list_prices(spec_ids: list[int], on: date | None = None) -> dict[int, Decimal]:
    """{specification id: the list price of one unit valid on the date}, in two queries, chosen as
    `kehu.catalog.pricing` chooses it: the list starting last is asked first; in a list, the
    specification's own price beats the product-wide one."""
    if not spec_ids:
        return {}
    on = on or timezone.localdate()
    product_of = dict(Specification.objects.filter(pk__in=spec_ids).values_list("pk", "product_id"))
    items = (
        PriceItem.objects.filter(
            _item_valid_on(on),
            product_id__in=set(product_of.values()),
            price_list__kind=PriceListKind.LIST,
            price_list__is_active=True,
            price__isnull=False,
            min_quantity__lte=1,
        )
        .filter(_valid_on(on, "price_list__"))
        .values_list("price_list_id", "price_list__valid_from", "product_id", "specification_id", "price")
    )
    by_list: dict[tuple, dict] = {}
    for list_id, list_from, product_id, spec_id, price in items:
        by_list.setdefault((list_from, list_id), {})[(product_id, spec_id)] = price
    ordered = [by_list[k] for k in sorted(by_list, reverse=True)]
    found = {}
    for spec_id, product_id in product_of.items():
        for prices in ordered:
            price = prices.get((product_id, spec_id), prices.get((product_id, None)))
            if price is not None:
                found[spec_id] = price
                break
    return found


def price_lists_pricing(product: Product, on: date | None = None) -> list[dict]:
    """The price lists that price this product (any of its specifications), with their items."""
    on = on or timezone.localdate()
    items = (
        PriceItem.objects.filter(product=product)
        .select_related("price_list", "price_list__customer", "specification")
        .order_by("price_list__kind", "price_list__name", "specification__code", "min_quantity")
    )
    lists: dict[int, dict] = {}
    for item in items:
        pl = item.price_list
        entry = lists.setdefault(pl.pk, {"price_list": pl, "items": [], "in_force": _in_force(pl, on)})
        entry["items"].append(item)
    order = {k: i for i, k in enumerate(PriceListKind.values)}
    return sorted(lists.values(), key=lambda e: (order[e["price_list"].kind], e["price_list"].name))


def _in_force(price_list: PriceList, on: date) -> bool:
    return (
        price_list.is_active
        and price_list.valid_from <= on
        and (price_list.valid_until is None or price_list.valid_until >= on)
    )


# ---- specification search (the quote line editor) --------------------------------------------


def _prefix_q(q: str) -> Q:
    """Code starts with `q` (as typed or upper-cased), as a range the unique index answers."""
    found = Q()
    for variant in dict.fromkeys([q, q.upper()]):
        found |= Q(code__gte=variant, code__lt=variant + "\U0010ffff")
    return found


def specification_search(q: str, limit: int = 20) -> list[dict]:
    """Up to `limit` active specifications of products on sale or not yet on sale: code prefix
    matches first (by code), then substring matches of code, name or specification. Each:
    {id, code, name, specification, unit, list_price, product_id}."""
    q = (q or "").strip()
    if not q:
        return []
    live = Q(is_active=True, product__deleted_at__isnull=True) & ~Q(product__status="discontinued")
    spec_fields = ("pk", "code", "name", "product_id", "product__name", "product__unit", "product__code")
    first = list(Specification.objects.filter(live, _prefix_q(q)).order_by("code").values_list(*spec_fields)[:limit])
    rows = list(first)
    if len(rows) < limit:
        needle = q.lower()
        candidates = list(
            Product.objects.filter(deleted_at__isnull=True, search_text__contains=needle)
            .exclude(status="discontinued")
            .order_by("code")
            .values_list("pk", "code", "name")[:SEARCH_CANDIDATES]
        )
        whole = {pk for pk, code, name in candidates if needle in code.lower() or needle in name.lower()}
        seen = {r[0] for r in rows}
        more = (
            Specification.objects.filter(live, product_id__in=[c[0] for c in candidates])
            .order_by("product__code", "position", "id")
            .values_list(*spec_fields)
        )
        for row in more:
            if row[0] in seen:
                continue
            if row[3] in whole or needle in row[1].lower() or needle in row[2].lower():
                rows.append(row)
                seen.add(row[0])
                if len(rows) >= limit:
                    break
    prices = list_prices([r[0] for r in rows])
    return [
        {
            "id": pk,
            "code": code,
            "name": product_name,
            "specification": name,
            "unit": unit,
            "list_price": prices.get(pk),
            "product_id": product_id,
            "product_code": product_code,
        }
        for pk, code, name, product_id, product_name, unit, product_code in rows[:limit]
    ]


def specifications_by_code(codes) -> dict[str, Specification]:
    """{code as given: specification (with its product)} for the codes that name one; a code is
    matched as written, then upper-cased. Products in the recycle bin do not count."""
    wanted = [c.strip() for c in codes if c and c.strip()]
    if not wanted:
        return {}
    variants = set(wanted) | {c.upper() for c in wanted}
    found = {
        s.code: s
        for s in Specification.objects.filter(code__in=variants, product__deleted_at__isnull=True).select_related(
            "product"
        )
    }
    result = {}
    for code in wanted:
        spec = found.get(code) or found.get(code.upper())
        if spec is not None:
            result[code] = spec
    return result


# ---- price lists -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PriceListFilters:
    kind: str = ""
    q: str = ""
    current: bool = False


def price_list_list(user, filters: PriceListFilters | None = None, *, offset: int = 0, limit: int = 50) -> PageOf:
    filters = filters or PriceListFilters()
    qs = price_list_qs_visible_to(user).select_related("customer").annotate(item_count=Count("items"))
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.q:
        qs = qs.filter(Q(name__icontains=filters.q) | Q(customer__name__icontains=filters.q))
    if filters.current:
        qs = qs.filter(_valid_on(timezone.localdate()), is_active=True)
    order = {k: i for i, k in enumerate(PriceListKind.values)}
    page = page_of(qs.order_by("kind", "name", "-valid_from", "id"), offset=offset, limit=limit)
    page.rows.sort(key=lambda pl: (order.get(pl.kind, 9), pl.name, pl.valid_from))
    today = timezone.localdate()
    for pl in page.rows:
        pl.in_force = _in_force(pl, today)
    return page


def price_list_get(user, pk) -> PriceList:
    try:
        price_list = price_list_qs_visible_to(user).select_related("customer").get(pk=int(pk))
    except (PriceList.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None
    price_list.in_force = _in_force(price_list, timezone.localdate())
    return price_list


def price_items(price_list: PriceList, *, q: str = "", offset: int = 0, limit: int = 50) -> PageOf:
    """The list's items, by product code, specification and quantity, each with `list_price`
    (today's list price of its specification, for the percent items)."""
    qs = PriceItem.objects.filter(price_list=price_list).select_related("product", "specification")
    if q:
        qs = qs.filter(Q(product__search_text__contains=q.lower()) | Q(specification__code__icontains=q))
    qs = qs.order_by("product__code", "specification__code", "min_quantity", "id")
    page = page_of(qs, offset=offset, limit=limit)
    spec_ids = [i.specification_id for i in page.rows if i.specification_id]
    prices = list_prices(spec_ids)
    for item in page.rows:
        item.list_price = prices.get(item.specification_id) if item.specification_id else None
        if item.percent_of_list is not None and item.list_price is not None:
            item.effective = (item.list_price * item.percent_of_list / 100).quantize(Decimal("0.01"))
        else:
            item.effective = item.price
    return page


def price_item_get(user, pk) -> PriceItem:
    try:
        return (
            PriceItem.objects.select_related("price_list", "product", "specification")
            .filter(price_list__in=price_list_qs_visible_to(user))
            .get(pk=int(pk))
        )
    except (PriceItem.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


def discount_limits() -> dict[str, Decimal]:
    return dict(DiscountLimit.objects.values_list("role", "max_discount"))
