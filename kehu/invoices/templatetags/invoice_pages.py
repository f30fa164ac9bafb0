"""The colour of an invoice's state badge (Tabler's light badges)."""

from django import template

register = template.Library()

STATE_CLASSES = {
    "draft": "bg-secondary-lt",
    "pending": "bg-yellow-lt",
    "approved": "bg-blue-lt",
    "issued": "bg-green-lt",
    "reversed": "bg-red-lt",
    "cancelled": "bg-secondary-lt",
}


@register.filter
def state_class(invoice) -> str:
    if getattr(invoice, "is_red", False):
        return "bg-red text-white"
    return STATE_CLASSES.get(getattr(invoice, "state", ""), "bg-secondary-lt")
