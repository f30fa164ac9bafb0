"""Base models every domain builds on, and the audit trail (ACC-4)."""

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
