"""The event kinds of complaints (投诉, SRV-2), registered with the event door when the app loads."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.core.events import register_choices


class ComplaintEvent(models.TextChoices):
    COMPLAINT_REGISTERED = "complaint_registered", _("Complaint registered")
    COMPLAINT_STEP_DONE = "complaint_step_done", _("Complaint step done")
    COMPLAINT_MOVED = "complaint_moved", _("Complaint moved")
    COMPLAINT_CLOSED = "complaint_closed", _("Complaint closed")
    COMPLAINT_CHANGED = "complaint_changed", _("Complaint changed")
    COMPLAINT_STEP_ASSIGNED = "complaint_step_assigned", _("Complaint step assigned")
    COMPLAINT_STEP_OVERDUE = "complaint_step_overdue", _("Complaint step overdue")


register_choices(
    ComplaintEvent,
    webhooks={
        ComplaintEvent.COMPLAINT_REGISTERED: "complaint.registered",
        ComplaintEvent.COMPLAINT_CLOSED: "complaint.closed",
    },
    notify=[
        ComplaintEvent.COMPLAINT_REGISTERED,
        ComplaintEvent.COMPLAINT_STEP_ASSIGNED,
        ComplaintEvent.COMPLAINT_STEP_OVERDUE,
        ComplaintEvent.COMPLAINT_CLOSED,
    ],
)
