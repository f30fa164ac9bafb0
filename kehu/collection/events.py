"""The information forms' event kinds (registered with the event door when the app loads)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.core.events import register_choices


class InfoFormEvent(models.TextChoices):
    INFO_FORM_CREATED = "info_form_created", _("Information form started")
    INFO_FORM_CHANGED = "info_form_changed", _("Information form changed")
    INFO_FORM_FILED = "info_form_filed", _("Information form filed")
    INFO_FORM_APPROVED = "info_form_approved", _("Information form approved")
    INFO_FORM_RETURNED = "info_form_returned", _("Information form returned")
    INFO_FORM_ARCHIVED = "info_form_archived", _("Information form archived")
    INFO_FORM_OVERDUE = "info_form_overdue", _("Information forms past their deadline")


register_choices(
    InfoFormEvent,
    notify=[InfoFormEvent.INFO_FORM_FILED, InfoFormEvent.INFO_FORM_APPROVED, InfoFormEvent.INFO_FORM_RETURNED],
    mailed=[InfoFormEvent.INFO_FORM_OVERDUE],
)


class CalendarEvent(models.TextChoices):
    # Deadlines counted in working time (the service SLAs) are recomputed when the calendar changes.
    CALENDAR_CHANGED = "calendar_changed", _("Working-day calendar changed")


register_choices(CalendarEvent)
