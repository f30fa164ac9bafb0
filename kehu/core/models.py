"""Base models every domain builds on, and the audit trail (ACC-4)."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TimeStamped(models.Model):
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        abstract = True


class SoftDeletable(models.Model):
    """Deleted rows stay in the table, out of every selector, until restored (PLT-5)."""

    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("deleted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        abstract = True

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class Versioned(models.Model):
    """A counter bumped by every save; a save that expected an older one is refused."""

    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        abstract = True


class AuditAction(models.TextChoices):
    CREATE = "create", _("created")
    UPDATE = "update", _("changed")
    DELETE = "delete", _("deleted")
    RESTORE = "restore", _("restored")
    EXPORT = "export", _("exported")


class AuditEntry(models.Model):
    """Who created, changed, exported or deleted what, when (ACC-4)."""

    at = models.DateTimeField(_("at"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=10, choices=AuditAction.choices)
    target_type = models.CharField(_("record type"), max_length=60)
    target_id = models.BigIntegerField(_("record"), null=True)
    target_repr = models.CharField(_("record name"), max_length=200, blank=True)
    # {field: [before, after]} for changes; a short summary for exports.
    changes = models.JSONField(_("changes"), default=dict, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit trail")
        indexes = [
            models.Index(fields=["target_type", "target_id", "-at", "-id"], name="audit_target_idx"),
            models.Index(fields=["actor", "-id"], name="audit_actor_idx"),
        ]
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.target_type}#{self.target_id}"


def validate_sane_year(value):
    """Dates far in the past or future are typing mistakes (and overflow time-zone arithmetic)."""
    from django.core.exceptions import ValidationError

    if not 1900 <= value.year <= 2999:
        raise ValidationError(_("Enter a date between the years 1900 and 2999."), code="date_range")


class ScheduledJob(models.Model):
    """When a periodic task is next due. One row per job; the scheduler claims a slot with a
    conditional UPDATE, so several schedulers on one database never enqueue a slot twice."""

    name = models.CharField(max_length=200, primary_key=True)
    next_run_at = models.DateTimeField()
    last_enqueued_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name


# A queued mail normally goes out within seconds; after this long its delivery task was lost.
MAIL_QUEUED_GRACE = timedelta(minutes=2)


class MailStatus(models.TextChoices):
    QUEUED = "queued", _("queued")
    SENDING = "sending", _("sending")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")


class OutboxMail(models.Model):
    """Every mail Kehu sends (INT-2), written in the transaction that caused it and delivered by
    the worker: queued → sending → sent, or failed with the server's answer and a next attempt
    (see kehu.core.mail for the backoff); failed with no next attempt means Kehu gave up."""

    to = models.TextField(_("to"))  # one address a line
    cc = models.TextField(_("cc"), blank=True, default="")  # one address a line
    # Mail a rep writes to a customer: the customer's answer goes to the rep, not to the server's address.
    reply_to = models.EmailField(_("reply to"), blank=True, default="")
    # Extra headers (Message-ID, In-Reply-To, References of a ticket's e-mail thread).
    headers = models.JSONField(_("headers"), blank=True, default=dict)
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("body"))
    template = models.CharField(_("template"), max_length=100, blank=True)
    language = models.CharField(_("language"), max_length=10, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=MailStatus.choices, default=MailStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("outgoing mail")
        verbose_name_plural = _("mail outbox")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outbox_due_idx"),
            models.Index(fields=["-created_at", "-id"], name="outbox_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {self.to}"

    @property
    def recipients(self) -> list[str]:
        return [a for a in (line.strip() for line in self.to.splitlines()) if a]

    @property
    def is_stranded(self) -> bool:
        """Queued for longer than a delivery takes: its task was lost (the periodic job picks it up)."""
        return (
            self.status == MailStatus.QUEUED
            and self.next_attempt_at is not None
            and self.next_attempt_at <= timezone.now() - MAIL_QUEUED_GRACE
        )

    @property
    def may_retry(self) -> bool:
        return self.status == MailStatus.FAILED or self.is_stranded

    @property
    def failure_reason(self) -> str:
        """What the last error means, in words (the error itself is the server's own text)."""
        error = self.last_error
        if not error:
            return ""
        if error[:1] == "5":
            return _("The mail server refused the mail.")
        if error[:1] == "4":
            return _("The mail server asked to try again later.")
        if error.split(":", 1)[0] in {
            "ConnectionRefusedError",
            "TimeoutError",
            "gaierror",
            "SMTPServerDisconnected",
            "OSError",
            "ConnectionResetError",
            "SSLError",
        }:
            return _("The mail server could not be reached.")
        return _("Sending failed.")

    @property
    def gave_up(self) -> bool:
        return self.status == MailStatus.FAILED and self.next_attempt_at is None

    @property
    def cc_recipients(self) -> list[str]:
        return [a for a in (line.strip() for line in self.cc.splitlines()) if a]


class OutboxAttachment(models.Model):
    """A file sent with an outbox mail (a quote's PDF), kept in the database with the mail so any
    worker can send it and a retry sends the same bytes; deleted with the mail."""

    mail = models.ForeignKey(OutboxMail, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("content type"), max_length=100)
    content = models.BinaryField(_("content"))
    size = models.PositiveIntegerField(_("size"), default=0)

    class Meta:
        verbose_name = _("mail attachment")
        verbose_name_plural = _("mail attachments")

    def __str__(self) -> str:
        return self.filename


class TaskLease(models.Model):
    """Which process runs a background task now (one row while it runs, kehu.core.lost_tasks).

    A worker killed in the middle (kill -9, out of memory, a power cut) leaves its task "running"
    for ever in the task table; this row tells whether that process still lives: on the same
    machine by its process id and start time, elsewhere by a heartbeat it refreshes."""

    task_id = models.UUIDField(primary_key=True)
    task_path = models.CharField(max_length=200)
    host = models.CharField(max_length=255)
    boot_id = models.CharField(max_length=64, blank=True)
    pid = models.PositiveIntegerField()
    process_started = models.CharField(max_length=32, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    beat_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.task_path} on {self.host}:{self.pid}"
