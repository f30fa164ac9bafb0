"""The bell in the top bar: `{% load notifications %}{% notification_bell %}` (one indexed query)."""

from django import template

from kehu.notifications.selectors import UNREAD_CAP, unread_count

register = template.Library()


def bell_label(count: int) -> str:
    return f"{UNREAD_CAP - 1}+" if count >= UNREAD_CAP else str(count) if count else ""


@register.inclusion_tag("notifications/bell.html", takes_context=True)
def notification_bell(context):
    user = context.get("user")
    count = unread_count(user) if user is not None and user.is_authenticated else 0
    return {"count": count, "label": bell_label(count)}


@register.filter
def safe_path(link) -> str:
    """A stored link as an href: a path inside Kehu only ("" for anything else)."""
    if isinstance(link, str) and link.startswith("/") and not link.startswith("//") and "\\" not in link:
        return link
    return ""
