from decimal import Decimal

from django import template

from kehu.core.money import cny
from kehu.quotes.templatetags.quote_pages import price, qty

register = template.Library()
register.filter("cny", cny)
register.filter("price", price)
register.filter("qty", qty)


@register.filter
def yuan(value) -> str:
    """12345.6 → "12,345.60" (amounts to the fen)."""
    if value in (None, ""):
        return ""
    return f"{Decimal(value):,.2f}"
