"""Price resolution (kehu.catalog.pricing): one table of channel × tier × customer × quantity × dates."""

from datetime import date
from decimal import Decimal

import pytest

from kehu.catalog.models import DiscountLimit, PriceItem, PriceList, PriceListKind, Product, Specification
from kehu.catalog.pricing import discount_limit, prices_resolve
from kehu.customers.models import ChannelLevel, Tier
from kehu.users.roles import Role

D = Decimal
JAN, MAR, JUN, DEC = date(2026, 1, 1), date(2026, 3, 1), date(2026, 6, 30), date(2026, 12, 31)


@pytest.fixture
def book(db, team, customer_of):
    """A pump with two specifications and a price book around it.

    List price: A 1000 (whole year), B 1200; a newer list from July prices A at 1100.
    二批 (sub-dealer) list: 85% of list for the product, 800 fixed for A from 100 units.
    一批 (general dealer) list valid only in the first half: 700 for A.
    Key-tier list: 950 for A; 90% for the product from 10 units.
    One customer's own list: 640 for B from 50 units (and nothing for A).
    """
    pump = Product.objects.create(code="P-100", name="离心泵", unit="台", floor_price=D("600"))
    a = Specification.objects.create(product=pump, code="P-100-A", name="XJ-100 / 220V")
    b = Specification.objects.create(product=pump, code="P-100-B", name="XJ-100 / 380V")

    def price_list(name, kind, **fields):
        return PriceList.objects.create(name=name, kind=kind, valid_from=fields.pop("valid_from", JAN), **fields)

    def item(pl, spec=None, qty="1", price=None, percent=None, **dates):
        PriceItem.objects.create(
            price_list=pl,
            product=pump,
            specification=spec,
            min_quantity=D(qty),
            price=D(price) if price else None,
            percent_of_list=D(percent) if percent else None,
            **dates,
        )

    list_2026 = price_list("2026 价目表", PriceListKind.LIST)
    item(list_2026, a, price="1000")
    item(list_2026, b, price="1200")
    list_july = price_list("2026 下半年价目表", PriceListKind.LIST, valid_from=date(2026, 7, 1))
    item(list_july, a, price="1100")
    sub = price_list("二批价目表", PriceListKind.CHANNEL, channel_level=ChannelLevel.SUB_DEALER)
    item(sub, None, percent="85")
    item(sub, a, qty="100", price="800")
    general = price_list(
        "一批价目表", PriceListKind.CHANNEL, channel_level=ChannelLevel.GENERAL_DEALER, valid_until=JUN
    )
    item(general, a, price="700")
    key = price_list("重点客户价", PriceListKind.TIER, tier=Tier.KEY)
    item(key, a, price="950")
    item(key, None, qty="10", percent="90")
    own_customer = customer_of(team.rep1, name="杭州东方机电有限公司", channel_level=ChannelLevel.SUB_DEALER)
    own = price_list("东方机电协议价", PriceListKind.CUSTOMER, customer=own_customer)
    item(own, b, qty="50", price="640")
    # A list switched off and a future item never count.
    off = price_list("作废价目表", PriceListKind.LIST, is_active=False)
    item(off, a, price="1")
    item(key, a, price="2", valid_from=date(2027, 1, 1))
    customers = {
        "own": own_customer,
        "sub": customer_of(team.rep1, name="无锡二批商行", channel_level=ChannelLevel.SUB_DEALER),
        "general": customer_of(team.rep1, name="南京一批总经销", channel_level=ChannelLevel.GENERAL_DEALER),
        "key": customer_of(team.rep1, name="苏州重点客户", tier=Tier.KEY),
        "key_sub": customer_of(team.rep1, name="常州二批重点", tier=Tier.KEY, channel_level=ChannelLevel.SUB_DEALER),
        "plain": customer_of(team.rep1, name="普通终端客户", tier=Tier.ORDINARY),
    }
    return {"a": a, "b": b, "customers": customers}


# customer, spec, quantity, date -> price, list price, source
TABLE = [
    # The list price when nothing more specific applies; the newer list from its start date.
    ("plain", "a", "1", MAR, "1000", "1000", "2026 价目表"),
    ("plain", "a", "1", date(2026, 7, 1), "1100", "1100", "2026 下半年价目表"),
    ("plain", "b", "500", MAR, "1200", "1200", "2026 价目表"),
    # Channel: a product-wide percentage below the break, the specification's own break from 100.
    ("sub", "a", "99", MAR, "850.0000", "1000", "二批价目表 (85% of the list price)"),
    ("sub", "a", "100", MAR, "800", "1000", "二批价目表, from 100 台"),
    ("sub", "b", "100", MAR, "1020.0000", "1200", "二批价目表 (85% of the list price)"),
    # The percentage follows the list price in force on the date.
    ("sub", "a", "1", date(2026, 8, 1), "935.0000", "1100", "二批价目表 (85% of the list price)"),
    # A channel list valid only until June.
    ("general", "a", "5", JUN, "700", "1000", "一批价目表"),
    ("general", "a", "5", date(2026, 7, 1), "1100", "1100", "2026 下半年价目表"),
    # Tier: the specification's own item beats the product-wide break; B takes the break from 10.
    ("key", "a", "20", MAR, "950", "1000", "重点客户价"),
    ("key", "b", "9", MAR, "1200", "1200", "2026 价目表"),
    ("key", "b", "10", MAR, "1080.0000", "1200", "重点客户价, from 10 台 (90% of the list price)"),
    # Channel comes before tier.
    ("key_sub", "a", "20", MAR, "850.0000", "1000", "二批价目表 (85% of the list price)"),
    # The customer's own list comes first, from its break; below it the channel list.
    ("own", "b", "50", MAR, "640", "1200", "东方机电协议价, from 50 台"),
    ("own", "b", "49", MAR, "1020.0000", "1200", "二批价目表 (85% of the list price)"),
    ("own", "a", "100", MAR, "800", "1000", "二批价目表, from 100 台"),
    # Before any list starts there is no price.
    ("plain", "a", "1", date(2025, 12, 31), None, None, ""),
]


@pytest.mark.parametrize(("who", "spec", "quantity", "on", "price", "list_price", "source"), TABLE)
def test_price_resolution(book, who, spec, quantity, on, price, list_price, source):
    (resolved,) = prices_resolve(customer=book["customers"][who], lines=[(book[spec].pk, D(quantity))], on=on)
    assert resolved.price == (D(price) if price else None)
    assert resolved.list_price == (D(list_price) if list_price else None)
    assert resolved.source == source
    assert resolved.specification_id == book[spec].pk
    assert resolved.floor_price == D("600")
    assert resolved.tax_rate == D("13.00")


def test_a_whole_quote_is_resolved_in_three_queries(book, django_assert_num_queries):
    lines = [(book["a"].pk, D(n)) for n in range(1, 151)] + [(book["b"].pk, D(n)) for n in range(1, 151)]
    with django_assert_num_queries(3):
        resolved = prices_resolve(customer=book["customers"]["own"], lines=lines, on=MAR)
    assert len(resolved) == 300
    assert [r.price for r in resolved[98:101]] == [D("850.0000"), D("800"), D("800")]
    assert {r.price for r in resolved[150 + 49 :]} == {D("640")}


def test_an_unknown_specification_has_no_price(book):
    (resolved,) = prices_resolve(customer=book["customers"]["plain"], lines=[(987654, D("1"))], on=MAR)
    assert (resolved.price, resolved.product_id, resolved.source) == (None, None, "")


def test_discount_limit_by_role(team, db):
    DiscountLimit.objects.create(role=Role.SALES_REP, max_discount=D("5"))
    DiscountLimit.objects.create(role=Role.SALES_MANAGER, max_discount=D("15"))
    assert discount_limit(team.rep1) == D("5")
    assert discount_limit(team.manager1) == D("15")
    assert discount_limit(team.admin) == D("0")
