"""Invoices (发票, SAL-5 CON-2): the customer's invoice titles (抬头), invoice requests and issued
invoices, and red-letter reversals (红冲).

An invoice goes draft → pending approval → approved → issued; an issued invoice is never edited or
deleted: it is reversed by a red-letter invoice (`is_red`, negative amounts, `reverses` pointing at
the original), and both stay. Invoiced amounts roll up to the orders and contracts they bill.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.core.models import SoftDeletable, TimeStamped, Versioned

ZERO = Decimal("0")
PERCENT = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))]


class TitleKind(models.TextChoices):
    COMPANY = "company", _("Company")
    PERSON = "person", _("Person")


class InvoiceTitle(TimeStamped, SoftDeletable):
    """抬头: whom an invoice is made out to. A customer keeps several; one is the default."""

    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.CASCADE, related_name="invoice_titles"
    )
    kind = models.CharField(_("made out to"), max_length=8, choices=TitleKind.choices, default=TitleKind.COMPANY)
    name = models.CharField(_("title"), max_length=200)
    tax_number = models.CharField(
        _("taxpayer number (税号)"),
        max_length=20,
        blank=True,
        help_text=_("The 18-character unified social credit code; required for a company."),
    )
    bank_name = models.CharField(_("bank"), max_length=100, blank=True)
    bank_account = models.CharField(_("bank account"), max_length=40, blank=True)
    address = models.CharField(_("registered address"), max_length=200, blank=True)
    phone = models.CharField(_("registered phone"), max_length=40, blank=True)
    is_default = models.BooleanField(_("default"), default=False)

    class Meta:
        verbose_name = _("invoice title")
        verbose_name_plural = _("invoice titles")
        ordering = ["customer_id", "-is_default", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=models.Q(is_default=True, deleted_at__isnull=True),
                name="invoices_title_one_default",
            )
        ]

    def __str__(self) -> str:
        return self.name


class InvoiceState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PENDING = "pending", _("Pending approval")
    APPROVED = "approved", _("Approved, to be issued")
    ISSUED = "issued", _("Issued")
    REVERSED = "reversed", _("Reversed (红冲)")
    CANCELLED = "cancelled", _("Cancelled")


class InvoiceType(models.TextChoices):
    SPECIAL = "special", _("Special VAT invoice (专票)")
    ORDINARY = "ordinary", _("Ordinary VAT invoice (普票)")


class Invoice(TimeStamped, SoftDeletable, Versioned):
    """An invoice request and, once issued, the invoice (a red-letter one when `is_red`)."""

    number = models.CharField(_("request number"), max_length=30, unique=True)
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="invoices"
    )
    order = models.ForeignKey(
        "orders.Order",
        verbose_name=_("order"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoices",
    )
    contract = models.ForeignKey(
        "contracts.Contract",
        verbose_name=_("contract"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoices",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.PROTECT, related_name="invoices"
    )
    state = models.CharField(_("state"), max_length=10, choices=InvoiceState.choices, default=InvoiceState.DRAFT)
    invoice_type = models.CharField(
        _("invoice type"), max_length=10, choices=InvoiceType.choices, default=InvoiceType.SPECIAL
    )
    title = models.ForeignKey(
        InvoiceTitle,
        verbose_name=_("invoice title"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The title as it was on the invoice (a later edit of the title changes no issued invoice).
    title_name = models.CharField(_("title"), max_length=200)
    tax_number = models.CharField(_("taxpayer number (税号)"), max_length=20, blank=True)
    bank_name = models.CharField(_("bank"), max_length=100, blank=True)
    bank_account = models.CharField(_("bank account"), max_length=40, blank=True)
    address = models.CharField(_("registered address"), max_length=200, blank=True)
    phone = models.CharField(_("registered phone"), max_length=40, blank=True)
    amount = models.DecimalField(_("amount with tax"), max_digits=16, decimal_places=2, default=ZERO)
    amount_net = models.DecimalField(_("amount without tax"), max_digits=16, decimal_places=2, default=ZERO)
    tax = models.DecimalField(_("tax"), max_digits=16, decimal_places=2, default=ZERO)
    line_count = models.PositiveIntegerField(_("lines"), default=0)
    notes = models.TextField(_("notes"), blank=True)
    invoice_number = models.CharField(_("invoice number"), max_length=40, blank=True)
    issued_on = models.DateField(_("invoice date"), null=True, blank=True)
    logistics_number = models.CharField(_("logistics number"), max_length=60, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    is_red = models.BooleanField(_("red-letter invoice"), default=False)
    reverses = models.OneToOneField(
        "self", verbose_name=_("reverses"), null=True, blank=True, on_delete=models.PROTECT, related_name="reversal"
    )
    reversal_reason = models.TextField(_("reason for the reversal"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        indexes = [
            models.Index(fields=["updated_at"], name="invoices_updated"),
            models.Index(fields=["owner", "updated_at"], name="invoices_owner_updated"),
            models.Index(fields=["customer", "issued_on"], name="invoices_customer_issued"),
            models.Index(fields=["order"], name="invoices_order"),
            models.Index(fields=["contract"], name="invoices_contract"),
            models.Index(fields=["state", "updated_at"], name="invoices_state_updated"),
        ]
        permissions = [
            ("request_invoice", "Can request invoices"),
            ("approve_invoice", "Can approve invoice requests"),
            ("issue_invoice", "Can issue and reverse invoices"),
        ]

    def __str__(self) -> str:
        return self.invoice_number or self.number


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, verbose_name=_("invoice"), on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(_("line"))
    order_line = models.ForeignKey(
        "orders.OrderLine",
        verbose_name=_("order line"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    product = models.ForeignKey(
        "catalog.Product",
        verbose_name=_("product"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    specification = models.ForeignKey(
        "catalog.Specification",
        verbose_name=_("specification"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    name = models.CharField(_("goods or service"), max_length=200)
    specification_name = models.CharField(_("specification / model"), max_length=200, blank=True)
    unit = models.CharField(_("unit"), max_length=10, blank=True)
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=3)
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=4)
    tax_rate = models.DecimalField(_("tax rate (%)"), max_digits=5, decimal_places=2, validators=PERCENT)
    amount = models.DecimalField(_("amount with tax"), max_digits=16, decimal_places=2)
    amount_net = models.DecimalField(_("amount without tax"), max_digits=16, decimal_places=2)
    tax = models.DecimalField(_("tax"), max_digits=16, decimal_places=2)

    class Meta:
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")
        ordering = ["invoice_id", "position"]
        indexes = [models.Index(fields=["invoice", "position"], name="invoices_line_position")]

    def __str__(self) -> str:
        return f"{self.invoice_id}#{self.position} {self.name}"
