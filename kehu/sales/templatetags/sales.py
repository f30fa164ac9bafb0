from datetime import timedelta

from django import template
from django.utils.translation import ngettext

register = template.Library()


@register.filter
def duration(value: timedelta | None) -> str:
    """Time spent in a stage, as days or hours."""
    if not value:
        return ""
    seconds = int(value.total_seconds())
    days, hours = seconds // 86400, seconds % 86400 // 3600
    if days:
        return ngettext("%(n)d day", "%(n)d days", days) % {"n": days}
    if hours:
        return ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}
    return ngettext("%(n)d minute", "%(n)d minutes", max(1, seconds // 60)) % {"n": max(1, seconds // 60)}
