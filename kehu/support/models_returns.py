"""Returns and exchanges (退换货, SRV-3): a return (RMA) of goods delivered on an order line, its
approval, receipt, inspection and remedy (repair, replacement, refund or repackaging), the stock
notes of the goods coming back and going out, and what it cost."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core.models import TimeStamped, Versioned

__all__ = ["Responsibility", "ReturnRemedy", "ReturnRequest", "ReturnState", "ReturnStateChange", "StockNote"]

ZERO = Decimal("0")


class ReturnRemedy(models.TextChoices):
    REPAIR = "repair", _("Repair")
    REPLACE = "replace", _("Replace")
    REFUND = "refund", _("Refund")
    REPACKAGE = "repackage", _("Repackage")


class ReturnState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PENDING = "pending", _("Pending approval")
    APPROVED = "approved", _("Approved")
    RECEIVED = "received", pgettext_lazy("return", "Received")
    INSPECTED = "inspected", _("Inspected")
    REMEDIED = "remedied", _("Remedied")
    CLOSED = "closed", _("Closed")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")


class Responsibility(models.TextChoices):
    COMPANY = "company", _("Our product or process")
    CUSTOMER = "customer", _("The customer's use")
    CARRIER = "carrier", _("Transport")
    SUPPLIER = "supplier", _("A supplier")
    UNKNOWN = "unknown", _("Not determined")


class ReturnRequest(TimeStamped, Versioned):
    """An RMA: goods of one order line coming back, and what is done about them."""

    number = models.CharField(_("number"), max_length=20, unique=True)
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="returns"
    )
    order_line = models.ForeignKey(
        "orders.OrderLine", verbose_name=_("order line"), on_delete=models.PROTECT, related_name="returns"
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
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=3)
    # The goods' value at the order's price (with tax): what the approval routes on.
    amount = models.DecimalField(_("value of the goods"), max_digits=16, decimal_places=2, default=ZERO)
    reason = models.TextField(_("reason"))
    remedy = models.CharField(_("requested remedy"), max_length=10, choices=ReturnRemedy.choices)
    state = models.CharField(_("state"), max_length=10, choices=ReturnState.choices, default=ReturnState.DRAFT)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    # Receipt (入库)
    received_on = models.DateField(_("received on"), null=True, blank=True)
    received_quantity = models.DecimalField(_("quantity received"), max_digits=14, decimal_places=3, null=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("received by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Inspection
    finding = models.TextField(_("finding"), blank=True)
    responsibility = models.CharField(_("responsibility"), max_length=10, choices=Responsibility.choices, blank=True)
    inspected_at = models.DateTimeField(_("inspected"), null=True, blank=True)
    inspected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("inspected by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Remedy
    remedy_note = models.TextField(_("what was done"), blank=True)
    refund_amount = models.DecimalField(_("refund amount"), max_digits=16, decimal_places=2, default=ZERO)
    replacement_shipped_on = models.DateField(_("replacement shipped on"), null=True, blank=True)
    remedied_at = models.DateTimeField(_("remedied"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # What it cost (the refund counts too, see `total_cost`).
    freight_cost = models.DecimalField(_("freight"), max_digits=12, decimal_places=2, default=ZERO)
    labour_cost = models.DecimalField(_("repair labour"), max_digits=12, decimal_places=2, default=ZERO)
    parts_cost = models.DecimalField(_("repair parts"), max_digits=12, decimal_places=2, default=ZERO)
    replacement_cost = models.DecimalField(_("replacement's cost"), max_digits=12, decimal_places=2, default=ZERO)

    COST_FIELDS = ("freight_cost", "labour_cost", "parts_cost", "replacement_cost", "refund_amount")

    class Meta:
        verbose_name = _("return (RMA)")
        verbose_name_plural = _("returns (RMA)")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["customer", "state"], name="support_rma_customer"),
            models.Index(fields=["state", "created_at"], name="support_rma_state"),
            models.Index(fields=["remedied_at"], name="support_rma_remedied"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def total_cost(self) -> Decimal:
        return sum((getattr(self, f) or ZERO for f in self.COST_FIELDS), ZERO)


class ReturnStateChange(models.Model):
    rma = models.ForeignKey(ReturnRequest, on_delete=models.CASCADE, related_name="state_changes")
    from_state = models.CharField(max_length=10, choices=ReturnState.choices, blank=True)
    to_state = models.CharField(max_length=10, choices=ReturnState.choices)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.rma_id}: {self.from_state} → {self.to_state}"


class StockNote(models.Model):
    """入库单 (goods received back) or 出库单 (a replacement sent out), printable."""

    class Kind(models.TextChoices):
        IN = "in", _("Goods received (入库单)")
        OUT = "out", _("Goods sent out (出库单)")

    number = models.CharField(_("number"), max_length=20, unique=True)
    rma = models.ForeignKey(ReturnRequest, verbose_name=_("return"), on_delete=models.PROTECT, related_name="notes")
    kind = models.CharField(_("kind"), max_length=3, choices=Kind.choices)
    day = models.DateField(_("date"))
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=3)
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("stock note")
        verbose_name_plural = _("stock notes")
        ordering = ["-day", "-pk"]

    def __str__(self) -> str:
        return self.number
