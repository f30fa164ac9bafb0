"""Receivables (回款计划, 回款; SAL-5, CON-2, CLS-4, WRN-1): payment plans, payments and their
allocation, the balances the ageing report reads, and the credit settings.

A payment plan is one instalment a customer owes on a contract or an order. A payment (回款) is
money received (or refunded: `is_refund`); it is allocated to plans, oldest first or by hand.
Nothing about money disappears: a wrong payment or allocation is corrected by a reversal row that
points at it, and both stay.

`CustomerBalance` and `DueDay` are aggregates kept current in the same transaction as every
change of a plan, a payment or an allocation (and, for what falls due, by the nightly job); the
ageing report and the credit check read them instead of the plans.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.core.models import TimeStamped, Versioned

ZERO = Decimal("0")


class PlanBasis(models.TextChoices):
    FIXED = "fixed", _("On a date")
    SIGNING = "signing", _("Days after signing")
    DELIVERY = "delivery", _("Days after delivery")
    INVOICE = "invoice", _("Days after the invoice")


class PlanState(models.TextChoices):
    NOT_DUE = "not_due", _("Not yet due")
    DUE = "due", _("Due")
    PARTLY_PAID = "partly_paid", _("Partly paid")
    PAID = "paid", _("Paid")
    OVERDUE = "overdue", _("Overdue")
    VOID = "void", _("Void")


OPEN_PLAN_STATES = (PlanState.NOT_DUE, PlanState.DUE, PlanState.PARTLY_PAID, PlanState.OVERDUE)


class PaymentPlan(TimeStamped, Versioned):
    """One instalment (回款计划): an amount due on a date, or N days after an event not yet happened
    (then `due_on` is empty until it happens)."""

    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="payment_plans"
    )
    contract = models.ForeignKey(
        "contracts.Contract",
        verbose_name=_("contract"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payment_plans",
    )
    order = models.ForeignKey(
        "orders.Order",
        verbose_name=_("order"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payment_plans",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("responsible"), on_delete=models.PROTECT, related_name="payment_plans"
    )
    sequence = models.PositiveSmallIntegerField(_("instalment"), default=1)
    basis = models.CharField(_("due"), max_length=10, choices=PlanBasis.choices, default=PlanBasis.FIXED)
    days_after = models.PositiveSmallIntegerField(_("days after"), null=True, blank=True)
    percent = models.DecimalField(
        _("share (%)"),
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)
    due_on = models.DateField(_("due date"), null=True, blank=True)
    received_amount = models.DecimalField(_("received"), max_digits=16, decimal_places=2, default=ZERO)
    state = models.CharField(_("state"), max_length=12, choices=PlanState.choices, default=PlanState.NOT_DUE)
    notes = models.CharField(_("notes"), max_length=200, blank=True)
    reminded_on = models.DateField(null=True, blank=True, editable=False)
    overdue_told_on = models.DateField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("payment plan")
        verbose_name_plural = _("payment plans")
        ordering = ["due_on", "pk"]
        indexes = [
            models.Index(fields=["customer", "due_on"], name="recv_plan_customer_due"),
            models.Index(fields=["owner", "due_on"], name="recv_plan_owner_due"),
            models.Index(fields=["state", "due_on"], name="recv_plan_state_due"),
            models.Index(fields=["contract"], name="recv_plan_contract"),
            models.Index(fields=["order"], name="recv_plan_order"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}/{self.sequence} {self.amount} @ {self.due_on}"

    @property
    def outstanding(self) -> Decimal:
        return ZERO if self.state == PlanState.VOID else max(self.amount - self.received_amount, ZERO)


class PaymentMethod(models.TextChoices):
    TRANSFER = "transfer", _("Bank transfer")
    ACCEPTANCE = "acceptance", _("Bank acceptance bill (承兑汇票)")
    CASH = "cash", _("Cash")
    CHEQUE = "cheque", _("Cheque")
    ONLINE = "online", _("Online payment")
    OTHER = "other", _("Other")


class PaymentState(models.TextChoices):
    PENDING = "pending", _("Pending approval")
    CONFIRMED = "confirmed", _("Confirmed")
    REJECTED = "rejected", _("Not approved")
    REVERSED = "reversed", _("Reversed")


class Payment(TimeStamped, Versioned):
    """回款: money received from a customer (or, `is_refund`, paid back to it)."""

    number = models.CharField(_("number"), max_length=30, unique=True)
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="payments"
    )
    # The rep credited with the collection (collection targets and ranking count by this person).
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("credited to"), on_delete=models.PROTECT, related_name="payments"
    )
    state = models.CharField(_("state"), max_length=10, choices=PaymentState.choices, default=PaymentState.CONFIRMED)
    received_on = models.DateField(_("date received"), default=timezone.localdate)
    amount = models.DecimalField(
        _("amount"), max_digits=16, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    is_refund = models.BooleanField(_("refund"), default=False)
    method = models.CharField(_("method"), max_length=12, choices=PaymentMethod.choices, default=PaymentMethod.TRANSFER)
    bank_account = models.CharField(_("received into account"), max_length=60, blank=True)
    payer_name = models.CharField(_("paid by"), max_length=200, blank=True)
    reference = models.CharField(_("bank reference"), max_length=60, blank=True)
    allocated_amount = models.DecimalField(_("allocated"), max_digits=16, decimal_places=2, default=ZERO)
    notes = models.TextField(_("notes"), blank=True)
    # A reversal is a row of its own pointing at the payment it cancels.
    reverses = models.OneToOneField(
        "self", verbose_name=_("reverses"), null=True, blank=True, on_delete=models.PROTECT, related_name="reversal"
    )
    reversal_reason = models.TextField(_("reason for the reversal"), blank=True)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    import_job = models.ForeignKey(
        "integrations.ImportJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        indexes = [
            models.Index(fields=["updated_at"], name="recv_payment_updated"),
            # Covers the customer statement's sums.
            models.Index(
                fields=["customer", "received_on", "state", "reverses", "is_refund", "amount"],
                name="recv_payment_customer_sums",
            ),
            models.Index(fields=["owner", "received_on"], name="recv_payment_owner"),
            models.Index(fields=["received_on"], name="recv_payment_received"),
        ]
        permissions = [
            ("record_payment", "Can record payments"),
            ("approve_payment", "Can approve payments"),
            ("import_payments", "Can import payments"),
            ("view_ageing", "Can see the ageing report"),
            ("export_ageing", "Can export the ageing report"),
            ("manage_credit", "Can change the credit and receivables settings"),
            ("approve_credit_exception", "Can approve credit exceptions"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def unallocated(self) -> Decimal:
        return max(self.amount - self.allocated_amount, ZERO)


class PaymentAllocation(models.Model):
    """Part of a payment set against a plan; undone by a row with the opposite amount (`undoes`)."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="allocations")
    plan = models.ForeignKey(PaymentPlan, on_delete=models.PROTECT, related_name="allocations")
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)
    undoes = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="undone_by")
    is_automatic = models.BooleanField(_("allocated automatically"), default=False)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("payment allocation")
        verbose_name_plural = _("payment allocations")
        indexes = [
            models.Index(fields=["payment"], name="recv_alloc_payment"),
            models.Index(fields=["plan"], name="recv_alloc_plan"),
        ]

    def __str__(self) -> str:
        return f"{self.payment_id}→{self.plan_id}: {self.amount}"


class CustomerBalance(models.Model):
    """What one customer owes, kept current (see the module docstring). `overdue` is what is past its
    due date today; `not_invoiced` what was booked on orders and not invoiced yet."""

    customer = models.OneToOneField(
        "customers.Customer", primary_key=True, on_delete=models.CASCADE, related_name="balance"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    owed = models.DecimalField(max_digits=16, decimal_places=2, default=ZERO)
    overdue = models.DecimalField(max_digits=16, decimal_places=2, default=ZERO)
    not_due = models.DecimalField(max_digits=16, decimal_places=2, default=ZERO)
    not_invoiced = models.DecimalField(max_digits=16, decimal_places=2, default=ZERO)
    exposure = models.DecimalField(max_digits=16, decimal_places=2, default=ZERO)
    credit_limit = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    oldest_due_on = models.DateField(null=True, blank=True)
    unallocated = models.DecimalField(max_digits=16, decimal_places=2, default=ZERO)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("customer balance")
        verbose_name_plural = _("customer balances")
        indexes = [
            models.Index(fields=["-owed"], name="recv_balance_owed"),
            models.Index(fields=["owner", "-owed"], name="recv_balance_owner_owed"),
            models.Index(fields=["oldest_due_on"], name="recv_balance_oldest"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.owed}"


class DueDay(models.Model):
    """The outstanding amount of one owner's plans falling due on one day (the ageing report sums these
    into buckets by how far `due_on` is from today)."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    due_on = models.DateField()
    outstanding = models.DecimalField(max_digits=16, decimal_places=2, default=ZERO)
    plans = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "due_on"], name="recv_dueday_owner_due")]
        indexes = [models.Index(fields=["due_on"], name="recv_dueday_due")]

    def __str__(self) -> str:
        return f"{self.owner_id} {self.due_on}: {self.outstanding}"


class CreditStage(models.TextChoices):
    OFF = "off", _("No credit check")
    ORDER = "order", _("When an order is confirmed")
    DELIVERY = "delivery", _("When goods are delivered")
    INVOICE = "invoice", _("When an invoice is requested")


class ReceivablesSettings(models.Model):
    """One row: credit control (CLS-4), payment approval and reminders."""

    credit_stage = models.CharField(
        _("hold for a credit exception"), max_length=10, choices=CreditStage.choices, default=CreditStage.ORDER
    )
    hold_over_limit = models.BooleanField(_("when the exposure goes over the credit limit"), default=True)
    hold_overdue_days = models.PositiveSmallIntegerField(
        _("when something is overdue by more than this many days"),
        null=True,
        blank=True,
        default=30,
        help_text=_("Empty: overdue receivables do not hold anything."),
    )
    payments_need_approval = models.BooleanField(_("payments recorded by reps need approval"), default=False)
    remind_days_before_due = models.PositiveSmallIntegerField(
        _("remind the responsible person this many days before a payment is due"), default=3
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("receivables settings")
        verbose_name_plural = _("receivables settings")

    def __str__(self) -> str:
        return "receivables settings"

    @classmethod
    def current(cls) -> "ReceivablesSettings":
        return cls.objects.order_by("pk").first() or cls()
