"""The customer information form (客户信息档案, CUS-3), its steps, the routing of new customers
by region (经营属地), and the working-day calendar the deadlines are counted in."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.core.models import TimeStamped, Versioned, validate_sane_year
from kehu.customers.models import Industry, Source


class CalendarDay(models.Model):
    """An exception to the Monday–Friday week: a public holiday on a weekday (节假日), or a
    make-up working day on a weekend (调休). Every other day follows the weekday."""

    day = models.DateField(_("day"), unique=True, validators=[validate_sane_year])
    is_working_day = models.BooleanField(_("working day"))
    name = models.CharField(_("name"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("working-day calendar")
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.day} {self.name}"


class InfoFormStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    FILED = "filed", _("Waiting for approval")
    RETURNED = "returned", _("Returned for correction")
    APPROVED = "approved", _("Waiting for archiving")
    ARCHIVED = "archived", _("Archived")


class InfoForm(TimeStamped, Versioned):
    """One customer information form: filled by a rep from what they collected, approved or
    returned by their manager, archived by marketing's archivist (档案员)."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("collected by"), on_delete=models.PROTECT, related_name="info_forms"
    )
    status = models.CharField(_("status"), max_length=10, choices=InfoFormStatus.choices, default=InfoFormStatus.DRAFT)
    # About an existing customer, or (null) a new one: approval then links or creates it.
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="info_forms",
    )
    name = models.CharField(_("customer name"), max_length=200)
    industry = models.CharField(_("industry"), max_length=20, choices=Industry.choices, blank=True)
    region = models.CharField(_("region"), max_length=50, help_text=_("Province or sales territory (经营属地)."))
    city = models.CharField(_("city"), max_length=50, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    contact_name = models.CharField(_("contact person"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("email"), blank=True)
    credit_code = models.CharField(_("unified social credit code"), max_length=18, blank=True)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    content = models.TextField(_("information collected"), blank=True)
    collected_on = models.DateField(_("collected on"), validators=[validate_sane_year])
    filing_deadline = models.DateField(_("enter by"), editable=False)
    filed_at = models.DateTimeField(_("first filed at"), null=True, blank=True, editable=False)
    filed_late = models.BooleanField(_("filed late"), default=False, editable=False)
    # The last day the current step may take; null once archived. Overdue = due_on < today.
    due_on = models.DateField(_("current step due"), null=True, blank=True, editable=False)
    return_reason = models.TextField(_("reason for return"), blank=True, editable=False)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    archived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    class Meta:
        verbose_name = _("customer information form")
        verbose_name_plural = _("customer information forms")
        permissions = [
            ("file_form", "Can file customer information forms"),
            ("approve_form", "Can approve or return customer information forms"),
            ("archive_form", "Can archive approved customer information forms"),
        ]
        indexes = [
            models.Index(fields=["owner", "-updated_at", "-id"], name="infoform_owner_idx"),
            models.Index(fields=["status", "-updated_at", "-id"], name="infoform_status_idx"),
            models.Index(fields=["-updated_at", "-id"], name="infoform_updated_idx"),
            models.Index(fields=["status", "due_on"], name="infoform_due_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_overdue(self) -> bool:
        return self.due_on is not None and self.due_on < timezone.localdate()


class InfoFormStep(models.Model):
    """One step of a form's history: who moved it from which status to which, when, and why."""

    form = models.ForeignKey(InfoForm, on_delete=models.CASCADE, related_name="steps")
    from_status = models.CharField(max_length=10, choices=InfoFormStatus.choices, blank=True)
    to_status = models.CharField(max_length=10, choices=InfoFormStatus.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True)

    class Meta:
        verbose_name = _("information form step")
        verbose_name_plural = _("information form steps")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status}"


class RegionRoute(models.Model):
    """New customers of a region (经营属地) go to this rep (CUS-1)."""

    region = models.CharField(_("region"), max_length=50, unique=True)
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("rep"), on_delete=models.PROTECT, related_name="region_routes"
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("region route")
        verbose_name_plural = _("region routes")
        ordering = ["region"]

    def __str__(self) -> str:
        return f"{self.region} → {self.rep}"
