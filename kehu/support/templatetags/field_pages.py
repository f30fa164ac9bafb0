"""The ticket page's dispatch panel (the ranked engineers with "assign" for those who dispatch, and
the ticket's visits), put in by one include line in ticket_detail.html."""

from django import template
from django.utils import timezone

from kehu.support import visit_selectors
from kehu.support.dispatch import rank_engineers

register = template.Library()


@register.simple_tag(takes_context=True)
def dispatch_panel(context, ticket) -> dict:
    user = context["request"].user
    may_dispatch = bool(ticket.is_open and user.has_perm("support.dispatch_ticket"))
    visits = visit_selectors.visits_of_ticket(user, ticket)
    if not may_dispatch and not visits:
        return {"show": False}
    from kehu.support.visit_views import planned_default

    return {
        "show": True,
        "may_dispatch": may_dispatch,
        "candidates": rank_engineers(ticket) if may_dispatch else [],
        "visits": visits,
        "planned_default": planned_default(timezone.now()),
    }


@register.filter
def stars(value) -> str:
    try:
        n = int(value)
    except (TypeError, ValueError):
        return ""
    return "★" * n + "☆" * (5 - n)
