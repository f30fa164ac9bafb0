"""Complaints (投诉, SRV-2), the way the seeds' complaint desk handles them: registration with the
order number, part number (料号), quantity and ship date and the customer's own words; the handling
notice (投诉处理通知) naming the responsible department and a deadline; the investigation (cause,
responsibility); corrective and preventive action (CAPA); the result fed back to the customer; the
follow-up call with the customer's satisfaction. Each step has an owner and a deadline in working
days and records when it was done (on time or late).

The statistics report (投诉统计报表) groups complaints by cause, product, responsible department,
customer and period: those are columns of the complaint itself (the product and department copied
onto it), indexed with the registration day, so a year's report is a few grouped queries."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.core.models import TimeStamped, Versioned

__all__ = [
    "COMPLAINT_OPEN_STATES",
    "Complaint",
    "ComplaintCategory",
    "ComplaintCause",
    "ComplaintResponsibility",
    "ComplaintSeverity",
    "ComplaintState",
    "ComplaintStep",
    "ComplaintStepKind",
]


class ComplaintState(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    NOTICE_ISSUED = "notice_issued", _("Handling notice issued")
    INVESTIGATING = "investigating", _("Investigating")
    ACTION = "action", _("Corrective action")
    FEEDBACK = "feedback", _("Feedback to the customer")
    FOLLOW_UP = "follow_up", _("Follow-up call")
    CLOSED = "closed", _("Closed")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


COMPLAINT_OPEN_STATES = frozenset(
    {
        ComplaintState.REGISTERED,
        ComplaintState.NOTICE_ISSUED,
        ComplaintState.INVESTIGATING,
        ComplaintState.ACTION,
        ComplaintState.FEEDBACK,
        ComplaintState.FOLLOW_UP,
    }
)


class ComplaintStepKind(models.TextChoices):
    NOTICE = "notice", _("Handling notice")
    INVESTIGATION = "investigation", _("Investigation")
    ACTION = "action", _("Corrective and preventive action")
    FEEDBACK = "feedback", _("Feedback to the customer")
    FOLLOW_UP = "follow_up", _("Follow-up call")


class ComplaintCategory(models.TextChoices):
    """What the customer complains about (at registration)."""

    QUALITY = "quality", _("Product quality")
    DELIVERY = "delivery", _("Delivery (late, wrong, short)")
    PACKAGING = "packaging", _("Packaging and damage")
    SERVICE = "service", _("Service and attitude")
    DOCUMENTS = "documents", _("Documents and invoices")
    OTHER = "other", _("Other")


class ComplaintCause(models.TextChoices):
    """What the investigation found (the report's "by cause")."""

    DESIGN = "design", _("Design")
    MATERIAL = "material", _("Material or purchased part")
    MANUFACTURING = "manufacturing", _("Manufacturing or assembly")
    INSPECTION = "inspection", _("Missed at inspection")
    PACKAGING = "packaging", _("Packaging")
    TRANSPORT = "transport", _("Transport")
    INSTALLATION = "installation", _("Installation")
    MISUSE = "misuse", _("Customer's misuse")
    ORDER_HANDLING = "order_handling", _("Order handling or delivery date")
    SERVICE = "service", _("Service")
    NONE_FOUND = "none_found", _("No defect found")
    OTHER = "other", _("Other")


class ComplaintResponsibility(models.TextChoices):
    OURS = "ours", _("Our fault")
    MISUSE = "misuse", _("Customer's misuse")
    SUPPLIER = "supplier", _("Supplier")
    TRANSPORT = "transport", _("Transport")
    NOT_ESTABLISHED = "not_established", _("Not established")


class ComplaintSeverity(models.TextChoices):
    CRITICAL = "critical", _("Critical")
    MAJOR = "major", _("Major")
    MINOR = "minor", _("Minor")


class Complaint(TimeStamped, Versioned):
    number = models.CharField(_("number"), max_length=20, unique=True)
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="complaints")
    contact = models.ForeignKey(
        "customers.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="complaints"
    )
    # What it is about: the order (number typed when it is not in Kehu), the part (料号) and how many.
    order = models.ForeignKey(
        "orders.Order", verbose_name=_("order"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    order_line = models.ForeignKey(
        "orders.OrderLine",
        verbose_name=_("order line"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    order_number = models.CharField(_("order number"), max_length=40, blank=True)
    product = models.ForeignKey(
        "catalog.Product", verbose_name=_("product"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    specification = models.ForeignKey(
        "catalog.Specification",
        verbose_name=_("specification"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    part_number = models.CharField(_("part number (料号)"), max_length=60, blank=True)
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=3, null=True, blank=True)
    shipped_on = models.DateField(_("ship date"), null=True, blank=True)
    customer_words = models.TextField(_("the customer's words"))
    category = models.CharField(_("category"), max_length=20, choices=ComplaintCategory.choices)
    severity = models.CharField(
        _("severity"), max_length=10, choices=ComplaintSeverity.choices, default=ComplaintSeverity.MAJOR
    )
    ticket = models.ForeignKey(
        "support.Ticket", verbose_name=_("ticket"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    unit = models.ForeignKey(
        "support.InstalledUnit",
        verbose_name=_("installed unit"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    state = models.CharField(
        _("state"), max_length=20, choices=ComplaintState.choices, default=ComplaintState.REGISTERED
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("complaint manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    registered_on = models.DateField(_("registered on"))
    # The deadline of the step now open (the list's "overdue" filter); None when closed.
    due_on = models.DateField(_("step due"), null=True, blank=True)
    # The handling notice (投诉处理通知).
    department = models.ForeignKey(
        "users.Department",
        verbose_name=_("responsible department"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    notice_text = models.TextField(_("what the department must do"), blank=True)
    notice_deadline = models.DateField(_("deadline for the department"), null=True, blank=True)
    notice_issued_at = models.DateTimeField(_("notice issued"), null=True, blank=True)
    # The investigation.
    cause = models.CharField(_("cause"), max_length=20, choices=ComplaintCause.choices, blank=True)
    responsibility = models.CharField(
        _("responsibility"), max_length=20, choices=ComplaintResponsibility.choices, blank=True
    )
    findings = models.TextField(_("findings"), blank=True)
    # Corrective and preventive action (CAPA).
    corrective_action = models.TextField(_("corrective action"), blank=True)
    preventive_action = models.TextField(_("preventive action"), blank=True)
    # What the customer was told.
    feedback_text = models.TextField(_("what the customer was told"), blank=True)
    feedback_on = models.DateField(_("told on"), null=True, blank=True)
    # The follow-up call.
    satisfaction = models.PositiveSmallIntegerField(
        _("satisfaction (1–5)"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    follow_up_comment = models.TextField(_("the customer's comment"), blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    close_reason = models.CharField(_("reason"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        permissions = [
            ("manage_complaint", _("Can handle any complaint: owners, deadlines, every step")),
            ("export_complaint_report", _("Can export the complaint statistics report")),
        ]
        indexes = [
            models.Index(fields=["customer", "state"], name="support_complaint_customer"),
            models.Index(fields=["state", "due_on"], name="support_complaint_due"),
            models.Index(fields=["owner", "state"], name="support_complaint_owner"),
            # The statistics report: each grouping reads its own covering index, the grouped column first
            # (SQLite skips through its few values, or reads it whole for customers, without sorting).
            models.Index(fields=["registered_on"], name="support_complaint_registered"),
            models.Index(fields=["cause", "registered_on"], name="support_complaint_r_cause"),
            models.Index(fields=["category", "registered_on"], name="support_complaint_r_category"),
            models.Index(fields=["department", "registered_on"], name="support_complaint_r_dept"),
            models.Index(fields=["product", "registered_on"], name="support_complaint_r_product"),
            models.Index(fields=["customer", "registered_on"], name="support_complaint_r_customer"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.state in COMPLAINT_OPEN_STATES


class ComplaintStep(models.Model):
    """One step of a complaint: who owns it, by when (a working day), and when it was done."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="steps")
    kind = models.CharField(_("step"), max_length=20, choices=ComplaintStepKind.choices)
    position = models.PositiveSmallIntegerField()
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), null=True, blank=True, on_delete=models.SET_NULL
    )
    working_days = models.PositiveSmallIntegerField(_("working days"))
    due_on = models.DateField(_("due"))
    # Set by hand: kept when the step begins (otherwise counted from that day in working days).
    due_fixed = models.BooleanField(default=False)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(_("done"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_late = models.BooleanField(_("late"), default=False)
    overdue_told_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("complaint step")
        verbose_name_plural = _("complaint steps")
        ordering = ["complaint", "position"]
        constraints = [models.UniqueConstraint(fields=["complaint", "kind"], name="support_step_complaint_kind")]
        indexes = [
            models.Index(fields=["completed_at", "due_on"], name="support_step_due"),
            models.Index(fields=["owner", "completed_at"], name="support_step_owner"),
        ]

    def __str__(self) -> str:
        return f"{self.complaint_id} {self.kind}"
