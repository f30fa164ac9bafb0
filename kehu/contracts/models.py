"""Contracts (合同, CON-1/CON-2): what was signed with a customer, its stages, amendments and rollups.

Amounts are tax included, in `Decimal` to the fen (`kehu.core.money`). A contract's `amount` is
the amount in force: the signed amount changed by effective amendments (补充协议), each of which
keeps what it changed. The rollups (ordered … received) are written by the apps above through
`services.contract_rollups_set`, in the same transaction as the change that moves them.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.core.models import SoftDeletable, TimeStamped, Versioned

ZERO = Decimal("0")
PERCENT = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))]


class ContractStage(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PENDING = "pending", _("Pending approval")
    SIGNED = "signed", _("Signed")
    PERFORMING = "performing", _("In performance")
    COMPLETED = "completed", _("Completed")
    TERMINATED = "terminated", _("Terminated")
    VOID = "void", _("Void")


# Signed and in performance: the contract is in force (the pool's "signed contract" rule).
IN_FORCE = (ContractStage.SIGNED, ContractStage.PERFORMING)
CLOSED = (ContractStage.COMPLETED, ContractStage.TERMINATED, ContractStage.VOID)


class DocumentLanguage(models.TextChoices):
    CHINESE = "zh-hans", _("Chinese")
    ENGLISH = "en", _("English")


class ContractTemplate(TimeStamped):
    """A contract text with merge fields, kept by administrators; rendered to PDF and .docx."""

    name = models.CharField(_("name"), max_length=100)
    language = models.CharField(
        _("language"), max_length=8, choices=DocumentLanguage.choices, default=DocumentLanguage.CHINESE
    )
    body = models.TextField(_("text"), help_text=_("Merge fields in double braces, e.g. {{ customer.name }}."))
    is_default = models.BooleanField(_("default"), default=False)
    is_active = models.BooleanField(_("in use"), default=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("contract template")
        verbose_name_plural = _("contract templates")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class Contract(TimeStamped, SoftDeletable, Versioned):
    number = models.CharField(_("number"), max_length=30, unique=True)
    title = models.CharField(_("title"), max_length=200)
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="contracts"
    )
    opportunity = models.ForeignKey(
        "sales.Opportunity",
        verbose_name=_("opportunity"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contracts",
    )
    quote = models.ForeignKey(
        "quotes.Quote",
        verbose_name=_("quote"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contracts",
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("customer's signatory"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The responsible person (负责人); visibility follows them like any owner.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("responsible person"),
        on_delete=models.PROTECT,
        related_name="contracts",
    )
    stage = models.CharField(_("stage"), max_length=12, choices=ContractStage.choices, default=ContractStage.DRAFT)
    template = models.ForeignKey(
        ContractTemplate,
        verbose_name=_("template"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    language = models.CharField(
        _("document language"), max_length=8, choices=DocumentLanguage.choices, default=DocumentLanguage.CHINESE
    )
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    signed_amount = models.DecimalField(_("signed amount"), max_digits=16, decimal_places=2, default=ZERO)
    amount = models.DecimalField(_("amount in force"), max_digits=16, decimal_places=2, default=ZERO)
    payment_terms = models.TextField(_("payment terms"), blank=True)
    delivery_terms = models.TextField(_("delivery terms"), blank=True)
    other_terms = models.TextField(_("other terms"), blank=True)
    starts_on = models.DateField(_("start date"), null=True, blank=True)
    ends_on = models.DateField(_("end date"), null=True, blank=True)
    signed_on = models.DateField(_("signing date"), null=True, blank=True)
    our_signatory = models.CharField(_("our signatory"), max_length=100, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    line_count = models.PositiveIntegerField(_("lines"), default=0)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    close_reason = models.TextField(_("reason for closing"), blank=True)
    # Rollups (kept current by the apps above, see the module docstring).
    ordered_amount = models.DecimalField(_("ordered"), max_digits=16, decimal_places=2, default=ZERO)
    delivered_amount = models.DecimalField(_("delivered"), max_digits=16, decimal_places=2, default=ZERO)
    invoiced_amount = models.DecimalField(_("invoiced"), max_digits=16, decimal_places=2, default=ZERO)
    received_amount = models.DecimalField(_("received"), max_digits=16, decimal_places=2, default=ZERO)
    plans_count = models.PositiveIntegerField(_("payment plans"), default=0)
    plans_done = models.PositiveIntegerField(_("payment plans paid"), default=0)
    expiry_reminded_on = models.DateField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        indexes = [
            models.Index(fields=["updated_at"], name="contracts_updated"),
            models.Index(fields=["owner", "updated_at"], name="contracts_owner_updated"),
            models.Index(fields=["customer", "updated_at"], name="contracts_customer_updated"),
            models.Index(fields=["stage", "ends_on"], name="contracts_stage_ends"),
            models.Index(fields=["quote"], name="contracts_quote"),
        ]
        permissions = [
            ("approve_contract", "Can approve contracts"),
            ("manage_contract_templates", "Can edit contract templates"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def outstanding_amount(self) -> Decimal:
        """Not yet received of the amount in force (never below zero)."""
        return max(self.amount - self.received_amount, ZERO)

    @property
    def received_percent(self) -> Decimal:
        if not self.amount:
            return ZERO
        return (self.received_amount * 100 / self.amount).quantize(Decimal("0.1"))

    @property
    def is_in_force(self) -> bool:
        return self.stage in IN_FORCE


class ContractLine(models.Model):
    """A product line of the contract; names, unit, price and tax copied when it was written."""

    contract = models.ForeignKey(Contract, verbose_name=_("contract"), on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(_("line"))
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
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=4)
    discount = models.DecimalField(_("discount (%)"), max_digits=5, decimal_places=2, default=ZERO, validators=PERCENT)
    tax_rate = models.DecimalField(_("tax rate (%)"), max_digits=5, decimal_places=2)
    amount = models.DecimalField(_("amount with tax"), max_digits=16, decimal_places=2)
    amount_net = models.DecimalField(_("amount without tax"), max_digits=16, decimal_places=2)
    tax = models.DecimalField(_("tax"), max_digits=16, decimal_places=2)

    class Meta:
        verbose_name = _("contract line")
        verbose_name_plural = _("contract lines")
        ordering = ["contract_id", "position"]
        indexes = [models.Index(fields=["contract", "position"], name="contracts_line_position")]

    def __str__(self) -> str:
        return f"{self.contract_id}#{self.position} {self.code}"


class AmendmentState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PENDING = "pending", _("Pending approval")
    EFFECTIVE = "effective", _("In effect")
    VOID = "void", _("Void")


class ContractAmendment(TimeStamped):
    """补充协议: changes the amount, the terms or the end date, keeping what was there before."""

    contract = models.ForeignKey(
        Contract, verbose_name=_("contract"), on_delete=models.CASCADE, related_name="amendments"
    )
    sequence = models.PositiveSmallIntegerField(_("amendment no."))
    state = models.CharField(_("state"), max_length=10, choices=AmendmentState.choices, default=AmendmentState.DRAFT)
    summary = models.TextField(_("what changes and why"))
    signed_on = models.DateField(_("signing date"), null=True, blank=True)
    amount_before = models.DecimalField(_("amount before"), max_digits=16, decimal_places=2)
    amount_after = models.DecimalField(_("amount after"), max_digits=16, decimal_places=2)
    payment_terms_before = models.TextField(blank=True)
    payment_terms_after = models.TextField(_("payment terms after"), blank=True)
    other_terms_before = models.TextField(blank=True)
    other_terms_after = models.TextField(_("other terms after"), blank=True)
    ends_on_before = models.DateField(null=True, blank=True)
    ends_on_after = models.DateField(_("end date after"), null=True, blank=True)
    effective_at = models.DateTimeField(_("in effect since"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("contract amendment")
        verbose_name_plural = _("contract amendments")
        ordering = ["contract_id", "sequence"]
        constraints = [models.UniqueConstraint(fields=["contract", "sequence"], name="contracts_amendment_sequence")]

    def __str__(self) -> str:
        return f"{self.contract_id}/{self.sequence}"


class ContractAttachment(models.Model):
    """A file kept with a contract: the signed scan, an annex."""

    contract = models.ForeignKey(
        Contract, verbose_name=_("contract"), on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(_("file"), upload_to="contracts/%Y/%m/")
    name = models.CharField(_("name"), max_length=200)
    size = models.PositiveIntegerField(_("size"), default=0)
    is_signed_copy = models.BooleanField(_("signed copy"), default=False)
    uploaded_at = models.DateTimeField(default=timezone.now)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("contract attachment")
        verbose_name_plural = _("contract attachments")

    def __str__(self) -> str:
        return self.name


class ContractSettings(models.Model):
    """One row: when to remind of expiry and when contracts need approval."""

    remind_days_before_end = models.PositiveSmallIntegerField(
        _("remind this many days before the end date"), default=30
    )
    approval_above = models.DecimalField(
        _("contracts above this amount need approval (CNY)"),
        max_digits=16,
        decimal_places=2,
        default=ZERO,
        help_text=_("0: every contract is approved before signing."),
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("contract settings")
        verbose_name_plural = _("contract settings")

    def __str__(self) -> str:
        return "contract settings"

    @classmethod
    def current(cls) -> "ContractSettings":
        return cls.objects.order_by("pk").first() or cls()
