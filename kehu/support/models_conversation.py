"""A ticket's conversation: what the customer wrote (phone log, e-mail, the self-service page) and
what the company answered, in order. E-mail keeps its Message-ID so replies thread onto the ticket."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.support.models import Channel

__all__ = ["MessageDirection", "TicketMessage"]


class MessageDirection(models.TextChoices):
    IN = "in", _("From the customer")
    OUT = "out", _("To the customer")
    NOTE = "note", _("Internal note")


class TicketMessage(models.Model):
    ticket = models.ForeignKey("support.Ticket", on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(_("direction"), max_length=4, choices=MessageDirection.choices)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Who wrote it when it was not a user: the customer's name or e-mail address.
    sender = models.CharField(_("from"), max_length=254, blank=True)
    body = models.TextField(_("message"))
    at = models.DateTimeField(_("at"), default=timezone.now)
    # The e-mail's Message-ID (received or sent), so a reply's In-Reply-To/References finds the ticket.
    email_message_id = models.CharField(max_length=255, blank=True, db_index=True)

    class Meta:
        verbose_name = _("ticket message")
        verbose_name_plural = _("ticket messages")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["ticket", "at"], name="support_message_ticket")]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.direction} {self.at:%Y-%m-%d %H:%M}"
