"""Classification's event kinds (registered with the event door when the app loads)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.core.events import register_choices


class ClassificationEvent(models.TextChoices):
    EVALUATED = "evaluated", _("Evaluation recorded")
    CREDIT_CHANGED = "credit_changed", _("Credit rating or limit changed")
    TIER_SUGGESTION_DECIDED = "tier_suggestion_decided", _("Tier suggestion decided")


register_choices(ClassificationEvent)
