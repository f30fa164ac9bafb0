"""Opportunities (SAL-2): pipelines and their stages are data, an opportunity moves through
stages one door at a time (services.opportunity_move), every move is kept as a StageChange.
Targets and forecast aggregates (SAL-11) live here too."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core.models import SoftDeletable, TimeStamped, Versioned

PERCENT = [MinValueValidator(0), MaxValueValidator(100)]


class Pipeline(TimeStamped):
    name = models.CharField(_("name"), max_length=100, unique=True)
    code = models.SlugField(_("code"), max_length=40, unique=True)
    is_default = models.BooleanField(_("default pipeline"), default=False)
    # A deactivated pipeline keeps its deals but takes no new ones and leaves the board's menu.
    is_active = models.BooleanField(_("active"), default=True)

    audit_labels = {"stage order": _("order of the stages")}

    class Meta:
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")
        ordering = ["-is_default", "name", "id"]

    def __str__(self) -> str:
        return self.name


class StageKind(models.TextChoices):
    # "Open" and "Lost" mean other things for suggestions and customers (待决定, 已流失).
    OPEN = "open", pgettext_lazy("deal", "Open")
    WON = "won", pgettext_lazy("deal", "Won")
    LOST = "lost", pgettext_lazy("deal", "Lost")


class Stage(models.Model):
    pipeline = models.ForeignKey(Pipeline, verbose_name=_("pipeline"), on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(_("name"), max_length=60)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    kind = models.CharField(_("kind"), max_length=4, choices=StageKind.choices, default=StageKind.OPEN)
    probability = models.PositiveSmallIntegerField(_("default probability (%)"), default=0, validators=PERCENT)
    # A deactivated stage keeps its deals and history but no deal may move into it.
    is_active = models.BooleanField(_("active"), default=True)

    audit_labels = {"deals moved": _("deals moved to another stage")}

    class Meta:
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        ordering = ["pipeline_id", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "name"], name="sales_stage_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_closed(self) -> bool:
        return self.kind != StageKind.OPEN

    @property
    def menu_label(self) -> str:
        """The name in stage menus; a won or lost stage says so unless its name already does."""
        kind = str(self.get_kind_display())
        if self.kind == StageKind.OPEN or kind in self.name:
            return self.name
        return _("%(name)s (%(kind)s)") % {"name": self.name, "kind": kind}


class Opportunity(TimeStamped, SoftDeletable, Versioned):
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="opportunities"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="opportunities"
    )
    pipeline = models.ForeignKey(Pipeline, verbose_name=_("pipeline"), on_delete=models.PROTECT, related_name="+")
    stage = models.ForeignKey(Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="opportunities")
    # Denormalised from the stage so the board, list and forecast filter on one table.
    status = models.CharField(_("status"), max_length=4, choices=StageKind.choices, default=StageKind.OPEN)
    name = models.CharField(_("name"), max_length=200)
    amount = models.DecimalField(
        _("amount (CNY)"), max_digits=14, decimal_places=2, default=Decimal("0"), validators=[MinValueValidator(0)]
    )
    probability = models.PositiveSmallIntegerField(_("probability (%)"), default=0, validators=PERCENT)
    expected_close_on = models.DateField(_("expected close date"), null=True, blank=True)
    products = models.TextField(_("products of interest"), blank=True)
    competitors = models.TextField(_("competitors"), blank=True)
    close_reason = models.TextField(_("won / lost reason"), blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    stage_entered_at = models.DateTimeField(_("in this stage since"), default=timezone.now)
    # The lead this came from (kehu.leads converts); no foreign key so sales does not depend on leads.
    source_lead_id = models.BigIntegerField(_("source lead"), null=True, blank=True, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        indexes = [
            # Board: open cards of one stage, biggest first.
            models.Index(fields=["stage", "-amount", "id"], name="opp_board_idx"),
            # Board: count and sum per column read from this index alone (no row lookups).
            models.Index(
                fields=["pipeline", "status", "stage", "owner", "amount", "deleted_at"], name="opp_board_sums_idx"
            ),
            models.Index(fields=["owner", "status", "-updated_at", "-id"], name="opp_owner_status_idx"),
            models.Index(fields=["-updated_at", "-id"], name="opp_updated_idx"),
            models.Index(fields=["status", "-amount", "id"], name="opp_status_amount_idx"),
            models.Index(fields=["customer", "status"], name="opp_customer_idx"),
            # Forecast: by month of expected / actual close. Amount and deleted_at make it covering for
            # the count and sum of open deals past their close date (read on every forecast page).
            models.Index(
                fields=["status", "expected_close_on", "owner", "amount", "deleted_at"], name="opp_forecast_cover_idx"
            ),
            models.Index(fields=["status", "closed_at", "owner"], name="opp_closed_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def weighted_amount(self) -> Decimal:
        return (self.amount * self.probability / Decimal(100)).quantize(Decimal("0.01"))


class StageChange(models.Model):
    opportunity = models.ForeignKey(
        Opportunity, verbose_name=_("opportunity"), on_delete=models.CASCADE, related_name="stage_changes"
    )
    from_stage = models.ForeignKey(
        Stage, verbose_name=_("from"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_stage = models.ForeignKey(Stage, verbose_name=_("to"), on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("at"), default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    time_in_previous = models.DurationField(_("time in previous stage"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["opportunity", "-at", "-id"], name="opp_stage_change_idx")]

    def __str__(self) -> str:
        return f"{self.from_stage} → {self.to_stage}"


class TargetLevel(models.TextChoices):
    COMPANY = "company", _("Company")
    DEPARTMENT = "department", _("Department")
    REP = "rep", _("Sales rep")


class TargetMetric(models.TextChoices):
    SALES = "sales", _("Sales")
    COLLECTIONS = "collections", _("Collections")


class Target(TimeStamped):
    """业绩目标: one month's amount for the company, a department or a rep (SAL-11)."""

    level = models.CharField(_("level"), max_length=10, choices=TargetLevel.choices)
    metric = models.CharField(_("metric"), max_length=12, choices=TargetMetric.choices, default=TargetMetric.SALES)
    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    department = models.ForeignKey(
        "users.Department", verbose_name=_("department"), null=True, blank=True, on_delete=models.CASCADE
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("sales rep"), null=True, blank=True, on_delete=models.CASCADE
    )
    amount = models.DecimalField(_("amount (CNY)"), max_digits=14, decimal_places=2, validators=[MinValueValidator(0)])
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        ordering = ["-month", "level", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["metric", "month"], condition=models.Q(level="company"), name="sales_target_company_unique"
            ),
            models.UniqueConstraint(
                fields=["metric", "month", "department"],
                condition=models.Q(level="department"),
                name="sales_target_department_unique",
            ),
            models.UniqueConstraint(
                fields=["metric", "month", "user"], condition=models.Q(level="rep"), name="sales_target_rep_unique"
            ),
        ]

    def __str__(self) -> str:
        who = self.user or self.department or self.get_level_display()
        return f"{who} · {self.month:%Y-%m} · {self.get_metric_display()}"


class ForecastRow(models.Model):
    """Per rep and month of expected close: sums kept by tasks.forecast_refresh (SAL-11)."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    month = models.DateField()
    pipeline_amount = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0"))
    weighted_amount = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0"))
    committed_amount = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0"))
    won_amount = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0"))
    open_count = models.PositiveIntegerField(default=0)
    refreshed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "month"], name="sales_forecast_row_unique")]
        indexes = [models.Index(fields=["month", "owner"], name="sales_forecast_month_idx")]

    def __str__(self) -> str:
        return f"{self.owner_id} {self.month:%Y-%m}"
