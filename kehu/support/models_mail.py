"""E-mail intake (SRV-1): the service mailbox Kehu reads over IMAP, every mail it took from there (so
a mail is stored once, whatever happens between fetching it and marking it seen), and the files
that came with them. Mail from an unknown sender waits in the "to match" list until staff say whose
it is; automatic replies and bounces are kept and counted, never made into tickets."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.support.models import Priority

__all__ = ["InboundMail", "InboundStatus", "MailAttachment", "MailSecurity", "Mailbox"]


class MailSecurity(models.TextChoices):
    SSL = "ssl", _("SSL/TLS (port 993)")
    STARTTLS = "starttls", _("STARTTLS (port 143)")
    NONE = "none", _("None (port 143, only inside a trusted network)")


class Mailbox(models.Model):
    """One row: the service address's IMAP mailbox. The password is kept to log in with and is
    never shown again after it was saved (forms and the API only take a new one)."""

    is_active = models.BooleanField(_("fetch mail"), default=False)
    address = models.EmailField(_("service address"), blank=True)
    host = models.CharField(_("IMAP server"), max_length=200, blank=True)
    port = models.PositiveIntegerField(_("port"), default=993)
    security = models.CharField(_("security"), max_length=10, choices=MailSecurity.choices, default=MailSecurity.SSL)
    username = models.CharField(_("user name"), max_length=200, blank=True)
    password = models.CharField(_("password"), max_length=200, blank=True)
    folder = models.CharField(_("folder"), max_length=200, default="INBOX")
    default_category = models.ForeignKey(
        "support.TicketCategory",
        verbose_name=_("category of mailed tickets"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    default_priority = models.CharField(
        _("priority of mailed tickets"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    default_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("responsible for mailed tickets"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    send_acknowledgement = models.BooleanField(_("acknowledge a new ticket by e-mail"), default=True)
    # The folder's UIDVALIDITY when it was last read: UIDs are only comparable within one value.
    uidvalidity = models.BigIntegerField(null=True, blank=True)
    last_checked_at = models.DateTimeField(_("last checked"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("service mailbox")
        verbose_name_plural = _("service mailboxes")

    def __str__(self) -> str:
        return self.address or self.username or "mailbox"

    @classmethod
    def load(cls) -> "Mailbox":
        found = cls.objects.order_by("pk").first()
        return found if found is not None else cls.objects.create()

    @property
    def has_password(self) -> bool:
        return bool(self.password)


class InboundStatus(models.TextChoices):
    TICKET = "ticket", _("New ticket")
    REPLY = "reply", _("Reply on a ticket")
    TO_MATCH = "to_match", _("To match")
    MATCHED = "matched", _("Matched by staff")
    AUTOMATIC = "automatic", _("Automatic reply or bounce")
    OWN = "own", _("Our own mail")
    DISMISSED = "dismissed", _("Dismissed")


class InboundMail(models.Model):
    """One mail taken from the mailbox, stored before it is marked seen there. (uidvalidity, uid) and
    the Message-ID are unique, so fetching a mail again (after a crash) stores it no second time."""

    uidvalidity = models.BigIntegerField()
    uid = models.BigIntegerField()
    email_message_id = models.CharField(max_length=255, blank=True)
    in_reply_to = models.CharField(max_length=255, blank=True)
    references = models.TextField(blank=True)
    from_address = models.CharField(_("from"), max_length=254, blank=True)
    from_name = models.CharField(_("sender's name"), max_length=200, blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    body = models.TextField(_("message"), blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    status = models.CharField(_("status"), max_length=10, choices=InboundStatus.choices)
    ticket = models.ForeignKey(
        "support.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound_mails"
    )
    message = models.ForeignKey(
        "support.TicketMessage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The Message-ID of the acknowledgement we sent (the customer's reply to it threads here).
    acknowledgement_id = models.CharField(max_length=255, blank=True)
    matched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    matched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("received mail")
        verbose_name_plural = _("received mail")
        constraints = [
            models.UniqueConstraint(fields=["uidvalidity", "uid"], name="support_inbound_uid"),
            models.UniqueConstraint(
                fields=["email_message_id"], condition=~models.Q(email_message_id=""), name="support_inbound_message_id"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-id"], name="support_inbound_status"),
            models.Index(
                fields=["acknowledgement_id"], condition=~models.Q(acknowledgement_id=""), name="support_inbound_ack"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_address} {self.subject}"


class MailAttachment(models.Model):
    """A file that came with a mail (kept within the type and size limits of kehu.support.mail_intake)."""

    mail = models.ForeignKey(InboundMail, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(
        "support.TicketMessage", null=True, blank=True, on_delete=models.SET_NULL, related_name="mail_attachments"
    )
    filename = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveIntegerField(_("size"))
    file = models.FileField(_("file"), upload_to="service/mail/%Y/%m/", max_length=255)

    class Meta:
        verbose_name = _("mail attachment")
        verbose_name_plural = _("mail attachments")
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.filename

    @property
    def is_image(self) -> bool:
        """A picture the browser shows (the ticket page's thumbnails)."""
        return self.content_type in ("image/jpeg", "image/png", "image/gif", "image/webp")
