"""Template helpers of the plans and payments pages."""

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kehu.core.money import cny
from kehu.receivables.models import PlanBasis

register = template.Library()
register.filter("cny", cny)


@register.filter
def due_rule(plan) -> str:
    """When an instalment falls due, as people say it: "30 days after delivery", "on signing"."""
    days = plan.days_after or 0
    if plan.basis == PlanBasis.FIXED:
        return _("on a date")
    if days == 0:
        return {
            PlanBasis.SIGNING: _("on signing"),
            PlanBasis.DELIVERY: _("on delivery"),
            PlanBasis.INVOICE: _("on the invoice"),
        }[plan.basis]
    return {
        PlanBasis.SIGNING: ngettext("%(days)s day after signing", "%(days)s days after signing", days),
        PlanBasis.DELIVERY: ngettext("%(days)s day after delivery", "%(days)s days after delivery", days),
        PlanBasis.INVOICE: ngettext("%(days)s day after the invoice", "%(days)s days after the invoice", days),
    }[plan.basis] % {"days": days}
