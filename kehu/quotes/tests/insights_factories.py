"""Quotes and lines for the insights tests, written with the ORM (the insights only read them)."""

from datetime import date, timedelta
from decimal import Decimal
from itertools import count

from kehu.catalog.models import Product, Specification
from kehu.quotes.models import Quote, QuoteLine, QuoteState

_numbers = count(1)


def make_product(code: str, name: str, *, specs: int = 1, **fields) -> Product:
    product = Product.objects.create(code=code, name=name, unit=fields.pop("unit", "台"), **fields)
    for i in range(specs):
        Specification.objects.create(product=product, code=f"{code}-{chr(65 + i)}", name=f"{name} {chr(65 + i)}")
    return product


def spec_of(product: Product, i: int = 0) -> Specification:
    return product.specifications.order_by("position", "id")[i]


def make_quote(
    customer,
    owner,
    lines=(),
    *,
    state=QuoteState.DRAFT,
    quoted_on: date | None = None,
    number: str | None = None,
    revision: int = 1,
    **fields,
) -> Quote:
    """`lines`: (specification, unit price) or (specification, unit price, discount %) tuples."""
    quoted_on = quoted_on or date(2026, 11, 1)
    quote = Quote.objects.create(
        number=number or f"QT-2026-{next(_numbers):04d}",
        revision=revision,
        customer=customer,
        owner=owner,
        state=state,
        quoted_on=quoted_on,
        valid_until=quoted_on + timedelta(days=30),
        **fields,
    )
    add_lines(quote, lines)
    return quote


def add_lines(quote: Quote, lines) -> list[QuoteLine]:
    start = quote.lines.count()
    made = []
    for i, (spec, price, *rest) in enumerate(lines, start=start + 1):
        price = Decimal(price)
        discount = Decimal(rest[0]) if rest else Decimal("0")
        amount = (price * 2).quantize(Decimal("0.01"))
        made.append(
            QuoteLine(
                quote=quote,
                position=i,
                customer_id=quote.customer_id,
                product_id=spec.product_id,
                specification=spec,
                code=spec.code,
                name=spec.product.name,
                specification_name=spec.name,
                unit="台",
                quantity=Decimal("2"),
                list_price=price,
                base_price=price,
                discount=discount,
                unit_price=price,
                tax_rate=Decimal("13"),
                amount=amount,
                amount_net=(amount / Decimal("1.13")).quantize(Decimal("0.01")),
                tax=amount - (amount / Decimal("1.13")).quantize(Decimal("0.01")),
            )
        )
    QuoteLine.objects.bulk_create(made)
    Quote.objects.filter(pk=quote.pk).update(line_count=start + len(made))
    return made
