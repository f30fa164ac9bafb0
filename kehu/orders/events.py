"""The orders' event kinds (registered with the event door when the app loads).

The receivables app listens to the kinds that change a customer's exposure (confirmed, cancelled,
changed, delivered) through an in-transaction sink; the timeline shows them all.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.core.events import register_choices


class OrderEvent(models.TextChoices):
    CREATED = "order_created", _("Order created")
    CHANGED = "order_changed", _("Order changed")
    SUBMITTED = "order_submitted", _("Order sent for price approval")
    APPROVED = "order_approved", _("Order prices approved")
    APPROVAL_REJECTED = "order_approval_rejected", _("Order prices not approved")
    CONFIRMED = "order_confirmed", _("Order confirmed")
    CREDIT_HELD = "order_credit_held", _("Order held for credit")
    CREDIT_APPROVED = "order_credit_approved", _("Credit exception approved")
    CREDIT_REJECTED = "order_credit_rejected", _("Credit exception refused")
    DELIVERED = "order_delivered", _("Order delivered")
    COMPLETED = "order_completed", _("Order completed")
    CANCELLED = "order_cancelled", _("Order cancelled")
    DELETED = "order_deleted", _("Order moved to the recycle bin")
    RESTORED = "order_restored", _("Order restored")
    SELL_THROUGH = "order_sell_through", _("Sell-through recorded")


register_choices(
    OrderEvent,
    webhooks={
        OrderEvent.CONFIRMED: "order.confirmed",
        OrderEvent.DELIVERED: "order.delivered",
        OrderEvent.CANCELLED: "order.cancelled",
    },
    notify=[
        OrderEvent.APPROVED,
        OrderEvent.APPROVAL_REJECTED,
        OrderEvent.CREDIT_HELD,
        OrderEvent.CREDIT_APPROVED,
        OrderEvent.CREDIT_REJECTED,
    ],
)
