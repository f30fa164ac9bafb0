"""The demo company's catalog and price book (SAL-4): about thirty products of a machinery
distributor in five categories, two or three specifications each; the list price, channel lists
for 总经销 and 二批 (a percentage of the list price with a quantity break), a list for key
customers, one customer's own prices, discount limits per role, floor prices, and channel levels
on some customers. Written through the catalog's services, as an administrator would."""

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from kehu.catalog import services
from kehu.catalog.models import PriceListKind, Product
from kehu.customers.models import ChannelLevel, Customer, Tier
from kehu.users.models import User
from kehu.users.roles import Role

D = Decimal
# category path, code, name, unit, tax %, floor as a share of the first list price (or None),
# [(specification code suffix, specification, list price)]
PRODUCTS = [
    (
        "泵/离心泵",
        "IS",
        "IS 单级单吸离心泵",
        "台",
        "13",
        0.7,
        [
            ("50", "IS50-32-160 / 2.2kW", 2680),
            ("80", "IS80-65-160 / 7.5kW", 4980),
            ("100", "IS100-80-160 / 15kW", 7850),
        ],
    ),
    (
        "泵/离心泵",
        "ISW",
        "ISW 卧式管道离心泵",
        "台",
        "13",
        None,
        [("40", "ISW40-160 / 3kW", 2350), ("65", "ISW65-160 / 5.5kW", 3620)],
    ),
    (
        "泵",
        "CDL",
        "CDL 立式多级泵",
        "台",
        "13",
        0.72,
        [("4", "CDL4-10 / 1.1kW", 3980), ("8", "CDL8-12 / 3kW", 6250), ("16", "CDL16-8 / 5.5kW", 9380)],
    ),
    ("泵", "QW", "QW 潜水排污泵", "台", "13", None, [("50", "50QW15-20-2.2", 1980), ("80", "80QW40-15-4", 3260)]),
    ("泵", "JM", "J 系列柱塞计量泵", "台", "13", 0.75, [("40", "J-X40/1.6", 5600), ("125", "J-X125/1.0", 7800)]),
    (
        "泵",
        "ZX",
        "ZX 自吸离心泵",
        "台",
        "13",
        None,
        [("50", "50ZX15-30 / 4kW", 2860), ("65", "65ZX25-32 / 5.5kW", 3450)],
    ),
    (
        "空压机",
        "LG",
        "螺杆空压机",
        "台",
        "13",
        0.8,
        [("15", "LG-15A / 15kW", 28600), ("22", "LG-22A / 22kW", 36800), ("37", "LG-37A / 37kW", 52800)],
    ),
    (
        "空压机",
        "PM",
        "永磁变频螺杆空压机",
        "台",
        "13",
        0.8,
        [("22", "PM-22V / 22kW", 46800), ("37", "PM-37V / 37kW", 68800)],
    ),
    ("空压机", "HS", "活塞式空压机", "台", "13", None, [("2", "W-1.0/8 / 7.5kW", 6800), ("3", "V-1.6/8 / 11kW", 9200)]),
    (
        "空压机",
        "LD",
        "冷冻式干燥机",
        "台",
        "13",
        None,
        [("3", "LD-3.8 / 3.8m³/min", 6200), ("6", "LD-6.5 / 6.5m³/min", 8600)],
    ),
    ("空压机", "CQ", "储气罐", "台", "13", None, [("1", "1.0m³ / 0.8MPa", 3200), ("2", "2.0m³ / 0.8MPa", 5100)]),
    ("空压机", "GL", "精密过滤器", "件", "13", None, [("24", "GL-024 / C级", 880), ("36", "GL-036 / T级", 1180)]),
    (
        "阀门",
        "Z41",
        "Z41H 闸阀",
        "件",
        "13",
        None,
        [("50", "DN50 PN16", 620), ("100", "DN100 PN16", 1380), ("150", "DN150 PN16", 2460)],
    ),
    ("阀门", "Q41", "Q41F 球阀", "件", "13", None, [("25", "DN25 PN25", 268), ("50", "DN50 PN25", 560)]),
    (
        "阀门",
        "D71",
        "D71X 对夹蝶阀",
        "件",
        "13",
        0.7,
        [("80", "DN80 PN10", 420), ("150", "DN150 PN10", 780), ("200", "DN200 PN10", 1150)],
    ),
    ("阀门", "H44", "H44H 旋启式止回阀", "件", "13", None, [("50", "DN50 PN16", 680), ("100", "DN100 PN16", 1520)]),
    ("阀门", "ZCS", "电磁阀", "件", "13", None, [("15", "ZCS-15 DC24V", 230), ("25", "ZCS-25 AC220V", 360)]),
    ("阀门", "A42", "A42Y 弹簧式安全阀", "件", "13", None, [("25", "DN25 PN16", 520), ("50", "DN50 PN16", 980)]),
    (
        "电机与传动",
        "YE3",
        "YE3 高效三相异步电机",
        "台",
        "13",
        0.75,
        [("4", "YE3-112M-4 / 4kW", 1980), ("11", "YE3-160M-4 / 11kW", 4380), ("22", "YE3-180L-4 / 22kW", 7980)],
    ),
    (
        "电机与传动",
        "VF",
        "通用变频器",
        "台",
        "13",
        0.78,
        [("7", "VF-7.5G / 7.5kW", 2680), ("22", "VF-22G / 22kW", 5980)],
    ),
    (
        "电机与传动",
        "RV",
        "RV 蜗轮蜗杆减速机",
        "台",
        "13",
        None,
        [("50", "RV50 速比 1:30", 680), ("75", "RV75 速比 1:40", 1260)],
    ),
    ("电机与传动", "LX", "弹性柱销联轴器", "套", "13", None, [("3", "LX3 Φ48", 380), ("5", "LX5 Φ71", 860)]),
    ("电机与传动", "HTD", "HTD 同步带", "m", "13", None, [("8", "8M-30 宽 30mm", 96), ("14", "14M-40 宽 40mm", 188)]),
    ("电机与传动", "SKF", "深沟球轴承", "件", "13", None, [("6205", "6205-2RS", 36), ("6308", "6308-2Z", 118)]),
    ("备件与服务", "JX", "机械密封", "套", "13", None, [("35", "104-35", 280), ("55", "104-55", 460)]),
    (
        "备件与服务",
        "RH",
        "螺杆空压机专用润滑油",
        "kg",
        "13",
        None,
        [("18", "18kg 桶装", 42), ("200", "200kg 桶装", 36)],
    ),
    ("备件与服务", "YY", "液压软管总成", "m", "13", None, [("13", "DN13 两层钢丝", 58), ("19", "DN19 两层钢丝", 86)]),
    (
        "备件与服务",
        "LX-F",
        "空压机三滤保养包",
        "套",
        "13",
        None,
        [("22", "适用 22kW 机型", 1380), ("37", "适用 37kW 机型", 1980)],
    ),
    ("备件与服务", "AZ", "安装调试服务", "套", "6", None, [("S", "单台泵组", 1200), ("M", "空压站整站", 6800)]),
    ("备件与服务", "YS", "设备运输服务", "套", "9", None, [("L", "省内整车", 1500), ("X", "省外整车", 3800)]),
]
DISCOUNT_LIMITS = {
    Role.SALES_REP: D("5"),
    Role.ACCOUNT_MANAGER: D("10"),
    Role.SALES_MANAGER: D("15"),
    Role.GENERAL_MANAGER: D("30"),
}


@transaction.atomic
def load(users: dict[str, User]) -> dict:
    admin = users["admin"]
    year_start = date(timezone.localdate().year, 1, 1)
    categories: dict = {}
    book = services.price_list_create(
        actor=admin,
        name=f"{year_start.year} 目录价",
        kind=PriceListKind.LIST,
        valid_from=year_start,
        notes="含税价，人民币。",
    )
    specs = {}
    products: list[Product] = []
    for path, code, name, unit, tax, floor, variants in PRODUCTS:
        category = services.category_for_path(path, actor=admin, cache=categories)
        first_price = variants[0][2]
        product = services.product_create(
            actor=admin,
            code=code,
            name=name,
            category=category,
            unit=unit,
            tax_rate=D(tax),
            cost=(D(first_price) * D("0.62")).quantize(D("0.01")),
            floor_price=(D(first_price) * D(str(floor))).quantize(D("1")) if floor else None,
            specifications=[{"code": f"{code}-{suffix}", "name": spec} for suffix, spec, _price in variants],
        )
        products.append(product)
        for spec in product.specifications.all():
            specs[spec.code] = spec
        for suffix, _spec, price in variants:
            spec = specs[f"{code}-{suffix}"]
            services.price_item_create(
                price_list=book, actor=admin, product=product, specification=spec, price=D(price)
            )

    general = services.price_list_create(
        actor=admin,
        name="总经销价目表",
        kind=PriceListKind.CHANNEL,
        channel_level=ChannelLevel.GENERAL_DEALER,
        valid_from=year_start,
    )
    sub = services.price_list_create(
        actor=admin,
        name="二批价目表",
        kind=PriceListKind.CHANNEL,
        channel_level=ChannelLevel.SUB_DEALER,
        valid_from=year_start,
    )
    key = services.price_list_create(
        actor=admin, name="重点客户价", kind=PriceListKind.TIER, tier=Tier.KEY, valid_from=year_start
    )
    services_codes = {"AZ", "YS"}
    for product in products:
        if product.code in services_codes:
            continue
        services.price_item_create(price_list=general, actor=admin, product=product, percent_of_list=D("80"))
        services.price_item_create(
            price_list=general, actor=admin, product=product, min_quantity=D("10"), percent_of_list=D("76")
        )
        services.price_item_create(price_list=sub, actor=admin, product=product, percent_of_list=D("88"))
        services.price_item_create(
            price_list=sub, actor=admin, product=product, min_quantity=D("20"), percent_of_list=D("85")
        )
        services.price_item_create(price_list=key, actor=admin, product=product, percent_of_list=D("93"))

    levels = _channel_levels(users)
    own = _own_list(admin, users, specs, year_start)
    services.discount_limits_set(actor=admin, limits=dict(DISCOUNT_LIMITS))
    services.pricing_settings_update(actor=admin, floor_approver_roles=[Role.GENERAL_MANAGER])
    return {"products": len(products), "specifications": len(specs), "channel_levels": levels, "own_list": own}


def _channel_levels(users: dict[str, User]) -> int:
    """Dealers among the older companies: a few 总经销, more 二批, some retailers and end customers."""
    companies = list(
        Customer.objects.filter(deleted_at__isnull=True, kind="company", owner__isnull=False)
        .order_by("pk")
        .values_list("pk", flat=True)[:60]
    )
    plan = [ChannelLevel.GENERAL_DEALER] * 4 + [ChannelLevel.SUB_DEALER] * 16 + [ChannelLevel.RETAILER] * 10
    plan += [ChannelLevel.END_CUSTOMER] * 30
    by_level: dict[str, list[int]] = {}
    for pk, level in zip(companies, plan, strict=False):
        by_level.setdefault(level, []).append(pk)
    for level, ids in by_level.items():
        Customer.objects.filter(pk__in=ids).update(channel_level=level)
    return len(companies)


def _own_list(admin: User, users: dict[str, User], specs: dict, year_start: date) -> int | None:
    """One key customer of rep1 with its own prices for the screw compressors it buys every year."""
    customer = (
        Customer.objects.filter(deleted_at__isnull=True, owner=users.get("rep1"), tier=Tier.KEY).order_by("pk").first()
        or Customer.objects.filter(deleted_at__isnull=True, owner=users.get("rep1")).order_by("pk").first()
    )
    if customer is None:
        return None
    own = services.price_list_create(
        actor=admin,
        name=f"{customer.name} 协议价",
        kind=PriceListKind.CUSTOMER,
        customer=customer,
        valid_from=year_start,
        notes="年度框架协议价。",
    )
    for code, price in (("LG-22", "33800"), ("LG-37", "48600"), ("LX-F-22", "1180"), ("RH-200", "32")):
        spec = specs[code]
        services.price_item_create(
            price_list=own, actor=admin, product=spec.product, specification=spec, price=D(price)
        )
    return customer.pk
