"""The ticket page's returns panel: the returns opened for the ticket (one query)."""

from django import template

from kehu.support.models_returns import ReturnRequest

register = template.Library()


@register.simple_tag(takes_context=True)
def ticket_returns(context, ticket) -> list:
    user = context["request"].user
    if not user.has_perm("support.view_returnrequest"):
        return []
    return list(ReturnRequest.objects.filter(ticket=ticket).select_related("order_line").order_by("-pk")[:10])
