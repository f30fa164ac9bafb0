"""Dealer monthly plans (销售计划, SAL-6): what a dealer — or a sub-distributor (二批) or retailer
below it — plans to take in a month, by product and specification, the schedule and the support
the company promised; progress is read from orders and sell-through (`kehu.orders`).
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.core.models import SoftDeletable, TimeStamped, Versioned

ZERO = Decimal("0")


class PlanState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    AGREED = "agreed", _("Agreed")
    CLOSED = "closed", _("Closed")


class DealerPlan(TimeStamped, SoftDeletable, Versioned):
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("dealer"), on_delete=models.PROTECT, related_name="dealer_plans"
    )
    # For a sub-distributor's or retailer's plan: the dealer it buys from (its sales count as sell-through).
    upper = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("buys from"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="lower_plans",
    )
    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("sales rep"), on_delete=models.PROTECT, related_name="dealer_plans"
    )
    state = models.CharField(_("state"), max_length=8, choices=PlanState.choices, default=PlanState.DRAFT)
    target_amount = models.DecimalField(_("target amount"), max_digits=16, decimal_places=2, default=ZERO)
    schedule = models.TextField(_("schedule"), blank=True, help_text=_("When what is delivered, promoted, visited."))
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("dealer plan")
        verbose_name_plural = _("dealer plans")
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "month"],
                condition=models.Q(deleted_at__isnull=True),
                name="dealerplans_one_per_month",
            )
        ]
        indexes = [
            models.Index(fields=["month", "owner"], name="dealerplans_month_owner"),
            models.Index(fields=["owner", "updated_at"], name="dealerplans_owner_updated"),
            models.Index(fields=["upper", "month"], name="dealerplans_upper_month"),
        ]
        permissions = [
            ("set_plans", "Can agree and close dealer plans"),
            ("export_salesrecord", "Can export a dealer's sales record"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.month:%Y-%m}"


class DealerPlanLine(models.Model):
    """A target: a quantity (and its amount) of a product, or of one specification of it."""

    plan = models.ForeignKey(DealerPlan, on_delete=models.CASCADE, related_name="lines")
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
    quantity = models.DecimalField(
        _("quantity"), max_digits=14, decimal_places=3, validators=[MinValueValidator(Decimal("0"))]
    )
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2, default=ZERO)

    class Meta:
        verbose_name = _("plan line")
        verbose_name_plural = _("plan lines")
        constraints = [
            models.UniqueConstraint(fields=["plan", "product", "specification"], name="dealerplans_line_unique")
        ]

    def __str__(self) -> str:
        return f"{self.plan_id}: {self.product_id}/{self.specification_id} × {self.quantity}"


class SupportKind(models.TextChoices):
    PROMOTION = "promotion", _("Promotion")
    STAFF = "staff", _("Staff")
    VEHICLE = "vehicle", _("Vehicles")
    ADVERTISING = "advertising", _("Advertising")
    OTHER = "other", _("Other")


class PlanSupport(models.Model):
    """Support the company promised for the month (促销, 人员, 车辆 …) and whether it was given."""

    plan = models.ForeignKey(DealerPlan, on_delete=models.CASCADE, related_name="support")
    kind = models.CharField(_("kind"), max_length=12, choices=SupportKind.choices)
    description = models.CharField(_("what"), max_length=200)
    value = models.DecimalField(_("value (CNY)"), max_digits=14, decimal_places=2, null=True, blank=True)
    is_given = models.BooleanField(_("given"), default=False)

    class Meta:
        verbose_name = _("promised support")
        verbose_name_plural = _("promised support")

    def __str__(self) -> str:
        return self.description
