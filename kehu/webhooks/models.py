"""Webhook subscriptions and their delivery log (INT-4)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core import events


def webhook_event_choices() -> list[tuple[str, str]]:
    """(name, label) of every event subscribers may ask for: the event kinds the apps registered
    with a webhook name (kehu.core.events), so a new app's events need nothing here."""
    return sorted((kind.webhook, str(kind.label)) for kind in events.kinds(webhook=True))


ON = pgettext_lazy("webhook subscription", "On")
OFF = pgettext_lazy("webhook subscription", "Off")


def event_label(code: str) -> str:
    """An event's name in the reader's language (a code we no longer send keeps its code)."""
    return dict(webhook_event_choices()).get(code, code)


class WebhookSubscription(models.Model):
    """Where to POST which events; each body is signed with `secret` (HMAC-SHA256)."""

    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(_("signing secret"), max_length=100)
    events = models.JSONField(_("events"), default=list)
    # Its own words: "active" alone is a customer's status (合作中) in Chinese.
    is_active = models.BooleanField(pgettext_lazy("webhook subscription", "active"), default=True)
    description = models.CharField(_("description"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    audit_choices = {"events": webhook_event_choices, "is_active": [(True, ON), (False, OFF)]}

    class Meta:
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")

    def __str__(self) -> str:
        return self.url

    @property
    def event_labels(self) -> list[str]:
        return [event_label(e) for e in self.events]

    @property
    def state_label(self) -> str:
        return str(ON if self.is_active else OFF)


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    SUCCEEDED = "succeeded", _("delivered")
    FAILED = "failed", _("given up")


class WebhookDelivery(models.Model):
    subscription = models.ForeignKey(
        WebhookSubscription, verbose_name=_("subscription"), on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField(_("event"), max_length=50)
    payload = models.JSONField(_("payload"), default=dict)
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    last_response_code = models.PositiveIntegerField(_("last response code"), null=True, blank=True)
    last_response_body = models.CharField(_("last response (excerpt)"), max_length=500, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due_idx"),
            models.Index(fields=["subscription", "-created_at"], name="webhook_delivery_sub_idx"),
        ]

    @property
    def event_label(self) -> str:
        return event_label(self.event)

    def __str__(self) -> str:
        return f"#{self.pk} {event_label(self.event)}"
