"""The leads' event kinds (registered with the event door when the app loads). The lead's own
history (LeadEvent) stays with the lead; these feed the audit trail, webhooks, notifications and,
on conversion, the customer's timeline."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.core.events import register_choices


class LeadChange(models.TextChoices):
    LEAD_CREATED = "lead_created", _("Lead created")
    LEAD_CHANGED = "lead_changed", _("Lead changed")
    LEAD_ASSIGNED = "lead_assigned", _("Lead assigned to you")
    LEAD_STATUS = "lead_status", _("Lead status changed")
    LEAD_SLA_BREACHED = "lead_sla_breached", _("Lead past its first-response time")
    LEAD_CONVERTED = "lead_converted", _("Lead converted")


register_choices(
    LeadChange,
    webhooks={LeadChange.LEAD_CREATED: "lead.created", LeadChange.LEAD_CONVERTED: "lead.converted"},
    notify=[LeadChange.LEAD_ASSIGNED],
    mailed=[LeadChange.LEAD_SLA_BREACHED],
)
