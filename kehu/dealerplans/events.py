"""The dealer plans' event kinds (registered with the event door when the app loads)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.core.events import register_choices


class PlanEvent(models.TextChoices):
    CREATED = "dealer_plan_created", _("Dealer plan created")
    CHANGED = "dealer_plan_changed", _("Dealer plan changed")
    AGREED = "dealer_plan_agreed", _("Dealer plan agreed")
    REOPENED = "dealer_plan_reopened", _("Dealer plan reopened")
    CLOSED = "dealer_plan_closed", _("Dealer plan closed")
    DELETED = "dealer_plan_deleted", _("Dealer plan moved to the recycle bin")
    RESTORED = "dealer_plan_restored", _("Dealer plan restored")


register_choices(PlanEvent, notify=[PlanEvent.AGREED, PlanEvent.REOPENED])
