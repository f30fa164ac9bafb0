"""The public pool's and handovers' event kinds (registered with the event door when the app loads)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.core.events import register_choices


class PoolEvent(models.TextChoices):
    POOL_CLAIMED = "pool_claimed", _("Claimed from the public pool")
    POOL_ASSIGNED = "pool_assigned", _("Assigned from the public pool")
    POOL_RELEASED = "pool_released", _("Released to the public pool")
    POOL_RECYCLED = "pool_recycled", _("Returned to the public pool by rule")
    POOL_WARNED = "pool_warned", _("Owner warned of return to the pool")
    POOL_EXEMPTED = "pool_exempted", _("Exempted from the pool rules")
    # One per owner and run: "these customers return to the pool unless followed up".
    POOL_RETURN_WARNING = "pool_return_warning", _("Customers about to return to the public pool")
    HANDED_OVER = "handed_over", _("Handed over")
    HANDOVER_DONE = "handover_done", _("Customers handed over")


register_choices(
    PoolEvent,
    notify=[PoolEvent.POOL_ASSIGNED],
    mailed=[PoolEvent.POOL_RETURN_WARNING, PoolEvent.HANDOVER_DONE],
)
