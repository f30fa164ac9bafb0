"""Activities with a customer: visits, calls, meetings, emails, notes and commitments (SAL-7)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.core.models import SoftDeletable, TimeStamped, Versioned, validate_sane_year


class ActivityKind(models.TextChoices):
    VISIT = "visit", _("Visit")
    CALL = "call", _("Call")
    MEETING = "meeting", _("Meeting")
    EMAIL = "email", _("Email")
    NOTE = "note", _("Note")
    COMMITMENT = "commitment", _("Commitment")


class CheckInBasis(models.TextChoices):
    """What a check-in position was compared with."""

    CUSTOMER = "customer", _("the customer's coordinates")
    PLACE = "place", _("the centre of the customer's city")


class CheckInWarning(models.TextChoices):
    """Why a check-in is worth a manager's look (stored comma-separated, in this order)."""

    FAR = "far", _("Far from the customer")
    OFF_DAY = "off_day", _("Far from the planned day")
    NO_POSITION = "no_position", _("No position")


class Activity(TimeStamped, SoftDeletable, Versioned):
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="activities"
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activities",
    )
    kind = models.CharField(_("kind"), max_length=12, choices=ActivityKind.choices, default=ActivityKind.VISIT)
    subject = models.CharField(_("subject"), max_length=200)
    content = models.TextField(_("content"), blank=True)
    occurred_at = models.DateTimeField(_("when"), default=timezone.now, validators=[validate_sane_year])
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"), null=True, blank=True)
    # Commitments (承诺): what was promised, by when, and whether it was kept.
    due_on = models.DateField(_("due on"), null=True, blank=True, validators=[validate_sane_year])
    is_done = models.BooleanField(_("done"), default=False)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="activities"
    )
    # Visit plans (拜访计划): a visit with a planned time that is not done yet; the log fills the rest.
    planned_for = models.DateTimeField(_("planned for"), null=True, blank=True, validators=[validate_sane_year])
    # db_default: bulk writers that insert with raw SQL (the demo generator, benchmarks) need not list them.
    purpose = models.CharField(_("purpose"), max_length=200, blank=True, default="", db_default="")
    outcome = models.TextField(_("outcome"), blank=True, default="", db_default="")
    next_step = models.CharField(_("next step"), max_length=300, blank=True, default="", db_default="")
    # Check-in (签到) from a phone: the time always, the position when the browser gave it.
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    check_in_latitude = models.DecimalField(
        _("check-in latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    check_in_longitude = models.DecimalField(
        _("check-in longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    check_in_accuracy_m = models.PositiveIntegerField(_("check-in accuracy (metres)"), null=True, blank=True)
    # How plausible the check-in is (kehu.activities.plausibility): the distance to the customer, what it was
    # measured from, how many days from the planned day, and the warnings a manager reviews.
    check_in_distance_m = models.PositiveIntegerField(_("distance to the customer (metres)"), null=True, blank=True)
    check_in_basis = models.CharField(
        _("distance measured from"), max_length=10, choices=CheckInBasis.choices, blank=True, default="", db_default=""
    )
    check_in_place = models.CharField(_("city centre used"), max_length=50, blank=True, default="", db_default="")
    check_in_days_off = models.SmallIntegerField(_("days from the planned day"), null=True, blank=True)
    check_in_warnings = models.CharField(_("check-in warnings"), max_length=60, blank=True, default="", db_default="")
    # When the owner was told this commitment is overdue (once; reopening or a new due date asks again).
    overdue_told_on = models.DateField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        indexes = [
            models.Index(fields=["customer", "-occurred_at"], name="activity_customer_idx"),
            models.Index(fields=["owner", "-occurred_at"], name="activity_owner_idx"),
            # Open commitments of one customer (360° page) and of one person (dashboard), due first.
            models.Index(fields=["customer", "kind", "is_done", "due_on"], name="activity_customer_commit_idx"),
            models.Index(fields=["owner", "kind", "is_done", "due_on"], name="activity_owner_commit_idx"),
            # A rep's week: planned visits by time.
            models.Index(fields=["owner", "planned_for"], name="activity_owner_planned_idx"),
            # The managers' list of check-ins with warnings, newest first: only flagged rows are indexed.
            models.Index(
                fields=["-checked_in_at"],
                condition=~models.Q(check_in_warnings=""),
                name="activity_check_in_flag_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.subject

    @property
    def is_planned_visit(self) -> bool:
        return self.kind == ActivityKind.VISIT and self.planned_for is not None and not self.is_done

    @property
    def check_in_warning_codes(self) -> list[str]:
        return [code for code in self.check_in_warnings.split(",") if code]

    @property
    def is_overdue(self) -> bool:
        return (
            self.kind == ActivityKind.COMMITMENT
            and not self.is_done
            and self.due_on is not None
            and self.due_on < timezone.localdate()
        )


class CalendarFeed(models.Model):
    """A user's secret iCalendar subscription URL (日历订阅, INT-3); only the token's SHA-256 is stored."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return str(self.user)
