"""The public pool (公海) and handover (CUS-7, CUS-9).

A customer is in the pool when it has no owner (and is not deleted): whatever door created it.
Which pool: the customer's `CustomerPoolState.pool` if set, else the pool whose region list
names the customer's region, else the default pool.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.customers.models import Tier

# Activities that count as a follow-up (跟进): contact with the customer. Notes do not count.
FOLLOW_UP_KINDS = ("visit", "call", "meeting", "email", "commitment")
# A visit only planned (its time lies ahead, nobody went yet) is no follow-up: otherwise planning a visit
# months ahead would keep a customer out of the pool. Checked in or logged, it counts.
NOT_YET_FOLLOWED_UP = models.Q(kind="visit", planned_for__isnull=False, is_done=False, checked_in_at__isnull=True)


class Pool(models.Model):
    """A public pool with its recycle rules and limits (set by an administrator)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    regions = models.TextField(
        _("regions"),
        blank=True,
        help_text=_("Customers of these regions (经营属地) land in this pool; one per line or separated by commas."),
    )
    is_default = models.BooleanField(
        _("default pool"), default=False, help_text=_("Customers of a region no pool names land here.")
    )
    # Recycle rules: days without a follow-up activity, per tier (empty: never).
    followup_days_prospect = models.PositiveIntegerField(_("no follow-up: prospect (days)"), null=True, blank=True)
    followup_days_ordinary = models.PositiveIntegerField(_("no follow-up: ordinary (days)"), null=True, blank=True)
    followup_days_key = models.PositiveIntegerField(_("no follow-up: key (days)"), null=True, blank=True)
    # Days without a won deal or order, per tier, counted from when the owner took the customer.
    deal_days_prospect = models.PositiveIntegerField(_("no deal: prospect (days)"), null=True, blank=True)
    deal_days_ordinary = models.PositiveIntegerField(_("no deal: ordinary (days)"), null=True, blank=True)
    deal_days_key = models.PositiveIntegerField(_("no deal: key (days)"), null=True, blank=True)
    warn_days = models.PositiveIntegerField(_("warn the owner (days before)"), default=3)
    exempt_open_deals = models.BooleanField(_("exempt customers with a deal in progress"), default=True)
    exempt_signed_contracts = models.BooleanField(_("exempt customers with a signed contract"), default=True)
    exempt_open_tickets = models.BooleanField(_("exempt customers with an open service ticket"), default=True)
    # Limits.
    max_owned = models.PositiveIntegerField(_("most customers a rep may own"), null=True, blank=True)
    max_claims_per_day = models.PositiveIntegerField(_("most claims per rep per day"), null=True, blank=True)
    reclaim_cooldown_days = models.PositiveIntegerField(
        _("cool-down before a previous owner may claim again (days)"), default=0
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("public pool")
        verbose_name_plural = _("public pools")
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=models.Q(is_default=True), name="pool_one_default")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def region_list(self) -> list[str]:
        return [r.strip() for r in self.regions.replace("，", ",").replace("\n", ",").split(",") if r.strip()]

    def followup_days(self, tier: str) -> int | None:
        return getattr(self, f"followup_days_{tier}", None)

    def deal_days(self, tier: str) -> int | None:
        return getattr(self, f"deal_days_{tier}", None)

    @property
    def has_rules(self) -> bool:
        return any(self.followup_days(t) or self.deal_days(t) for t in Tier.values)


class CustomerPoolState(models.Model):
    """What the pool knows about one customer: its pool, since when the owner has it, warnings,
    and a manual exemption. A customer without a row is treated as having an empty one."""

    customer = models.OneToOneField(
        "customers.Customer", primary_key=True, on_delete=models.CASCADE, related_name="pool_state"
    )
    pool = models.ForeignKey(Pool, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    owned_since = models.DateTimeField(_("owned since"), null=True, blank=True)
    entered_pool_at = models.DateTimeField(_("in the pool since"), null=True, blank=True)
    previous_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    warned_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(_("returns to the pool on"), null=True, blank=True)
    due_rule = models.CharField(max_length=40, blank=True)
    exempt_until = models.DateField(_("exempt until"), null=True, blank=True)
    exempt_reason = models.CharField(_("why exempt"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("customer pool state")
        verbose_name_plural = _("customer pool states")
        indexes = [
            models.Index(fields=["due_at"], condition=models.Q(due_at__isnull=False), name="pool_state_due_idx"),
            # The dashboard's "about to return to the pool": warned customers only, soonest first.
            models.Index(
                fields=["due_at"],
                condition=models.Q(due_at__isnull=False, warned_at__isnull=False),
                name="pool_state_warned_idx",
            ),
            models.Index(fields=["pool"], name="pool_state_pool_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.pool_id or '-'}"


class MoveKind(models.TextChoices):
    CLAIM = "claim", _("Claimed")
    ASSIGN = "assign", _("Assigned")
    RELEASE = "release", _("Released")
    RECYCLE = "recycle", _("Returned by rule")
    HANDOVER = "handover", _("Handed over")


class PoolMove(models.Model):
    """Every change of owner made by the pool or a handover: for limits, cool-downs and review."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=MoveKind.choices)
    at = models.DateTimeField(default=timezone.now)
    from_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    pool = models.ForeignKey(Pool, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    rule = models.CharField(max_length=40, blank=True)

    class Meta:
        indexes = [
            # Claims per rep per day.
            models.Index(fields=["to_owner", "kind", "at"], name="pool_move_claims_idx"),
            # Cool-down: when did this person last lose this customer.
            models.Index(fields=["customer", "from_owner", "at"], name="pool_move_cooldown_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.customer_id}"


class HandoverStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class Handover(models.Model):
    """One handover (交接) of one or many customers to a new owner or to the pool (CUS-7)."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("from"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Empty: to the public pool."),
    )
    note = models.TextField(_("note"), blank=True)
    # Who holds the customers' open commitments and planned visits afterwards: the new owner, or the
    # person the manager named (for a handover to the pool, by default the manager).
    work_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("open commitments and planned visits to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    commitments_moved = models.PositiveIntegerField(_("open commitments moved"), default=0)
    visits_moved = models.PositiveIntegerField(_("planned visits moved"), default=0)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=HandoverStatus.choices, default=HandoverStatus.RUNNING)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("handover")
        verbose_name_plural = _("handovers")
        indexes = [models.Index(fields=["to_user", "-created_at"], name="handover_to_idx")]

    def __str__(self) -> str:
        return f"#{self.pk}"

    @property
    def work_kept(self) -> bool:
        """The open work went to someone other than the new owner."""
        return self.work_to_id is not None and self.work_to_id != self.to_user_id

    @property
    def percent(self) -> int:
        return 100 if not self.total else int(self.done * 100 / self.total)


class HandoverItem(models.Model):
    handover = models.ForeignKey(Handover, on_delete=models.CASCADE, related_name="items")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    from_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_done = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["handover", "customer"], name="handover_item_unique")]

    def __str__(self) -> str:
        return f"{self.handover_id}: {self.customer_id}"
