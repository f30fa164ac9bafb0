"""Leads (线索, SAL-1): a prospect not yet in the customer archive, with its source, owner, status,
first-response SLA and a score that says why. Also the assignment rules, the SLA rules and the
learned scoring model (coefficients stored as JSON, never pickles)."""

from datetime import time

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.core.models import SoftDeletable, TimeStamped, Versioned
from kehu.customers.models import Industry


class LeadSource(models.TextChoices):
    MANUAL = "manual", _("Manual entry")
    WEB_INQUIRY = "web_inquiry", _("Web inquiry")
    IMPORT = "import", _("Import")
    TRADE_SHOW = "trade_show", _("Trade show")
    REFERRAL = "referral", _("Referral")
    OTHER = "other", _("Other")


class SizeBand(models.TextChoices):
    UNKNOWN = "", _("Unknown")
    MICRO = "micro", _("Under 20 employees")
    SMALL = "small", _("20–99 employees")
    MEDIUM = "medium", _("100–999 employees")
    LARGE = "large", _("1,000 employees or more")


class LeadStatus(models.TextChoices):
    NEW = "new", _("New")
    CONTACTED = "contacted", _("Contacted")
    QUALIFIED = "qualified", _("Qualified")
    DISQUALIFIED = "disqualified", _("Disqualified")
    CONVERTED = "converted", _("Converted")


OPEN_STATUSES = (LeadStatus.NEW, LeadStatus.CONTACTED, LeadStatus.QUALIFIED)


class DisqualifyReason(models.TextChoices):
    NO_NEED = "no_need", _("No need")
    NO_BUDGET = "no_budget", _("No budget")
    UNREACHABLE = "unreachable", _("Unreachable")
    COMPETITOR = "competitor", _("Bought from a competitor")
    SPAM = "spam", _("Spam or not a real company")
    DUPLICATE = "duplicate", _("Duplicate")
    OTHER = "other", _("Other")


class Lead(TimeStamped, SoftDeletable, Versioned):
    company_name = models.CharField(_("company name"), max_length=200)
    contact_name = models.CharField(_("contact name"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("email"), blank=True)
    region = models.CharField(_("region"), max_length=50, blank=True)
    industry = models.CharField(_("industry"), max_length=20, choices=Industry.choices, blank=True)
    size_band = models.CharField(_("company size"), max_length=10, choices=SizeBand.choices, blank=True)
    source = models.CharField(_("source"), max_length=20, choices=LeadSource.choices, default=LeadSource.MANUAL)
    message = models.TextField(_("message"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="leads",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    status = models.CharField(_("status"), max_length=20, choices=LeadStatus.choices, default=LeadStatus.NEW)
    disqualify_reason = models.CharField(
        _("reason for disqualifying"), max_length=20, choices=DisqualifyReason.choices, blank=True
    )
    disqualify_note = models.CharField(_("note on disqualifying"), max_length=300, blank=True)
    first_responded_at = models.DateTimeField(_("first responded at"), null=True, blank=True)
    sla_due_at = models.DateTimeField(_("first response due"), null=True, blank=True)
    sla_escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True, editable=False)
    score = models.IntegerField(_("score"), default=0)
    score_reasons = models.JSONField(_("score reasons"), default=list, blank=True)
    converted_at = models.DateTimeField(_("converted at"), null=True, blank=True, editable=False)
    converted_customer_id = models.IntegerField(null=True, blank=True, editable=False)
    converted_contact_id = models.IntegerField(null=True, blank=True, editable=False)
    converted_opportunity_id = models.IntegerField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        permissions = [
            ("convert_lead", _("Can convert leads")),
            ("assign_lead", _("Can assign leads")),
            ("manage_rules", _("Can manage lead rules")),
            ("import_leads", _("Can import leads")),
        ]
        indexes = [
            models.Index(fields=["-score", "-id"], name="lead_by_score", condition=models.Q(deleted_at__isnull=True)),
            models.Index(
                fields=["sla_due_at"], name="lead_by_sla", condition=models.Q(first_responded_at__isnull=True)
            ),
            # A rep's list: counted from the index alone, and sorted by score along the second.
            models.Index(fields=["owner", "status", "deleted_at"], name="lead_owner_status"),
            # A repeat web inquiry finds the open lead it belongs to.
            models.Index(fields=["phone"], name="lead_phone"),
            models.Index(Lower("email"), name="lead_email"),
            models.Index(
                fields=["owner", "-score", "-id"], name="lead_owner_score", condition=models.Q(deleted_at__isnull=True)
            ),
        ]

    def __str__(self) -> str:
        return self.company_name

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def top_reason_text(self) -> str:
        from kehu.leads.scoring import reason_text

        return reason_text(self.score_reasons[0]) if self.score_reasons else ""

    @property
    def is_overdue(self) -> bool:
        return (
            self.first_responded_at is None
            and self.sla_due_at is not None
            and self.sla_due_at < timezone.now()
            and self.is_open
        )


class LeadEventKind(models.TextChoices):
    CREATED = "created", _("Lead created")
    CHANGED = "changed", _("Lead changed")
    ASSIGNED = "assigned", _("Lead assigned")
    RESPONDED = "responded", _("First response")
    STATUS = "status", _("Status changed")
    NOTE = "note", _("Note")
    ESCALATED = "escalated", _("First response overdue: manager notified")
    CONVERTED = "converted", _("Converted")
    INQUIRED = "inquired", _("Inquired again")


class LeadEvent(models.Model):
    """The lead's own history; handed over to the customer's timeline on conversion."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=LeadEventKind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    summary = models.CharField(max_length=300, blank=True)
    # What the line says in codes (statuses, a source, field names), put into words when it is read,
    # in the reader's language: {"from": "new", "to": "contacted"}, {"source": …}, {"fields": […]}.
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["lead", "at"], name="leadevent_lead_at")]

    def __str__(self) -> str:
        return f"{self.kind} {self.summary}"


class AssignmentRule(models.Model):
    """New leads of `region` (empty: any region no rule names) go round-robin to the rules' users."""

    region = models.CharField(_("region"), max_length=50, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("assign to"), on_delete=models.CASCADE)
    last_assigned_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("assignment rule")
        verbose_name_plural = _("assignment rules")
        ordering = ["region", "id"]
        constraints = [models.UniqueConstraint(fields=["region", "user"], name="lead_rule_region_user")]

    def __str__(self) -> str:
        return f"{self.region or '*'} → {self.user}"


class SlaRule(models.Model):
    """First-response time limit (首次响应时限) for leads of one source, in working hours."""

    source = models.CharField(_("source"), max_length=20, choices=LeadSource.choices, unique=True)
    hours = models.PositiveIntegerField(_("working hours to first response"))

    class Meta:
        verbose_name = _("first-response rule")
        verbose_name_plural = _("first-response rules")
        ordering = ["source"]

    def __str__(self) -> str:
        return f"{self.source}: {self.hours}"


class LeadSettings(models.Model):
    """One row: working hours for the SLA clock, and when the learned score starts."""

    work_start = models.TimeField(_("working day starts"), default=time(9, 0))
    work_end = models.TimeField(_("working day ends"), default=time(18, 0))
    default_sla_hours = models.PositiveIntegerField(_("default first-response time (working hours)"), default=8)
    min_closed_for_learning = models.PositiveIntegerField(
        _("converted and disqualified leads needed (each) before the learned score"), default=20
    )

    class Meta:
        verbose_name = _("lead settings")
        verbose_name_plural = _("lead settings")

    def __str__(self) -> str:
        return f"{self.work_start}–{self.work_end}"

    @classmethod
    def current(cls) -> "LeadSettings":
        return cls.objects.order_by("pk").first() or cls()


class ScoringModel(models.Model):
    """A logistic regression trained on the company's own closed leads: coefficients as JSON."""

    trained_at = models.DateTimeField(default=timezone.now)
    features = models.JSONField(default=list)
    coefficients = models.JSONField(default=list)
    intercept = models.FloatField(default=0.0)
    n_converted = models.PositiveIntegerField(default=0)
    n_disqualified = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-trained_at", "-id"]

    def __str__(self) -> str:
        return f"{self.trained_at:%Y-%m-%d %H:%M} ({self.n_converted}/{self.n_disqualified})"


class InquiryAttempt(models.Model):
    """One submission of the public inquiry form, for the per-address limit (kept a day)."""

    ip = models.GenericIPAddressField(unpack_ipv4=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["ip", "at"], name="inquiry_ip_at")]

    def __str__(self) -> str:
        return f"{self.ip} {self.at:%Y-%m-%d %H:%M}"
