"""Users, departments, invitations, API tokens and company settings (ACC)."""

import hashlib

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.users.roles import DataScope, Role, role_permissions, role_scope


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

    def has_perm(self, perm, obj=None) -> bool:
        """From the role alone, as `RoleBackend` answers: Django's own asks each configured backend
        in turn, importing it by name, on every one of the ~150 checks a page makes."""
        if not self.is_active:
            return False
        return self.is_superuser or perm in role_permissions(self.role)

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


class TwoFactorPolicy(models.TextChoices):
    ADMINISTRATORS = "administrators", _("Administrators")
    EVERYONE = "everyone", _("Everyone")
    NOBODY = "nobody", _("Nobody (each person may still switch it on)")


class CompanySettings(models.Model):
    """One row: the installation's company and its sign-up and sign-in policy."""

    company_name = models.CharField(_("company name"), max_length=200, blank=True)
    is_set_up = models.BooleanField(default=False)
    allow_self_registration = models.BooleanField(
        _("allow self-registration (approved by an administrator)"), default=True
    )
    two_factor_policy = models.CharField(
        _("require two-factor sign-in for"),
        max_length=16,
        choices=TwoFactorPolicy.choices,
        default=TwoFactorPolicy.ADMINISTRATORS,
        help_text=_(
            "Who must confirm each sign-in with a code from an authenticator app. People it applies to "
            "who have not set it up are asked to, right after their password, before anything else."
        ),
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


class TwoFactor(models.Model):
    """A person's authenticator app (TOTP, RFC 6238): on once `confirmed_at` is set by a first right code.

    `last_step` is the time step of the last code accepted, so no code works twice; wrong codes are
    counted here (not in the browser's session), and enough of them pause the code step for a while.
    The secret must be readable to check codes, so it is stored as is: it is as sensitive as the
    database itself, and useless without the password (the code step comes after it).
    """

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="two_factor")
    secret = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_step = models.BigIntegerField(default=0)
    failures = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("two-factor sign-in")
        verbose_name_plural = _("two-factor sign-ins")

    def __str__(self) -> str:
        return str(self.user)

    @property
    def is_on(self) -> bool:
        return self.confirmed_at is not None


class RecoveryCode(models.Model):
    """One of ten single-use codes for when the phone is lost; only a keyed hash is kept."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="recovery_codes")
    code_hash = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "code_hash"], name="recovery_code_unique")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.code_hash[:8]}"


class SignInResult(models.TextChoices):
    SIGNED_IN = "signed_in", _("signed in")
    FAILED = "failed", _("wrong password")
    LOCKED_OUT = "locked_out", _("locked out after failures")
    CODE_FAILED = "code_failed", _("wrong two-factor code")
    CODE_LOCKED = "code_locked", _("two-factor step paused after wrong codes")
    SIGNED_OUT = "signed_out", _("signed out")
    TIMED_OUT = "timed_out", _("signed out after inactivity")
    TWO_FACTOR_ON = "two_factor_on", _("two-factor sign-in switched on")
    TWO_FACTOR_OFF = "two_factor_off", _("two-factor sign-in switched off")


class SignInMethod(models.TextChoices):
    NONE = "", "—"
    PASSWORD = "password", _("password")
    CODE = "code", _("password and authenticator code")
    RECOVERY = "recovery", _("password and recovery code")
    API = "api", _("password, for an API token")


class SignInEvent(models.Model):
    """A sign-in, a failed one, a sign-out, a lockout or a two-factor step, with where it came from.

    Kept apart from the audit trail: most rows have no record behind them (a username that does
    not exist), they carry the address and browser, and there are many of them."""

    at = models.DateTimeField(_("at"), default=timezone.now)
    user = models.ForeignKey(
        User, verbose_name=_("user"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(_("username tried"), max_length=150, blank=True)
    result = models.CharField(_("result"), max_length=16, choices=SignInResult.choices)
    method = models.CharField(_("how"), max_length=10, choices=SignInMethod.choices, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True, unpack_ipv4=True)
    user_agent = models.CharField(_("browser"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("sign-in event")
        verbose_name_plural = _("sign-in log")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["user", "-id"], name="signin_user_idx"),
            models.Index(fields=["result", "-id"], name="signin_result_idx"),
            models.Index(fields=["at"], name="signin_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_result_display()} {self.username} {self.at:%Y-%m-%d %H:%M}"
