from decimal import Decimal

from django import template

from kehu.core.money import cny

register = template.Library()
register.filter("cny", cny)


@register.filter
def yuan(value) -> str:
    """12345.6 → "12,345.60"; nothing → "0.00"."""
    try:
        return f"{Decimal(value or 0):,.2f}"
    except (ArithmeticError, TypeError, ValueError):
        return ""


@register.filter
def bucket(row, key: str):
    return row.buckets.get(key, 0)


@register.simple_tag
def ageing_query(level, department=None, owner=None, **extra) -> str:
    parts = [f"level={level}"]
    if department not in (None, ""):
        parts.append(f"department={int(department)}")
    if owner not in (None, ""):
        parts.append(f"owner={int(owner)}")
    parts += [f"{k}={v}" for k, v in extra.items() if v not in (None, "")]
    return "?" + "&".join(parts)
