"""Products, their specifications, the price book and discount limits (SAL-4).

Every product has at least one specification (规格/型号); quotes and orders price and count
specifications. The price book is a set of price lists: the list price (one per specification,
with validity dates) and lists for channel levels, customer tiers and single customers, whose
items are fixed prices or a percentage of the list price, with quantity breaks.
How a price is chosen is written in `kehu.catalog.pricing`.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.core.models import SoftDeletable, TimeStamped, Versioned
from kehu.customers.models import ChannelLevel, Tier
from kehu.users.roles import Role

PERCENT = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))]
NOT_NEGATIVE = [MinValueValidator(Decimal("0"))]


class Category(models.Model):
    """A node of the product category tree; `path` is materialised ("0001/0004/") for subtree filters."""

    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("product category")
        verbose_name_plural = _("product categories")
        ordering = ["path"]
        constraints = [models.UniqueConstraint(fields=["parent", "name"], name="catalog_category_unique_name")]

    def __str__(self) -> str:
        return self.name


class ProductStatus(models.TextChoices):
    ACTIVE = "active", _("On sale")
    DRAFT = "draft", _("Not yet on sale")
    DISCONTINUED = "discontinued", _("Discontinued")


class TaxRate(models.TextChoices):
    """China's VAT rates (增值税税率) a product is usually sold at."""

    STANDARD = "13.00", _("13%")
    REDUCED = "9.00", _("9%")
    SERVICES = "6.00", _("6%")
    SMALL = "3.00", _("3%")
    ZERO = "0.00", _("0%")


UNIT_SUGGESTIONS = ("台", "套", "件", "个", "只", "箱", "吨", "kg", "m", "m²", "L", "pcs", "set")


class Product(TimeStamped, SoftDeletable, Versioned):
    code = models.CharField(_("product code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    category = models.ForeignKey(
        Category, verbose_name=_("category"), null=True, blank=True, on_delete=models.PROTECT, related_name="products"
    )
    unit = models.CharField(_("unit"), max_length=10, default="台")
    status = models.CharField(_("status"), max_length=12, choices=ProductStatus.choices, default=ProductStatus.ACTIVE)
    tax_rate = models.DecimalField(
        _("tax rate (%)"), max_digits=5, decimal_places=2, default=Decimal("13.00"), validators=PERCENT
    )
    cost = models.DecimalField(
        _("unit cost (CNY)"), max_digits=14, decimal_places=4, null=True, blank=True, validators=NOT_NEGATIVE
    )
    floor_price = models.DecimalField(
        _("floor price (CNY)"),
        max_digits=14,
        decimal_places=4,
        null=True,
        blank=True,
        validators=NOT_NEGATIVE,
        help_text=_("No quote below this price without the approval of the roles named in the pricing settings."),
    )
    description = models.TextField(_("description"), blank=True)
    image = models.ImageField(_("image"), upload_to="products/", blank=True)
    # Code, name and specification names, lower-cased, for the inline search on quote lines.
    search_text = models.TextField(blank=True, default="", editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        indexes = [
            models.Index(fields=["updated_at"], name="catalog_product_updated"),
            models.Index(fields=["category", "code"], name="catalog_product_category"),
        ]
        permissions = [
            ("manage_catalog", "Can edit products, price lists and discount limits"),
            ("export_product", "Can export products with costs and prices"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Specification(TimeStamped):
    """A sellable variant of a product (规格/型号); `code` is what people paste into a quote."""

    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.CASCADE, related_name="specifications"
    )
    code = models.CharField(_("specification code"), max_length=60, unique=True)
    name = models.CharField(_("specification / model"), max_length=200)
    position = models.PositiveIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("specification")
        verbose_name_plural = _("specifications")
        ordering = ["product_id", "position", "id"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class PriceListKind(models.TextChoices):
    """Also the order of precedence, most specific first (see kehu.catalog.pricing)."""

    CUSTOMER = "customer", _("Single customer")
    CHANNEL = "channel", _("Channel level")
    TIER = "tier", _("Customer tier")
    LIST = "list", _("List price")


class PriceList(TimeStamped, Versioned):
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("applies to"), max_length=10, choices=PriceListKind.choices)
    channel_level = models.CharField(
        _("channel level"), max_length=20, choices=ChannelLevel.choices, blank=True, default=""
    )
    tier = models.CharField(_("tier"), max_length=10, choices=Tier.choices, blank=True, default="")
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="price_lists",
    )
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("price list")
        verbose_name_plural = _("price lists")
        indexes = [
            models.Index(fields=["kind", "channel_level", "tier", "valid_from"], name="catalog_pricelist_applies"),
            models.Index(fields=["customer", "valid_from"], name="catalog_pricelist_customer"),
        ]

    def __str__(self) -> str:
        return self.name


class PriceItem(models.Model):
    """A price in a list: for one specification, or for every specification of a product
    (`specification` empty); fixed, or a percentage of the list price; from `min_quantity` up."""

    price_list = models.ForeignKey(
        PriceList, verbose_name=_("price list"), on_delete=models.CASCADE, related_name="items"
    )
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.CASCADE, related_name="+")
    specification = models.ForeignKey(
        Specification,
        verbose_name=_("specification"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    min_quantity = models.DecimalField(
        _("from quantity"), max_digits=14, decimal_places=3, default=Decimal("1"), validators=NOT_NEGATIVE
    )
    price = models.DecimalField(
        _("price (CNY, tax included)"), max_digits=14, decimal_places=4, null=True, blank=True, validators=NOT_NEGATIVE
    )
    percent_of_list = models.DecimalField(
        _("% of the list price"),
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1000"))],
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)

    class Meta:
        verbose_name = _("price")
        verbose_name_plural = _("prices")
        indexes = [
            models.Index(fields=["product", "price_list"], name="catalog_priceitem_product"),
            models.Index(fields=["price_list", "product"], name="catalog_priceitem_list"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(price__isnull=False, percent_of_list__isnull=True))
                | (models.Q(price__isnull=True, percent_of_list__isnull=False)),
                name="catalog_priceitem_fixed_or_percent",
            )
        ]

    def __str__(self) -> str:
        return f"{self.price_list_id}/{self.product_id}/{self.specification_id or '*'} ≥{self.min_quantity}"


class DiscountLimit(models.Model):
    """The largest discount off the resolved price a role may give without approval."""

    role = models.CharField(_("role"), max_length=32, choices=Role.choices, unique=True)
    max_discount = models.DecimalField(_("largest discount (%)"), max_digits=5, decimal_places=2, validators=PERCENT)

    class Meta:
        verbose_name = _("discount limit")
        verbose_name_plural = _("discount limits")
        ordering = ["max_discount"]

    def __str__(self) -> str:
        return f"{self.role} {self.max_discount}%"


class PricingSettings(models.Model):
    """One row: who may approve a price below a product's floor."""

    floor_approver_roles = models.JSONField(_("roles that may approve prices below the floor"), default=list)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("pricing settings")
        verbose_name_plural = _("pricing settings")

    def __str__(self) -> str:
        return "pricing settings"

    @classmethod
    def load(cls) -> "PricingSettings":
        obj, _created = cls.objects.get_or_create(pk=1, defaults={"floor_approver_roles": [Role.GENERAL_MANAGER]})
        return obj
