"""The complaints' part of the ticket page: complaints registered from the ticket, and a link to
register one (the ticket page includes `support/complaints/_ticket_panel.html`)."""

from django import template

from kehu.support.complaint_selectors import complaint_qs_visible_to

register = template.Library()


@register.simple_tag
def ticket_complaints(user, ticket) -> list:
    """The complaints about this ticket the user sees (one query; none without the permission)."""
    if not user.has_perm("support.view_complaint"):
        return []
    return list(complaint_qs_visible_to(user).filter(ticket=ticket).order_by("-pk")[:10])
