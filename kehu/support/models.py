"""After-sales service (SRV): tickets and their state history, the installed base they name, the
categories and SLA policies they are measured by, and the service hours the clock runs in.

The SLA figures stored on a ticket (`response_due_at`, `resolution_due_at`, the breach flags) are a
cache: `kehu.support.sla` computes them from the ticket's state history, its policy and the company
calendar, so changing the calendar or the hours and recomputing gives the right answer for every
open ticket."""

from datetime import UTC, datetime, time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.core.models import SoftDeletable, TimeStamped, Versioned


class ServiceSettings(models.Model):
    """One row: the service hours SLA clocks run in (a working day's morning and afternoon, the lunch
    break between them) and how long before a breach people are warned. Which days are working days
    is the company calendar's (weekdays, holidays, make-up days)."""

    day_starts = models.TimeField(_("working day starts"), default=time(8, 30))
    lunch_starts = models.TimeField(_("lunch break starts"), default=time(12, 0))
    lunch_ends = models.TimeField(_("lunch break ends"), default=time(13, 0))
    day_ends = models.TimeField(_("working day ends"), default=time(17, 30))
    warn_before_minutes = models.PositiveIntegerField(_("warn this many working minutes before a breach"), default=60)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("service settings")
        verbose_name_plural = _("service settings")

    def __str__(self) -> str:
        return "service settings"

    def clean(self):
        if not self.day_starts < self.lunch_starts <= self.lunch_ends < self.day_ends:
            raise ValidationError(
                _("The working day must start before the lunch break, which must end before the day ends.")
            )

    @classmethod
    def load(cls) -> "ServiceSettings":
        found = cls.objects.order_by("pk").first()
        return found if found is not None else cls.objects.create()


class Priority(models.TextChoices):
    URGENT = "urgent", _("Urgent")
    HIGH = "high", _("High")
    NORMAL = "normal", _("Normal")
    LOW = "low", _("Low")


class TicketCategory(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("ticket category")
        verbose_name_plural = _("ticket categories")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SlaPolicy(models.Model):
    """Targets in working minutes for tickets of a category (or of any category) and a priority."""

    category = models.ForeignKey(
        TicketCategory, verbose_name=_("category"), null=True, blank=True, on_delete=models.CASCADE
    )
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices)
    first_response_minutes = models.PositiveIntegerField(_("first response within (working minutes)"))
    resolution_minutes = models.PositiveIntegerField(_("resolution within (working minutes)"))

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        constraints = [
            models.UniqueConstraint(fields=["category", "priority"], name="support_policy_category_priority"),
            models.UniqueConstraint(
                fields=["priority"], condition=models.Q(category__isnull=True), name="support_policy_default"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category or '*'} · {self.get_priority_display()}"


class InstalledUnit(TimeStamped):
    """A product a customer owns: what, which serial number, under warranty from when to when
    (filled from an order line when it came from one, or entered)."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="installed_units")
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    specification = models.ForeignKey(
        "catalog.Specification", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    serial_number = models.CharField(_("serial number"), max_length=100, blank=True)
    order_line = models.ForeignKey(
        "orders.OrderLine", null=True, blank=True, on_delete=models.SET_NULL, related_name="installed_units"
    )
    installed_on = models.DateField(_("installed on"), null=True, blank=True)
    warranty_starts_on = models.DateField(_("warranty starts"), null=True, blank=True)
    warranty_ends_on = models.DateField(_("warranty ends"), null=True, blank=True)

    class Meta:
        verbose_name = _("installed unit")
        verbose_name_plural = _("installed base")
        indexes = [models.Index(fields=["customer"], name="support_unit_customer")]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "serial_number"],
                condition=~models.Q(serial_number=""),
                name="support_unit_serial",
            )
        ]

    def __str__(self) -> str:
        return f"{self.product} {self.serial_number}".strip()

    def under_warranty(self, day) -> bool:
        return bool(
            self.warranty_ends_on
            and day <= self.warranty_ends_on
            and (self.warranty_starts_on is None or self.warranty_starts_on <= day)
        )


class TicketState(models.TextChoices):
    NEW = "new", _("New")
    ASSIGNED = "assigned", _("Assigned")
    IN_PROGRESS = "in_progress", _("In progress")
    WAITING_CUSTOMER = "waiting_customer", _("Waiting for the customer")
    WAITING_PARTS = "waiting_parts", _("Waiting for parts")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


# The resolution clock runs in these states, is paused in the waiting ones, and stops otherwise.
RUNNING_STATES = frozenset({TicketState.NEW, TicketState.ASSIGNED, TicketState.IN_PROGRESS})
PAUSED_STATES = frozenset({TicketState.WAITING_CUSTOMER, TicketState.WAITING_PARTS})
OPEN_STATES = RUNNING_STATES | PAUSED_STATES


# Where a ticket without a resolution due moment sorts in the queue: after every dated one.
QUEUE_LAST = datetime(9999, 1, 1, tzinfo=UTC)


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    SELF_SERVICE = "self_service", _("Self-service page")
    EMAIL = "email", _("E-mail")
    VISIT = "visit", _("On site")


class Ticket(TimeStamped, Versioned, SoftDeletable):
    number = models.CharField(_("number"), max_length=20, unique=True)
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="tickets")
    contact = models.ForeignKey(
        "customers.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    unit = models.ForeignKey(
        InstalledUnit, verbose_name=_("unit"), null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    category = models.ForeignKey(
        TicketCategory, verbose_name=_("category"), null=True, blank=True, on_delete=models.PROTECT
    )
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices, default=Channel.PHONE)
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    state = models.CharField(_("state"), max_length=20, choices=TicketState.choices, default=TicketState.NEW)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("responsible"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    engineer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("engineer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    under_warranty = models.BooleanField(_("under warranty"), default=False)
    first_responded_at = models.DateTimeField(_("first response"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    # The SLA clock's figures, recomputed from the history by kehu.support.sla (see the module).
    policy = models.ForeignKey(SlaPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    response_due_at = models.DateTimeField(_("first response due"), null=True, blank=True)
    resolution_due_at = models.DateTimeField(_("resolution due"), null=True, blank=True)
    response_breached = models.BooleanField(default=False)
    resolution_breached = models.BooleanField(default=False)
    warned_at = models.DateTimeField(null=True, blank=True)
    # The queue's order, stored so the queue walks an index instead of sorting every open ticket:
    # 0 open and past its SLA, 1 open, 2 no longer open; then the resolution due moment (QUEUE_LAST
    # when there is none). Kept with the SLA figures (kehu.support.services).
    queue_rank = models.PositiveSmallIntegerField(default=1)
    queue_due = models.DateTimeField(default=QUEUE_LAST)

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        permissions = [
            ("dispatch_ticket", _("Can assign tickets to engineers")),
            ("manage_service", _("Can set service categories, SLA policies and service hours")),
        ]
        indexes = [
            models.Index(fields=["state", "resolution_due_at"], name="support_ticket_due"),
            # The queue in its order (the id breaks ties; the customer is read from the index too).
            models.Index(
                fields=["deleted_at", "queue_rank", "queue_due", "id", "customer"], name="support_ticket_queue"
            ),
            models.Index(fields=["customer", "queue_rank"], name="support_ticket_customer_open"),
            models.Index(fields=["owner", "queue_rank", "queue_due"], name="support_ticket_owner_open"),
            models.Index(fields=["engineer", "queue_rank", "queue_due"], name="support_ticket_engineer_open"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class TicketStateChange(models.Model):
    """Every state a ticket entered and when: the SLA clock is computed from these."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="state_changes")
    from_state = models.CharField(max_length=20, choices=TicketState.choices, blank=True)
    to_state = models.CharField(max_length=20, choices=TicketState.choices)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["ticket", "at"], name="support_change_ticket")]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.from_state} → {self.to_state}"


from kehu.support.models_complaints import *  # noqa: E402,F401,F403
from kehu.support.models_conversation import *  # noqa: E402,F401,F403
from kehu.support.models_field import *  # noqa: E402,F401,F403
from kehu.support.models_knowledge import *  # noqa: E402,F401,F403
from kehu.support.models_mail import *  # noqa: E402,F401,F403
from kehu.support.models_quality import *  # noqa: E402,F401,F403
from kehu.support.models_returns import *  # noqa: E402,F401,F403
from kehu.support.models_visits import *  # noqa: E402,F401,F403
