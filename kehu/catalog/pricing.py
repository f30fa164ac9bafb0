"""Which price a customer gets: the one resolution every quote (and later every order) uses.

The order, most specific first:

1. a price list of this very customer;
2. a price list of the customer's channel level (总经销/一批, 二批, retailer, end customer);
3. a price list of the customer's tier;
4. the list price.

Only active lists valid on the date count, and inside them only items valid on the date. Within a
level, the list that starts latest is asked first; the first one with a price for the line wins.
Within a list, an item for the specification beats one for the whole product, and among those the
largest quantity break not above the line's quantity wins (a break of 1 or less is the base price
and applies to any quantity). An item is a fixed price or a percentage of the list price; a
percentage with no list price gives nothing and the search goes on. All prices include tax.

`prices_resolve` answers a whole quote in three queries whatever its number of lines.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.catalog.models import DiscountLimit, PriceItem, PriceList, PriceListKind, Specification
from kehu.core.money import HUNDRED, round_price

PRECEDENCE = (PriceListKind.CUSTOMER, PriceListKind.CHANNEL, PriceListKind.TIER)
ONE = Decimal("1")


@dataclass(frozen=True)
class ResolvedPrice:
    specification_id: int
    product_id: int | None
    quantity: Decimal
    list_price: Decimal | None
    price: Decimal | None  # None: no price for this customer on that date
    source: str  # for people: "二批 price list, from 100 台 (85% of the list price)"
    price_list_id: int | None
    kind: str  # a PriceListKind value, "" when there is no price
    min_quantity: Decimal | None
    floor_price: Decimal | None
    tax_rate: Decimal | None


@dataclass(frozen=True)
class _Item:
    price_list_id: int
    specification_id: int | None
    min_quantity: Decimal
    price: Decimal | None
    percent: Decimal | None


def _applies(item: _Item, quantity: Decimal) -> bool:
    return item.min_quantity <= ONE or item.min_quantity <= quantity


def _best(items: list[_Item], specification_id: int, quantity: Decimal, list_price: Decimal | None):
    """The item of one list that prices this line, and its price; (None, None) when none does."""
    for own in (True, False):
        candidates = [
            i for i in items if (i.specification_id == specification_id if own else i.specification_id is None)
        ]
        for item in sorted(candidates, key=lambda i: i.min_quantity, reverse=True):
            if not _applies(item, quantity):
                continue
            if item.price is not None:
                return item, item.price
            if list_price is not None:
                return item, round_price(list_price * item.percent / HUNDRED)
        # An own item that cannot price (a percentage without a list price) lets the product-wide one try.
    return None, None


def _source(price_list: PriceList, item: _Item, unit: str) -> str:
    text = price_list.name
    if item.min_quantity > ONE:
        quantity = f"{item.min_quantity.normalize():f}"
        text = _("%(list)s, from %(quantity)s %(unit)s") % {"list": text, "quantity": quantity, "unit": unit}
    if item.percent is not None:
        text = _("%(source)s (%(percent)s%% of the list price)") % {
            "source": text,
            "percent": f"{item.percent.normalize():f}",
        }
    return text


def applicable_lists(customer, on: date) -> list[PriceList]:
    """The active lists valid on `on` that may price this customer, in the order they are asked."""
    which = Q(kind=PriceListKind.LIST) | Q(kind=PriceListKind.CUSTOMER, customer_id=customer.pk)
    if customer.channel_level:
        which |= Q(kind=PriceListKind.CHANNEL, channel_level=customer.channel_level)
    if customer.tier:
        which |= Q(kind=PriceListKind.TIER, tier=customer.tier)
    lists = PriceList.objects.filter(which, is_active=True, valid_from__lte=on).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=on)
    )
    order = {kind: n for n, kind in enumerate((*PRECEDENCE, PriceListKind.LIST))}
    return sorted(lists, key=lambda pl: (order[pl.kind], -pl.valid_from.toordinal(), -pl.pk))


def prices_resolve(*, customer, lines: Iterable[tuple[int, Decimal]], on: date | None = None) -> list[ResolvedPrice]:
    """The price of each (specification id, quantity) for `customer` on `on` (today by default)."""
    on = on or timezone.localdate()
    lines = [(int(spec_id), Decimal(quantity)) for spec_id, quantity in lines]
    specs = {
        row["id"]: row
        for row in Specification.objects.filter(id__in={s for s, _q in lines}).values(
            "id", "product_id", "product__unit", "product__tax_rate", "product__floor_price"
        )
    }
    lists = applicable_lists(customer, on)
    items: dict[tuple[int, int], list[_Item]] = defaultdict(list)  # (list, product) -> items
    if lists and specs:
        rows = (
            PriceItem.objects.filter(
                price_list_id__in=[pl.pk for pl in lists], product_id__in={s["product_id"] for s in specs.values()}
            )
            .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=on))
            .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=on))
            .values_list("price_list_id", "product_id", "specification_id", "min_quantity", "price", "percent_of_list")
        )
        for list_id, product_id, spec_id, min_quantity, price, percent in rows:
            items[(list_id, product_id)].append(_Item(list_id, spec_id, min_quantity, price, percent))
    list_lists = [pl for pl in lists if pl.kind == PriceListKind.LIST]
    others = [pl for pl in lists if pl.kind != PriceListKind.LIST]

    result = []
    for spec_id, quantity in lines:
        spec = specs.get(spec_id)
        if spec is None:
            result.append(ResolvedPrice(spec_id, None, quantity, None, None, "", None, "", None, None, None))
            continue
        product_id, unit = spec["product_id"], spec["product__unit"]
        list_price, found = None, None
        for pl in list_lists:
            item, price = _best(items[(pl.pk, product_id)], spec_id, quantity, None)
            if item is not None:
                list_price, found = price, (pl, item, price)
                break
        for pl in others:
            item, price = _best(items[(pl.pk, product_id)], spec_id, quantity, list_price)
            if item is not None:
                found = (pl, item, price)
                break
        if found is None:
            result.append(
                ResolvedPrice(
                    spec_id,
                    product_id,
                    quantity,
                    None,
                    None,
                    "",
                    None,
                    "",
                    None,
                    spec["product__floor_price"],
                    spec["product__tax_rate"],
                )
            )
            continue
        pl, item, price = found
        result.append(
            ResolvedPrice(
                specification_id=spec_id,
                product_id=product_id,
                quantity=quantity,
                list_price=list_price,
                price=price,
                source=_source(pl, item, unit),
                price_list_id=pl.pk,
                kind=pl.kind,
                min_quantity=item.min_quantity,
                floor_price=spec["product__floor_price"],
                tax_rate=spec["product__tax_rate"],
            )
        )
    return result


def discount_limit(user) -> Decimal:
    """The largest discount (%) the user's role may give without approval; 0 when none is set."""
    limit = DiscountLimit.objects.filter(role=getattr(user, "role", "")).values_list("max_discount", flat=True).first()
    return limit if limit is not None else Decimal("0")
