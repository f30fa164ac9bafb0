from datetime import date
from decimal import Decimal

import pytest

from kehu.catalog import services
from kehu.catalog.models import PriceListKind
from kehu.customers.models import ChannelLevel


class Book:
    """Two categories, three products (one with three specifications), the list price, a 二批 list
    (88% of list, 85% from 20 units) and one customer's own price."""

    def __init__(self, team, customer_of):
        admin = team.admin
        self.pumps = services.category_create(name="泵", actor=admin)
        self.centrifugal = services.category_create(name="离心泵", parent=self.pumps, actor=admin)
        self.valves = services.category_create(name="阀门", actor=admin)
        self.pump = services.product_create(
            actor=admin,
            code="IS",
            name="单级离心泵",
            category=self.centrifugal,
            floor_price=Decimal("2000"),
            specifications=[
                {"code": "IS-50", "name": "IS50-32-160"},
                {"code": "IS-80", "name": "IS80-65-160"},
                {"code": "IS-100", "name": "IS100-80-160"},
            ],
        )
        self.valve = services.product_create(actor=admin, code="D71", name="对夹蝶阀", unit="件", category=self.valves)
        self.motor = services.product_create(actor=admin, code="YE3", name="高效电机", tax_rate=Decimal("13"))
        self.is50 = self.pump.specifications.get(code="IS-50")
        self.list = services.price_list_create(
            actor=admin, name="2026 目录价", kind=PriceListKind.LIST, valid_from=date(2020, 1, 1)
        )
        for spec, price in ((self.is50, "2680"), (self.pump.specifications.get(code="IS-80"), "4980")):
            services.price_item_create(
                price_list=self.list, actor=admin, product=self.pump, specification=spec, price=Decimal(price)
            )
        services.price_item_create(price_list=self.list, actor=admin, product=self.valve, price=Decimal("420"))
        self.sub = services.price_list_create(
            actor=admin,
            name="二批价目表",
            kind=PriceListKind.CHANNEL,
            channel_level=ChannelLevel.SUB_DEALER,
            valid_from=date(2020, 1, 1),
        )
        services.price_item_create(price_list=self.sub, actor=admin, product=self.pump, percent_of_list=Decimal("88"))
        services.price_item_create(
            price_list=self.sub,
            actor=admin,
            product=self.pump,
            min_quantity=Decimal("20"),
            percent_of_list=Decimal("85"),
        )
        self.dealer = customer_of(team.rep1, name="无锡宏远工贸有限公司", channel_level=ChannelLevel.SUB_DEALER)
        self.other = customer_of(team.rep3, name="广州南方机电有限公司")


@pytest.fixture
def book(team, customer_of):
    return Book(team, customer_of)
