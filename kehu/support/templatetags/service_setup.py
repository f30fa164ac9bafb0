"""Working time as people read it: 90 → "1 h 30 min" (小时 / 分钟)."""

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def work_time(minutes) -> str:
    if minutes is None or minutes == "":
        return ""
    hours, mins = divmod(int(minutes), 60)
    if hours and mins:
        return _("%(hours)s h %(minutes)s min") % {"hours": hours, "minutes": mins}
    if hours:
        return _("%(hours)s h") % {"hours": hours}
    return _("%(minutes)s min") % {"minutes": mins}
