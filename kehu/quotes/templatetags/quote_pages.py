"""Number formats of the quote pages: prices to at least two places (four when the fen does not
end them), quantities without trailing zeros, both with thousands separators."""

from decimal import Decimal

from django import template

register = template.Library()

TWO = Decimal("0.01")


def _grouped(value: Decimal, places: int) -> str:
    return f"{value:,.{places}f}"


@register.filter
def price(value) -> str:
    """12.5 → "12.50", 12.3456 → "12.3456", 1234 → "1,234.00"; None → "—"."""
    if value is None or value == "":
        return "—"
    value = Decimal(value)
    if value == value.quantize(TWO):
        return _grouped(value, 2)
    exponent = -value.normalize().as_tuple().exponent
    return _grouped(value, max(2, min(int(exponent), 4)))


@register.filter
def qty(value) -> str:
    """12.000 → "12", 2.500 → "2.5", 1200 → "1,200"."""
    if value is None or value == "":
        return ""
    value = Decimal(value)
    if value == value.to_integral_value():
        return _grouped(value, 0)
    return _grouped(value, max(0, -int(value.normalize().as_tuple().exponent)))


@register.filter
def plain(value) -> str:
    """A decimal as typed back into an input: no separators, no trailing zeros ("2.5", "12")."""
    if value is None or value == "":
        return ""
    value = Decimal(value)
    if value == value.to_integral_value():
        return str(value.quantize(Decimal(1)))
    return format(value.normalize(), "f")
