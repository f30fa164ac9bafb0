"""Quotes with lines for the document, share-link and e-mail tests, written with the ORM (the
amounts through kehu.core.money, as the line services compute them)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from kehu.catalog.models import Product, Specification
from kehu.core.money import line_amounts
from kehu.quotes.models import Quote, QuoteLine, QuoteState

# (code, product, specification, unit, quantity, book price, discount %, tax rate %)
LINES = [
    ("HX-ZS-160", "注塑机", "HX-160T 伺服节能型", "台", "2", "168000.00", "5", "13"),
    ("HX-MJ-01", "模具温控机", "9kW 水温机", "台", "3", "12345.67", "0", "13"),
    ("HX-FW-SV", "安装调试服务", "现场 3 天", "次", "1", "6000.00", "0", "6"),
]


def make_products(rows=LINES, prefix=""):
    specs = []
    for code, name, spec, unit, _qty, price, _discount, rate in rows:
        product = Product.objects.create(
            code=prefix + code, name=name, unit=unit, tax_rate=Decimal(rate), cost=Decimal(price) / 3,
            floor_price=Decimal(price) * Decimal("0.8"),
        )  # fmt: skip
        specs.append(Specification.objects.create(product=product, code=prefix + code + "-S", name=spec))
    return specs


def make_quote(owner, customer, *, rows=LINES, state=QuoteState.APPROVED, language="zh-hans", number="Q-2026-0001",
               contact=None, **header):  # fmt: skip
    """A quote of `owner` for `customer` with `rows`; totals are the sums of the rounded lines."""
    quote = Quote.objects.create(
        number=number, customer=customer, owner=owner, created_by=owner, state=state, language=language,
        quoted_on=timezone.localdate(), valid_until=timezone.localdate() + timedelta(days=30), contact=contact,
        payment_terms=header.pop("payment_terms", "预付 30%，发货前付清余款"),
        delivery_terms=header.pop("delivery_terms", "收到预付款后 30 天内发货"), **header,
    )  # fmt: skip
    specs = make_products(rows, prefix=f"{quote.pk}-")
    lines = []
    for position, (spec, row) in enumerate(zip(specs, rows, strict=True), start=1):
        _code, name, spec_name, unit, qty, price, discount, rate = row
        a = line_amounts(Decimal(qty), Decimal(price), Decimal(discount), Decimal(rate))
        lines.append(
            QuoteLine(
                quote=quote,
                position=position,
                customer=customer,
                product=spec.product,
                specification=spec,
                code=spec.code,
                name=name,
                specification_name=spec_name,
                unit=unit,
                quantity=Decimal(qty),
                list_price=Decimal(price),
                base_price=Decimal(price),
                price_source="二批价格表 ≥ 1",
                discount=Decimal(discount),
                unit_price=a.unit_price,
                floor_price=Decimal(price) * Decimal("0.8"),
                tax_rate=Decimal(rate),
                amount=a.amount,
                amount_net=a.amount_net,
                tax=a.tax,
            )  # fmt: skip
        )
    QuoteLine.objects.bulk_create(lines)
    Quote.objects.filter(pk=quote.pk).update(
        line_count=len(lines),
        total=sum((ln.amount for ln in lines), Decimal("0")),
        total_net=sum((ln.amount_net for ln in lines), Decimal("0")),
        total_tax=sum((ln.tax for ln in lines), Decimal("0")),
        max_discount=max((ln.discount for ln in lines), default=Decimal("0")),
    )
    quote.refresh_from_db()
    return quote


def many_rows(n):
    """`n` lines of different products (a long B2B quote)."""
    return [
        (
            f"P{i:05d}",
            f"精密轴承 {i} 号",
            f"6{i % 100:02d}-2RS ZZ",
            "套",
            str(1 + i % 50),
            f"{10 + i % 997}.{i % 100:02d}",
            str(i % 7),
            "13",
        )  # fmt: skip
        for i in range(1, n + 1)
    ]


@pytest.fixture
def quote_of(customer_of):
    """quote_of(owner, **header) → an approved quote of three lines for a customer of `owner`."""

    def make(owner, customer=None, **fields):
        customer = customer or customer_of(owner)
        return make_quote(owner, customer, **fields)

    return make


EXPECTED_TOTAL = Decimal("362237.01")  # 2 × 168000 × 0.95 + 3 × 12345.67 + 6000


def pdf_text(pdf: bytes, *, layout: bool = False) -> str:
    """The text of a PDF as `pdftotext` (poppler) reads it."""
    import subprocess

    args = ["pdftotext", "-enc", "UTF-8", *(["-layout"] if layout else []), "-", "-"]
    return subprocess.run(args, input=pdf, capture_output=True, check=True).stdout.decode("utf-8")


def pdf_fonts(pdf: bytes, tmp_path) -> list[dict]:
    """The fonts of a PDF as `pdffonts` lists them: name, type, embedded, subset, unicode map."""
    import subprocess

    path = tmp_path / "fonts.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, check=True, text=True).stdout
    fonts = []
    for line in out.splitlines()[2:]:
        parts = line.split()
        # name, type words…, encoding, emb, sub, uni, object, id
        fonts.append({"name": parts[0], "emb": parts[-5], "sub": parts[-4], "uni": parts[-3]})
    return fonts


def pdf_pages(pdf: bytes) -> int:
    import re
    import subprocess

    out = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    return int(re.search(r"^Pages:\s+(\d+)", out, re.M)[1])
