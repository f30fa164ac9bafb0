"""Event kinds of dispatch and on-site visits (registered with the event door when the app loads)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.core.events import register_choices


class FieldEvent(models.TextChoices):
    VISIT_PLANNED = "service_visit_planned", _("Service visit planned")
    VISIT_CHECKED_IN = "service_visit_checked_in", _("Engineer checked in on site")
    VISIT_DONE = "service_visit_done", _("Service visit finished")
    VISIT_CONFIRMED = "service_visit_confirmed", _("Customer confirmed a service visit")
    ENGINEER_PROFILE_CHANGED = "engineer_profile_changed", _("Engineer profile changed")


register_choices(
    FieldEvent,
    webhooks={FieldEvent.VISIT_DONE: "service_visit.done"},
    notify=[FieldEvent.VISIT_PLANNED, FieldEvent.VISIT_DONE, FieldEvent.VISIT_CONFIRMED],
)
