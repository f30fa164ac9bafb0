from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def yuan(value) -> str:
    """12345.6 → "12,345.60" (amounts to the fen)."""
    if value in (None, ""):
        return ""
    return f"{Decimal(value):,.2f}"


@register.filter
def qty(value) -> str:
    """A quantity without trailing zeros: 2.000 → "2", 2.500 → "2.5"."""
    if value in (None, ""):
        return ""
    value = Decimal(value)
    if value == value.to_integral_value():
        return f"{value.to_integral_value():,f}"
    return f"{value.normalize():,f}"


@register.filter
def price(value) -> str:
    """A unit price to the fen, or to 4 places when it has parts of a fen: 70.9070 → "70.907"."""
    if value in (None, ""):
        return ""
    value = Decimal(value)
    if value == value.quantize(Decimal("0.01")):
        return f"{value:,.2f}"
    return f"{value.normalize():,f}"
