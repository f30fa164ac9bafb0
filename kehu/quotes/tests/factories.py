"""A small price book and quotes for the quotes' tests (rows written as the catalog would keep them)."""

from datetime import date
from decimal import Decimal

from kehu.catalog.models import (
    DiscountLimit,
    PriceItem,
    PriceList,
    PriceListKind,
    PricingSettings,
    Product,
    Specification,
)
from kehu.users.roles import Role

LIMITS = {
    Role.SALES_REP: Decimal("5"),
    Role.ACCOUNT_MANAGER: Decimal("10"),
    Role.SALES_MANAGER: Decimal("15"),
    Role.GENERAL_MANAGER: Decimal("30"),
}


class Book:
    """Two products with list prices: 数控车床 CK6140 (100.00, 13 %, floor 80) in two specifications,
    and 液压油 (250.00, 9 %, no floor); a product without any price; the discount limits of the issue
    (rep 5 %, account manager 10 %, sales manager 15 %, general manager 30 %); floor approvers: GM."""

    def __init__(self):
        for role, limit in LIMITS.items():
            DiscountLimit.objects.update_or_create(role=role, defaults={"max_discount": limit})
        settings = PricingSettings.load()
        settings.floor_approver_roles = [Role.GENERAL_MANAGER]
        settings.save()
        existing = Product.objects.filter(code="CK6140").first()
        if existing is not None:  # made already in this test: the same book
            self._read()
            return
        self.lathe = Product.objects.create(
            code="CK6140", name="数控车床", unit="台", tax_rate=Decimal("13"), floor_price=Decimal("80")
        )
        self.lathe_a = Specification.objects.create(product=self.lathe, code="CK6140-A", name="1000mm", position=0)
        self.lathe_b = Specification.objects.create(product=self.lathe, code="CK6140-B", name="1500mm", position=1)
        self.oil = Product.objects.create(code="YY-46", name="液压油", unit="桶", tax_rate=Decimal("9"))
        self.oil_46 = Specification.objects.create(product=self.oil, code="YY-46-200L", name="200L")
        self.unpriced = Product.objects.create(code="NP-1", name="无价产品", unit="件", tax_rate=Decimal("13"))
        self.unpriced_1 = Specification.objects.create(product=self.unpriced, code="NP-1-X", name="X")
        self.list = PriceList.objects.create(name="目录价", kind=PriceListKind.LIST, valid_from=date(2020, 1, 1))
        PriceItem.objects.create(price_list=self.list, product=self.lathe, price=Decimal("100"))
        PriceItem.objects.create(price_list=self.list, product=self.oil, price=Decimal("250"))

    def _read(self):
        spec = {
            s.code: s for s in Specification.objects.filter(code__in=["CK6140-A", "CK6140-B", "YY-46-200L", "NP-1-X"])
        }
        self.lathe_a, self.lathe_b, self.oil_46, self.unpriced_1 = (
            spec["CK6140-A"], spec["CK6140-B"], spec["YY-46-200L"], spec["NP-1-X"],
        )  # fmt: skip
        self.lathe, self.oil, self.unpriced = self.lathe_a.product, self.oil_46.product, self.unpriced_1.product
        self.list = PriceList.objects.get(name="目录价", kind=PriceListKind.LIST)


def make_quote(customer, actor, lines=(), **header):
    from kehu.quotes import services

    quote = services.quote_create(customer=customer, actor=actor, **header)
    if lines:
        services.quote_lines_add(quote=quote, actor=actor, lines=list(lines))
        quote.refresh_from_db()
    return quote
