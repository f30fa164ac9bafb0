"""The colours of an order's states on the order pages (Tabler's light badges)."""

from django import template

register = template.Library()

BADGES = {
    "draft": "bg-secondary-lt",
    "pending": "bg-yellow-lt",
    "confirmed": "bg-blue-lt",
    "completed": "bg-green-lt",
    "cancelled": "bg-red-lt",
    "none": "bg-secondary-lt",
    "partial": "bg-yellow-lt",
    "full": "bg-green-lt",
    "unpaid": "bg-secondary-lt",
    "paid": "bg-green-lt",
}


@register.filter
def badge(value) -> str:
    return BADGES.get(str(value), "bg-secondary-lt")
