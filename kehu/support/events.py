"""The service app's event kinds (registered with the event door when the app loads)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.core.events import register_choices


class SupportEvent(models.TextChoices):
    TICKET_OPENED = "ticket_opened", _("Service ticket opened")
    TICKET_RESPONDED = "ticket_responded", _("Service ticket answered")
    TICKET_STATE_CHANGED = "ticket_state_changed", _("Service ticket moved")
    TICKET_SLA_WARNING = "ticket_sla_warning", _("Service ticket close to its SLA")
    TICKET_SLA_BREACHED = "ticket_sla_breached", _("Service ticket past its SLA")
    TICKET_ASSIGNED = "ticket_assigned", _("Service ticket assigned")
    TICKET_MESSAGE = "ticket_message", _("Message on a service ticket")


register_choices(
    SupportEvent,
    webhooks={
        SupportEvent.TICKET_OPENED: "ticket.opened",
        SupportEvent.TICKET_SLA_BREACHED: "ticket.sla_breached",
    },
    notify=[
        SupportEvent.TICKET_OPENED,
        SupportEvent.TICKET_SLA_WARNING,
        SupportEvent.TICKET_SLA_BREACHED,
        SupportEvent.TICKET_ASSIGNED,
    ],
)
