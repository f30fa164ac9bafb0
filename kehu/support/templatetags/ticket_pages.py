"""Helpers of the ticket pages: working time as people say it, the priority's colour."""

from decimal import Decimal

from django import template
from django.utils.translation import gettext as _

from kehu.core.money import cny

register = template.Library()

PRIORITY_CSS = {
    "urgent": "bg-red text-red-fg",
    "high": "bg-orange-lt",
    "normal": "bg-blue-lt",
    "low": "bg-secondary-lt",
}


@register.filter
def working_time(seconds) -> str:
    """2 h 10 min, 3 h, 5 min (rounded up to the minute; 0 min for none)."""
    minutes = max(0, -(-int(seconds or 0) // 60))
    hours, minutes = divmod(minutes, 60)
    if hours and not minutes:
        return _("%(h)d h") % {"h": hours}
    if hours:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": minutes}
    return _("%(m)d min") % {"m": minutes}


@register.filter
def priority_css(priority: str) -> str:
    return PRIORITY_CSS.get(priority, "bg-secondary-lt")


@register.filter
def figure(value) -> str:
    """A money figure as "¥1,234.50", a count as "1,234" (the economics table mixes both)."""
    if isinstance(value, Decimal):
        return cny(value)
    return f"{value:,}" if isinstance(value, int) else str(value)
