"""Event kinds of the service app's setup: its configuration (categories, SLA policies, service
hours) and the installed base (registered with the event door when the app loads)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.core.events import register_choices


class SetupEvent(models.TextChoices):
    SERVICE_SETUP_CHANGED = "service_setup_changed", _("Service levels changed")
    UNIT_REGISTERED = "unit_registered", _("Installed unit registered")
    UNIT_CHANGED = "unit_changed", _("Installed unit changed")


register_choices(SetupEvent)
