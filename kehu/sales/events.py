"""The pipeline's event kinds (registered with the event door when the app loads)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.core.events import register_choices


class SalesEvent(models.TextChoices):
    OPPORTUNITY_CREATED = "opportunity_created", _("Opportunity opened")
    OPPORTUNITY_CHANGED = "opportunity_changed", _("Opportunity changed")
    OPPORTUNITY_STAGE_CHANGED = "opportunity_stage", _("Opportunity moved to another stage")
    OPPORTUNITY_WON = "opportunity_won", _("Opportunity won")
    OPPORTUNITY_LOST = "opportunity_lost", _("Opportunity lost")
    OPPORTUNITY_ASSIGNED = "opportunity_assigned", _("Opportunity assigned to you")
    OPPORTUNITY_DELETED = "opportunity_deleted", _("Opportunity moved to the recycle bin")
    OPPORTUNITY_RESTORED = "opportunity_restored", _("Opportunity restored")


register_choices(
    SalesEvent,
    webhooks={SalesEvent.OPPORTUNITY_WON: "opportunity.won", SalesEvent.OPPORTUNITY_LOST: "opportunity.lost"},
    notify=[SalesEvent.OPPORTUNITY_ASSIGNED],
)
