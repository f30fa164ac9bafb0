"""Quotes (报价单, SAL-3/SAL-4): lines copy the resolved price at the time of the quote.

Amounts: prices are tax included (含税). Each line's amount is rounded to the fen
(`quantity × price × (1 − discount)`), its amount without tax is `amount / (1 + rate)` rounded
to the fen and its tax the difference; a quote's totals are sums of its rounded lines
(`kehu.quotes.money`). A revision is a new row with the same number and the next revision
number; the earlier one becomes `superseded` and stays readable.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.core.models import SoftDeletable, TimeStamped, Versioned

PERCENT = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))]
ZERO = Decimal("0")


class QuoteState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PENDING = "pending", _("Pending approval")
    APPROVED = "approved", _("Approved")
    SENT = "sent", _("Sent")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    EXPIRED = "expired", _("Expired")
    SUPERSEDED = "superseded", _("Replaced by a revision")


OPEN_STATES = (QuoteState.DRAFT, QuoteState.PENDING, QuoteState.APPROVED, QuoteState.SENT)


class DocumentLanguage(models.TextChoices):
    CHINESE = "zh-hans", _("Chinese")
    ENGLISH = "en", _("English")


class Quote(TimeStamped, SoftDeletable, Versioned):
    number = models.CharField(_("number"), max_length=30)
    revision = models.PositiveSmallIntegerField(_("revision"), default=1)
    previous = models.OneToOneField(
        "self", verbose_name=_("revises"), null=True, blank=True, on_delete=models.PROTECT, related_name="next"
    )
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="quotes"
    )
    opportunity = models.ForeignKey(
        "sales.Opportunity",
        verbose_name=_("opportunity"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="quotes",
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="quotes"
    )
    state = models.CharField(_("state"), max_length=12, choices=QuoteState.choices, default=QuoteState.DRAFT)
    title = models.CharField(_("title"), max_length=200, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    language = models.CharField(
        _("document language"), max_length=8, choices=DocumentLanguage.choices, default=DocumentLanguage.CHINESE
    )
    quoted_on = models.DateField(_("quote date"), default=timezone.localdate)
    valid_until = models.DateField(_("valid until"))
    payment_terms = models.TextField(_("payment terms"), blank=True)
    delivery_terms = models.TextField(_("delivery terms"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    line_count = models.PositiveIntegerField(_("lines"), default=0)
    total_net = models.DecimalField(_("total without tax"), max_digits=16, decimal_places=2, default=ZERO)
    total_tax = models.DecimalField(_("tax"), max_digits=16, decimal_places=2, default=ZERO)
    total = models.DecimalField(_("total with tax"), max_digits=16, decimal_places=2, default=ZERO)
    # What approval looks at, kept current by the line services.
    max_discount = models.DecimalField(_("largest discount (%)"), max_digits=5, decimal_places=2, default=ZERO)
    below_floor = models.BooleanField(_("below a floor price"), default=False)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    decided_at = models.DateTimeField(_("accepted / rejected at"), null=True, blank=True)
    decision_note = models.TextField(_("customer's answer"), blank=True)
    expiry_reminded_on = models.DateField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        constraints = [models.UniqueConstraint(fields=["number", "revision"], name="quotes_quote_number_revision")]
        indexes = [
            models.Index(fields=["updated_at"], name="quotes_quote_updated"),
            models.Index(fields=["owner", "updated_at"], name="quotes_quote_owner_updated"),
            models.Index(fields=["customer", "updated_at"], name="quotes_quote_customer_updated"),
            models.Index(fields=["opportunity"], name="quotes_quote_opportunity"),
            models.Index(fields=["state", "valid_until"], name="quotes_quote_state_valid"),
            models.Index(fields=["state", "updated_at"], name="quotes_quote_state_updated"),
            # A rep's live quotes, newest first, and their capped count read from the index alone.
            models.Index(
                fields=["owner", "updated_at"],
                condition=models.Q(deleted_at__isnull=True),
                name="quotes_quote_owner_live",
            ),
        ]
        permissions = [("approve_quote", "Can approve quotes")]

    def __str__(self) -> str:
        return f"{self.number}-{self.revision}" if self.revision > 1 else self.number

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class QuoteLine(models.Model):
    """One line; product, code, names, unit, price and tax copied when the line was priced."""

    quote = models.ForeignKey(Quote, verbose_name=_("quote"), on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(_("line"))
    # Denormalised from the quote: the customer's price history reads lines by customer and product.
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(
        "catalog.Product", verbose_name=_("product"), on_delete=models.PROTECT, related_name="+"
    )
    specification = models.ForeignKey(
        "catalog.Specification", verbose_name=_("specification"), on_delete=models.PROTECT, related_name="+"
    )
    code = models.CharField(_("code"), max_length=60)
    name = models.CharField(_("product"), max_length=200)
    specification_name = models.CharField(_("specification / model"), max_length=200, blank=True)
    unit = models.CharField(_("unit"), max_length=10)
    quantity = models.DecimalField(
        _("quantity"), max_digits=14, decimal_places=3, validators=[MinValueValidator(Decimal("0.001"))]
    )
    list_price = models.DecimalField(_("list price"), max_digits=14, decimal_places=4, null=True, blank=True)
    base_price = models.DecimalField(_("book price"), max_digits=14, decimal_places=4)
    price_source = models.CharField(_("price from"), max_length=200, blank=True)
    price_list = models.ForeignKey(
        "catalog.PriceList", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    discount = models.DecimalField(_("discount (%)"), max_digits=5, decimal_places=2, default=ZERO, validators=PERCENT)
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=4)
    floor_price = models.DecimalField(_("floor price"), max_digits=14, decimal_places=4, null=True, blank=True)
    tax_rate = models.DecimalField(_("tax rate (%)"), max_digits=5, decimal_places=2)
    amount = models.DecimalField(_("amount with tax"), max_digits=16, decimal_places=2)
    amount_net = models.DecimalField(_("amount without tax"), max_digits=16, decimal_places=2)
    tax = models.DecimalField(_("tax"), max_digits=16, decimal_places=2)
    notes = models.CharField(_("notes"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("quote line")
        verbose_name_plural = _("quote lines")
        ordering = ["quote_id", "position"]
        indexes = [
            models.Index(fields=["quote", "position"], name="quotes_line_position"),
            models.Index(fields=["customer", "product"], name="quotes_line_customer_product"),
            models.Index(fields=["product"], name="quotes_line_product"),
        ]

    def __str__(self) -> str:
        return f"{self.quote_id}#{self.position} {self.code}"


class ShareLink(models.Model):
    """A customer-facing link to a quote's document; only the token's hash is stored."""

    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="share_links")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    view_count = models.PositiveIntegerField(_("views"), default=0)
    last_viewed_at = models.DateTimeField(_("last viewed"), null=True, blank=True)

    class Meta:
        verbose_name = _("share link")
        verbose_name_plural = _("share links")

    def __str__(self) -> str:
        return f"share link of quote {self.quote_id}"


class DocumentTemplate(models.Model):
    """The words around a quote's lines, one row per document language, edited by administrators."""

    language = models.CharField(_("language"), max_length=8, choices=DocumentLanguage.choices, unique=True)
    company_name = models.CharField(_("company name"), max_length=200, blank=True)
    letterhead = models.TextField(_("letterhead (address, phone, bank account)"), blank=True)
    logo = models.ImageField(_("logo"), upload_to="quotes/", blank=True)
    introduction = models.TextField(_("introduction"), blank=True)
    terms = models.TextField(_("terms"), blank=True)
    signature_block = models.TextField(_("signature block"), blank=True)
    footer = models.CharField(_("footer"), max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("quote document template")
        verbose_name_plural = _("quote document templates")

    def __str__(self) -> str:
        return self.get_language_display()


class AffinityScope(models.TextChoices):
    """Whose quotes a product pair was counted over: everyone's, or similar customers' only."""

    ALL = "", _("all customers")
    INDUSTRY = "industry", _("industry")
    SEGMENT = "segment", _("segment")
    CHANNEL = "channel", _("channel level")


class ProductAffinity(models.Model):
    """Cross-sell (SAL-10): products quoted together, precomputed nightly by `kehu.quotes.affinity`.

    For each product the few `other` products most often on the same quotes: over all quotes
    (`scope` ""), and over the accepted quotes of customers of one industry, segment or channel
    level (`scope` "industry", `value` "machinery"). `quotes` counts the quotes holding both,
    `customers` the distinct customers of those quotes.
    """

    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="+")
    other = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=10, choices=AffinityScope.choices, blank=True, default="")
    value = models.CharField(max_length=20, blank=True, default="")
    quotes = models.PositiveIntegerField(default=0)
    customers = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("product affinity")
        verbose_name_plural = _("product affinities")
        indexes = [models.Index(fields=["product", "scope", "value"], name="quotes_affinity_product")]

    def __str__(self) -> str:
        return f"{self.product_id}→{self.other_id} {self.scope}:{self.value} ({self.quotes})"


class PriceConflictNotice(models.Model):
    """Two open quotes to one customer with different prices whose owners were told (once per pair,
    again only when the prices differ otherwise): `quote` is the lower id of the pair."""

    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="+")
    other = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="+")
    fingerprint = models.CharField(max_length=64)
    told_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["quote", "other"], name="quotes_conflict_pair")]

    def __str__(self) -> str:
        return f"{self.quote_id}↔{self.other_id}"
