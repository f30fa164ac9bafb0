"""The receivables' event kinds (registered with the event door when the app loads)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.core.events import register_choices


class ReceivablesEvent(models.TextChoices):
    PLANS_SET = "payment_plans_set", _("Payment plan set")
    PLAN_CHANGED = "payment_plan_changed", _("Payment plan changed")
    PLAN_VOIDED = "payment_plan_voided", _("Payment plan voided")
    PLAN_DUE_SOON = "plan_due_soon", _("Payment falling due soon")
    PLAN_OVERDUE = "plan_overdue", _("Payment overdue")
    PAYMENT_RECORDED = "payment_recorded", _("Payment received")
    PAYMENT_PENDING = "payment_pending", _("Payment waiting for approval")
    PAYMENT_REJECTED = "payment_rejected", _("Payment not approved")
    PAYMENT_ALLOCATED = "payment_allocated", _("Payment allocated to plans")
    PAYMENT_REVERSED = "payment_reversed", _("Payment reversed")


register_choices(
    ReceivablesEvent,
    webhooks={
        ReceivablesEvent.PAYMENT_RECORDED: "payment.received",
        ReceivablesEvent.PLAN_OVERDUE: "receivable.overdue",
        ReceivablesEvent.PAYMENT_REVERSED: "payment.reversed",
    },
    notify=[
        ReceivablesEvent.PLAN_DUE_SOON,
        ReceivablesEvent.PLAN_OVERDUE,
        ReceivablesEvent.PAYMENT_RECORDED,
        ReceivablesEvent.PAYMENT_PENDING,
        ReceivablesEvent.PAYMENT_REJECTED,
        ReceivablesEvent.PAYMENT_REVERSED,
    ],
)
