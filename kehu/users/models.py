"""Users, departments, invitations, API tokens and company settings (ACC)."""

import hashlib

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.users.roles import DataScope, Role, role_scope


class Department(models.Model):
    """A department or team; `path` ("/1/4/") makes "and sub-departments" a prefix match."""

    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    # The department head (部门负责人), for approvals routed to "the department head".
    head = models.ForeignKey(
        "User",
        verbose_name=_("department head"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="headed_departments",
    )

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name

    @property
    def depth(self) -> int:
        return self.path.count("/") - 2


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=32, choices=Role.choices, default=Role.SALES_REP)
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
    )
    manager = models.ForeignKey(
        "self",
        verbose_name=_("reports to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reports",
    )
    data_scope_override = models.CharField(
        _("data scope (overrides the role's)"),
        max_length=20,
        choices=DataScope.choices,
        blank=True,
    )
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, blank=True)

    # Audit keys beside the fields (kehu.core.audit_display).
    audit_labels = {"calendar_feed": _("calendar feed link")}
    audit_choices = {"calendar_feed": [("regenerated", _("replaced by a new link"))]}

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        full = f"{self.last_name}{self.first_name}".strip()
        return full or self.username

    @property
    def display_name(self) -> str:
        return str(self)

    @property
    def data_scope(self) -> str:
        if self.is_superuser:
            return DataScope.ALL
        return self.data_scope_override or role_scope(self.role)


class InvitationState(models.TextChoices):
    PENDING = "pending", _("pending")
    EXPIRED = "expired", _("expired")
    ACCEPTED = "accepted", _("used")
    REVOKED = "revoked", _("withdrawn")
    REPLACED = "replaced", _("replaced by a newer invitation")


class Invitation(models.Model):
    """An administrator invites staff by email; the link lets them set a password.

    The link's token is derived from `link_key` and the secret key (kehu.users.services), so an
    administrator can copy the link later while the table alone never reveals it; only its
    SHA-256 is looked up. Revoking, or inviting the same address again, ends the old link.
    """

    email = models.EmailField(_("email"))
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    department = models.ForeignKey(
        Department, verbose_name=_("department"), null=True, blank=True, on_delete=models.SET_NULL
    )
    manager = models.ForeignKey(
        User,
        verbose_name=_("reports to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    token_hash = models.CharField(max_length=64, unique=True)
    link_key = models.CharField(max_length=64, blank=True, editable=False)
    invited_by = models.ForeignKey(
        User, verbose_name=_("invited by"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("invited at"), default=timezone.now)
    last_sent_at = models.DateTimeField(_("last sent at"), null=True, blank=True)
    times_sent = models.PositiveSmallIntegerField(_("times sent"), default=1)
    expires_at = models.DateTimeField(_("expires at"))
    accepted_user = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    accepted_at = models.DateTimeField(_("used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        User, verbose_name=_("revoked by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    replaced_by = models.ForeignKey(
        "self", verbose_name=_("replaced by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["email"], name="invitation_email_idx")]

    def __str__(self) -> str:
        return self.email

    @property
    def state(self) -> str:
        if self.accepted_user_id is not None or self.accepted_at is not None:
            return InvitationState.ACCEPTED
        if self.replaced_by_id is not None:
            return InvitationState.REPLACED
        if self.revoked_at is not None:
            return InvitationState.REVOKED
        if self.expires_at <= timezone.now():
            return InvitationState.EXPIRED
        return InvitationState.PENDING

    def get_state_display(self) -> str:
        return InvitationState(self.state).label

    @property
    def is_usable(self) -> bool:
        return self.state == InvitationState.PENDING

    @property
    def is_open(self) -> bool:
        """Not used and not withdrawn: it may still be resent (an expired one gets a new week)."""
        return self.state in (InvitationState.PENDING, InvitationState.EXPIRED)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A bearer token for the API; only its SHA-256 is stored, so a leak of the table is useless."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100, blank=True)
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}…"


class CompanySettings(models.Model):
    """One row: the installation's company and its sign-up policy."""

    company_name = models.CharField(_("company name"), max_length=200, blank=True)
    is_set_up = models.BooleanField(default=False)
    allow_self_registration = models.BooleanField(
        _("allow self-registration (approved by an administrator)"), default=True
    )

    class Meta:
        verbose_name = _("company settings")
        verbose_name_plural = _("company settings")

    def __str__(self) -> str:
        return self.company_name or "Kehu"

    @classmethod
    def load(cls) -> "CompanySettings":
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj


class ResetOutcome(models.TextChoices):
    WAITING = "waiting", _("waiting")
    SENT = "sent", _("mail queued")
    UNKNOWN = "unknown", _("no active account with this email")
    ADDRESS_LIMIT = "address_limit", _("too many mails to this address")
    CLIENT_LIMIT = "client_limit", _("too many requests from this client")


class PasswordResetRequest(models.Model):
    """One "forgot password" request, for the limits per address and per client (kept a day).

    The page answers the same whatever the outcome; the worker decides (kehu.users.tasks)."""

    email = models.EmailField(max_length=254)
    ip = models.GenericIPAddressField(unpack_ipv4=True)
    at = models.DateTimeField(default=timezone.now)
    protocol = models.CharField(max_length=5, default="https")
    domain = models.CharField(max_length=255)
    outcome = models.CharField(max_length=16, choices=ResetOutcome.choices, default=ResetOutcome.WAITING)

    class Meta:
        indexes = [
            models.Index(fields=["email", "at"], name="reset_email_at"),
            models.Index(fields=["ip", "at"], name="reset_ip_at"),
        ]

    def __str__(self) -> str:
        return f"{self.email} {self.at:%Y-%m-%d %H:%M}"
