"""Check-in plausibility in words, for the week, the visit pages and the managers' review list."""

from django import template

from kehu.activities import plausibility

register = template.Library()


@register.filter
def check_in_distance(activity) -> str:
    return plausibility.distance_text(activity)


@register.filter
def check_in_warnings(activity) -> list[str]:
    return plausibility.warning_texts(activity)


@register.filter
def check_in_warning_labels(activity) -> list[tuple[str, str]]:
    return plausibility.warning_labels(activity)
