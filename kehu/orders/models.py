"""Orders and sales records (订单, 销售记录; SAL-5, SAL-9).

An order comes from a quote, a contract or nothing; its lines copy product, names, price and tax
at the time (amounts tax included, per line to the fen, `kehu.core.money`). Deliveries may be
partial. The money columns on an order (delivered, invoiced, received, owed) are rollups the
apps above keep current through `services.order_rollups_set`.

Sell-through (`SellThrough`): what a dealer sold on to its sub-distributors (二批) and retailers,
imported per month; with the orders it feeds the sales-record view and the dealer plans.
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


class OrderState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PENDING = "pending", _("Pending approval")
    CONFIRMED = "confirmed", _("Confirmed")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_STATES = (OrderState.DRAFT, OrderState.PENDING, OrderState.CONFIRMED)
# Orders that count: revenue, exposure, sales records, dealer plans.
BOOKED_STATES = (OrderState.CONFIRMED, OrderState.COMPLETED)


class DeliveryStatus(models.TextChoices):
    NONE = "none", _("Not delivered")
    PARTIAL = "partial", _("Partly delivered")
    FULL = "full", _("Delivered")


class SettlementStatus(models.TextChoices):
    UNPAID = "unpaid", _("Unpaid")
    PARTIAL = "partial", _("Partly paid")
    PAID = "paid", _("Paid")


class OrderSource(models.TextChoices):
    DIRECT = "direct", _("Entered directly")
    QUOTE = "quote", _("From a quote")
    CONTRACT = "contract", _("From a contract")
    IMPORT = "import", _("Imported")


class Order(TimeStamped, SoftDeletable, Versioned):
    number = models.CharField(_("number"), max_length=30, unique=True)
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="orders"
    )
    contract = models.ForeignKey(
        "contracts.Contract",
        verbose_name=_("contract"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    quote = models.ForeignKey(
        "quotes.Quote",
        verbose_name=_("quote"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    opportunity = models.ForeignKey(
        "sales.Opportunity",
        verbose_name=_("opportunity"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="orders"
    )
    source = models.CharField(_("source"), max_length=10, choices=OrderSource.choices, default=OrderSource.DIRECT)
    state = models.CharField(_("state"), max_length=12, choices=OrderState.choices, default=OrderState.DRAFT)
    ordered_on = models.DateField(_("order date"), default=timezone.localdate)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    delivery_address = models.TextField(_("delivery address"), blank=True)
    payment_terms = models.TextField(_("payment terms"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    external_reference = models.CharField(_("customer's order number"), max_length=60, blank=True)
    line_count = models.PositiveIntegerField(_("lines"), default=0)
    total_net = models.DecimalField(_("total without tax"), max_digits=16, decimal_places=2, default=ZERO)
    total_tax = models.DecimalField(_("tax"), max_digits=16, decimal_places=2, default=ZERO)
    total = models.DecimalField(_("total with tax"), max_digits=16, decimal_places=2, default=ZERO)
    # What price approval looks at (as on quotes), kept current by the line services.
    max_discount = models.DecimalField(_("largest discount (%)"), max_digits=5, decimal_places=2, default=ZERO)
    below_floor = models.BooleanField(_("below a floor price"), default=False)
    # Held for a credit-exception approval (CLS-4): the reasons, in the words of the check.
    credit_hold = models.BooleanField(_("held for credit"), default=False)
    credit_note = models.TextField(_("credit check"), blank=True)
    delivery_status = models.CharField(
        _("delivery"), max_length=8, choices=DeliveryStatus.choices, default=DeliveryStatus.NONE
    )
    settlement_status = models.CharField(
        _("settlement"), max_length=8, choices=SettlementStatus.choices, default=SettlementStatus.UNPAID
    )
    # Rollups: delivered here; invoiced and received by the apps above.
    delivered_amount = models.DecimalField(_("delivered"), max_digits=16, decimal_places=2, default=ZERO)
    invoiced_amount = models.DecimalField(_("invoiced"), max_digits=16, decimal_places=2, default=ZERO)
    received_amount = models.DecimalField(_("received"), max_digits=16, decimal_places=2, default=ZERO)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("completed / cancelled at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [
            models.Index(fields=["updated_at"], name="orders_updated"),
            models.Index(fields=["owner", "updated_at"], name="orders_owner_updated"),
            # Covers the customer statement's sums (state, deleted, total read from the index).
            models.Index(
                fields=["customer", "ordered_on", "state", "deleted_at", "total"], name="orders_customer_booked"
            ),
            models.Index(fields=["contract"], name="orders_contract"),
            models.Index(fields=["quote"], name="orders_quote"),
            models.Index(fields=["state", "ordered_on"], name="orders_state_ordered"),
        ]
        permissions = [
            ("approve_order", "Can approve orders"),
            ("deliver_order", "Can record deliveries"),
            ("import_orders", "Can import orders and sell-through"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def owed_amount(self) -> Decimal:
        """What the customer still owes on this order (never below zero)."""
        return max(self.total - self.received_amount, ZERO)

    @property
    def uninvoiced_amount(self) -> Decimal:
        return max(self.total - self.invoiced_amount, ZERO)

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class OrderLine(models.Model):
    """One line; product, code, names, unit, price and tax copied when the line was priced."""

    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(_("line"))
    # Denormalised from the order: price history, sales records and dealer plans read lines by
    # customer, product and month without touching the orders.
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+")
    ordered_on = models.DateField(_("order date"))
    is_booked = models.BooleanField(default=False)  # the order is confirmed or completed
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
    discount = models.DecimalField(_("discount (%)"), max_digits=5, decimal_places=2, default=ZERO, validators=PERCENT)
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=4)
    floor_price = models.DecimalField(_("floor price"), max_digits=14, decimal_places=4, null=True, blank=True)
    tax_rate = models.DecimalField(_("tax rate (%)"), max_digits=5, decimal_places=2)
    amount = models.DecimalField(_("amount with tax"), max_digits=16, decimal_places=2)
    amount_net = models.DecimalField(_("amount without tax"), max_digits=16, decimal_places=2)
    tax = models.DecimalField(_("tax"), max_digits=16, decimal_places=2)
    delivered_quantity = models.DecimalField(_("delivered"), max_digits=14, decimal_places=3, default=ZERO)
    invoiced_quantity = models.DecimalField(_("invoiced"), max_digits=14, decimal_places=3, default=ZERO)
    notes = models.CharField(_("notes"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["order_id", "position"]
        indexes = [
            models.Index(fields=["order", "position"], name="orders_line_position"),
            models.Index(fields=["customer", "product"], name="orders_line_customer_product"),
            models.Index(fields=["customer", "ordered_on"], name="orders_line_customer_month"),
            models.Index(fields=["specification", "ordered_on"], name="orders_line_spec_month"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}#{self.position} {self.code}"


class Delivery(models.Model):
    """发货: one shipment of some of an order's lines."""

    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="deliveries")
    delivered_on = models.DateField(_("delivery date"), default=timezone.localdate)
    carrier = models.CharField(_("carrier"), max_length=100, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=60, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    amount = models.DecimalField(_("amount with tax"), max_digits=16, decimal_places=2, default=ZERO)
    # Held for a credit exception (CLS-4 at the delivery stage): not counted as delivered until approved.
    is_held = models.BooleanField(_("held for credit"), default=False)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["order_id", "delivered_on", "pk"]

    def __str__(self) -> str:
        return f"{self.order_id} @ {self.delivered_on}"


class DeliveryLine(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, verbose_name=_("order line"), on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(
        _("quantity"), max_digits=14, decimal_places=3, validators=[MinValueValidator(Decimal("0.001"))]
    )
    amount = models.DecimalField(_("amount with tax"), max_digits=16, decimal_places=2)

    class Meta:
        verbose_name = _("delivery line")
        verbose_name_plural = _("delivery lines")

    def __str__(self) -> str:
        return f"{self.delivery_id}: {self.order_line_id} × {self.quantity}"


class SellThrough(models.Model):
    """销售记录 of the channel: what a dealer (`seller`) sold on in a month, to a buyer Kehu may know
    (a sub-distributor or retailer with its own archive entry) or only by name."""

    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    seller = models.ForeignKey(
        "customers.Customer", verbose_name=_("dealer"), on_delete=models.PROTECT, related_name="sell_through"
    )
    buyer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("bought by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="bought_through",
    )
    buyer_name = models.CharField(_("buyer's name"), max_length=200, blank=True)
    buyer_level = models.CharField(_("buyer's channel level"), max_length=20, blank=True)
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
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=3)
    amount = models.DecimalField(_("amount with tax"), max_digits=16, decimal_places=2, default=ZERO)
    import_job = models.ForeignKey(
        "integrations.ImportJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("sell-through record")
        verbose_name_plural = _("sell-through records")
        indexes = [
            models.Index(fields=["seller", "month"], name="orders_sellthrough_seller"),
            models.Index(fields=["buyer", "month"], name="orders_sellthrough_buyer"),
        ]

    def __str__(self) -> str:
        return f"{self.seller_id} {self.month:%Y-%m} {self.product_id} × {self.quantity}"
