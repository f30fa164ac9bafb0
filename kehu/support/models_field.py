"""Engineers as dispatch sees them (SRV-1): what each is skilled and certified for (a product or a
whole product category, a level, a certificate that counts only while valid), the regions they
cover (a province, or one city of it, written as customers' region and city are), whether they
are on leave, and their hourly labour rate (a visit's labour cost)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.core.models import TimeStamped

__all__ = ["EngineerProfile", "EngineerRegion", "EngineerSkill"]


class EngineerProfile(TimeStamped):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("engineer"), on_delete=models.CASCADE, related_name="engineer_profile"
    )
    on_leave = models.BooleanField(_("on leave"), default=False)
    leave_until = models.DateField(_("on leave until"), null=True, blank=True)
    hourly_rate = models.DecimalField(
        _("labour rate per hour (CNY)"), max_digits=10, decimal_places=2, default=0, validators=[MinValueValidator(0)]
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("engineer profile")
        verbose_name_plural = _("engineer profiles")

    def __str__(self) -> str:
        return str(self.user)


class EngineerRegion(models.Model):
    """A province the engineer covers, or (with a city) only that city of it."""

    profile = models.ForeignKey(EngineerProfile, on_delete=models.CASCADE, related_name="regions")
    province = models.CharField(_("province"), max_length=50)
    city = models.CharField(_("city"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("service region")
        verbose_name_plural = _("service regions")
        ordering = ["province", "city"]
        constraints = [
            models.UniqueConstraint(fields=["profile", "province", "city"], name="support_engineer_region_unique")
        ]

    def __str__(self) -> str:
        return f"{self.province} {self.city}".strip()


class EngineerSkill(models.Model):
    """Skill with a product, or with every product of a category; certified when it has a
    certificate number and its validity has not ended."""

    profile = models.ForeignKey(EngineerProfile, on_delete=models.CASCADE, related_name="skills")
    product = models.ForeignKey(
        "catalog.Product", verbose_name=_("product"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    category = models.ForeignKey(
        "catalog.Category",
        verbose_name=_("product category"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    level = models.PositiveSmallIntegerField(
        _("level (1–5)"), default=1, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    certificate_number = models.CharField(_("certificate number"), max_length=60, blank=True)
    valid_until = models.DateField(_("certificate valid until"), null=True, blank=True)

    class Meta:
        verbose_name = _("engineer skill")
        verbose_name_plural = _("engineer skills")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(product__isnull=False, category__isnull=True)
                | models.Q(product__isnull=True, category__isnull=False),
                name="support_skill_product_or_category",
            )
        ]

    def __str__(self) -> str:
        return f"{self.profile_id} {self.product_id or self.category_id} L{self.level}"

    def clean(self):
        if (self.product_id is None) == (self.category_id is None):
            raise ValidationError(_("Name either a product or a product category."))

    def certified_on(self, day) -> bool:
        return bool(self.certificate_number and (self.valid_until is None or day <= self.valid_until))
