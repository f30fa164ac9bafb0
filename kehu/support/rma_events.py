"""The event kinds of returns and quality (registered with the event door when the app loads)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.core.events import register_choices


class ReturnEvent(models.TextChoices):
    RMA_CREATED = "rma_created", _("Return (RMA) opened")
    RMA_SUBMITTED = "rma_submitted", _("Return (RMA) sent for approval")
    RMA_APPROVED = "rma_approved", _("Return (RMA) approved")
    RMA_REJECTED = "rma_rejected", _("Return (RMA) rejected")
    RMA_MOVED = "rma_moved", _("Return (RMA) moved")
    ACTION_ASSIGNED = "improvement_action_assigned", _("Improvement action assigned")
    QUALITY_REPORT = "quality_report_generated", _("Daily quality report generated")


register_choices(
    ReturnEvent,
    webhooks={ReturnEvent.RMA_APPROVED: "rma.approved"},
    notify=[ReturnEvent.RMA_APPROVED, ReturnEvent.RMA_REJECTED, ReturnEvent.RMA_MOVED, ReturnEvent.ACTION_ASSIGNED],
)
