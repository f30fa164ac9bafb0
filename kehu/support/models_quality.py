"""Service quality (SRV-5): daily inspection records with their defects, improvement actions with
owners and deadlines, the daily quality-anomaly report (质量异常分析日报表) kept per day, and the
settings of quality and service economics (SRV-6)."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.core.models import TimeStamped

__all__ = [
    "ActionSource",
    "ActionState",
    "DailyQualityReport",
    "DefectType",
    "ImprovementAction",
    "Inspection",
    "InspectionDefect",
    "QualitySettings",
]


class QualitySettings(models.Model):
    """One row: who receives the daily report, when a defect rate is an anomaly, and the figures
    service economics counts with."""

    recipients = models.TextField(_("daily report recipients"), blank=True, help_text=_("One e-mail address a line."))
    defect_rate_threshold = models.DecimalField(
        _("defect rate above which an inspection is an anomaly (%)"), max_digits=5, decimal_places=2, default=2
    )
    report_hour = models.PositiveSmallIntegerField(_("report made from this hour of the morning"), default=7)
    hourly_rate = models.DecimalField(
        _("engineer's hourly rate (CNY)"), max_digits=10, decimal_places=2, default=Decimal("120")
    )
    retained_months = models.PositiveSmallIntegerField(_("service counts for this many months"), default=12)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("quality settings")
        verbose_name_plural = _("quality settings")
        permissions = [
            ("manage_quality", _("Can set the quality report's recipients and thresholds")),
            ("view_service_economics", _("Can see service economics")),
            ("export_service_economics", _("Can export service economics")),
        ]

    def __str__(self) -> str:
        return "quality settings"

    @classmethod
    def load(cls) -> "QualitySettings":
        found = cls.objects.order_by("pk").first()
        return found if found is not None else cls.objects.create()

    @property
    def recipient_list(self) -> list[str]:
        return [line.strip() for line in self.recipients.splitlines() if line.strip()]


class DefectType(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("defect type")
        verbose_name_plural = _("defect types")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Inspection(TimeStamped):
    """检验记录: one lot inspected on a day."""

    inspected_on = models.DateField(_("date"))
    product = models.ForeignKey(
        "catalog.Product", verbose_name=_("product"), on_delete=models.PROTECT, related_name="+"
    )
    specification = models.ForeignKey(
        "catalog.Specification",
        verbose_name=_("specification"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    batch = models.CharField(_("batch"), max_length=60, blank=True)
    inspected_quantity = models.PositiveIntegerField(_("inspected quantity"))
    defect_quantity = models.PositiveIntegerField(_("defects"), default=0)  # the sum of the defect rows
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("inspector"), on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("inspection")
        verbose_name_plural = _("inspections")
        ordering = ["-inspected_on", "-pk"]
        indexes = [models.Index(fields=["inspected_on"], name="support_inspection_day")]

    def __str__(self) -> str:
        return f"{self.inspected_on} {self.product_id} {self.batch}".strip()

    @property
    def defect_rate(self) -> Decimal:
        if not self.inspected_quantity:
            return Decimal("0")
        return (Decimal(self.defect_quantity) * 100 / self.inspected_quantity).quantize(Decimal("0.01"))


class InspectionDefect(models.Model):
    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="defects")
    defect_type = models.ForeignKey(
        DefectType, verbose_name=_("defect type"), on_delete=models.PROTECT, related_name="+"
    )
    quantity = models.PositiveIntegerField(_("quantity"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["inspection", "defect_type"], name="support_defect_once"),
        ]

    def __str__(self) -> str:
        return f"{self.inspection_id} {self.defect_type_id} × {self.quantity}"


class ActionSource(models.TextChoices):
    COMPLAINT = "complaint", _("Complaint")
    TICKET = "ticket", _("Ticket")
    INSPECTION = "inspection", _("Inspection")
    RMA = "rma", _("Return (RMA)")
    OTHER = "other", _("Other")


class ActionState(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    VERIFIED = "verified", _("Verified")


class ImprovementAction(TimeStamped):
    """改善措施: what will be changed, by whom, by when; the source is a plain link by id."""

    source = models.CharField(_("source"), max_length=12, choices=ActionSource.choices, default=ActionSource.OTHER)
    source_id = models.PositiveBigIntegerField(_("source record"), null=True, blank=True)
    description = models.TextField(_("description"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+"
    )
    due_on = models.DateField(_("deadline"))
    state = models.CharField(_("state"), max_length=10, choices=ActionState.choices, default=ActionState.OPEN)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    verified_at = models.DateTimeField(_("verified"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("improvement action")
        verbose_name_plural = _("improvement actions")
        ordering = ["due_on", "pk"]
        indexes = [models.Index(fields=["state", "due_on"], name="support_action_due")]

    def __str__(self) -> str:
        return self.description[:60]


class DailyQualityReport(models.Model):
    """质量异常分析日报表 of one day, as generated (past days stay readable as they were)."""

    day = models.DateField(_("day"), unique=True)
    data = models.JSONField(default=dict)
    generated_at = models.DateTimeField(_("generated"))
    mailed_to = models.TextField(_("mailed to"), blank=True)
    mail_id = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("daily quality report")
        verbose_name_plural = _("daily quality reports")
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"{self.day}"
