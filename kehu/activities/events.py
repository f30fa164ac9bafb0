"""The activities' event kinds: each logged activity is a line of the customer's history under its
own kind (a visit, a call …), and a kept commitment or a check-in adds one more."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.activities.models import ActivityKind
from kehu.core.events import register_choices


class ActivityEvent(models.TextChoices):
    COMMITMENT_DONE = "commitment_done", _("Commitment kept")
    CHECK_IN = "check_in", _("Checked in on a visit")
    VISIT_PLANNED = "visit_planned", _("Visit planned")
    ACTIVITY_CHANGED = "activity_changed", _("Activity changed")
    ACTIVITY_DELETED = "activity_deleted", _("Activity deleted")
    WORK_MOVED = "work_moved", _("Open work handed on")
    # One per owner and day: "these commitments are past their due date".
    COMMITMENTS_OVERDUE = "commitments_overdue", _("Commitments past their due date")


register_choices(ActivityKind)
register_choices(ActivityEvent, notify=[ActivityEvent.COMMITMENTS_OVERDUE])
