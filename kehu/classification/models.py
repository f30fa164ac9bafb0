"""Classification and evaluation (CLS-1..6): tier suggestions and decisions, revenue inputs,
key-account and dealer evaluations, relationship level, credit.

Evaluations, revenue inputs and credit records are dated rows: history is kept, the latest is current.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.core.models import validate_sane_year
from kehu.customers.models import Tier

PERCENT = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))]
SCORE = [MinValueValidator(1), MaxValueValidator(5)]


class ClassificationSettings(models.Model):
    """One row: the ABC thresholds of the suggestion job and the time-allocation target (CLS-1, CLS-6)."""

    key_share = models.DecimalField(
        _("key customers (percent of ranked customers)"), max_digits=5, decimal_places=2, default=Decimal("10")
    )
    ordinary_share = models.DecimalField(
        _("ordinary customers (percent of ranked customers)"), max_digits=5, decimal_places=2, default=Decimal("30")
    )
    potential_weight = models.DecimalField(
        _("weight of potential against revenue"),
        max_digits=4,
        decimal_places=2,
        default=Decimal("0.50"),
        help_text=_("Score = revenue + weight × potential. 0 ranks by revenue only."),
    )
    reject_cooldown_days = models.PositiveIntegerField(_("days before a rejected change is proposed again"), default=90)
    key_time_target = models.DecimalField(
        _("share of sales time for key customers (%)"), max_digits=5, decimal_places=2, default=Decimal("60")
    )
    credit_limit_prospect = models.DecimalField(
        _("default credit limit, prospects (CNY)"), max_digits=14, decimal_places=2, default=Decimal("0")
    )
    credit_limit_ordinary = models.DecimalField(
        _("default credit limit, ordinary customers (CNY)"), max_digits=14, decimal_places=2, default=Decimal("50000")
    )
    credit_limit_key = models.DecimalField(
        _("default credit limit, key customers (CNY)"), max_digits=14, decimal_places=2, default=Decimal("500000")
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("classification settings")
        verbose_name_plural = _("classification settings")

    def __str__(self) -> str:
        return str(_("classification settings"))

    @classmethod
    def load(cls) -> "ClassificationSettings":
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj

    def default_credit_limit(self, tier: str) -> Decimal:
        return getattr(self, f"credit_limit_{tier}", Decimal("0"))


class CustomerRevenue(models.Model):
    """A customer's revenue and potential for one year: what the ABC ranking reads.

    Entered by hand. For a customer-year with booked orders the ranking takes the orders' revenue
    instead and this row only gives the potential; the hand-entered revenue stays for history
    (years and customers without orders in Kehu). `selectors.revenue_inputs` is the only reader."""

    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.CASCADE, related_name="revenues"
    )
    year = models.PositiveSmallIntegerField(_("year"), validators=[MinValueValidator(1900), MaxValueValidator(2999)])
    revenue = models.DecimalField(_("revenue (CNY)"), max_digits=16, decimal_places=2, default=Decimal("0"))
    potential = models.DecimalField(
        _("potential sales volume (CNY)"), max_digits=16, decimal_places=2, default=Decimal("0")
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("by")
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        verbose_name = _("customer revenue")
        verbose_name_plural = _("customer revenues")
        # Not unique: a merge of duplicates (CUS-5) re-points every row to the kept customer, whose
        # figures for the year are then the sum (`selectors.revenue_inputs` adds them up).
        indexes = [models.Index(fields=["year", "customer"], name="revenue_year_customer_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.year}"


class SuggestionStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    SUPERSEDED = "superseded", _("Superseded")


TIER_ORDER = {Tier.PROSPECT: 0, Tier.ORDINARY: 1, Tier.KEY: 2}


class TierSuggestion(models.Model):
    """A proposed promotion or demotion from the ABC ranking, waiting for a manager (CLS-1)."""

    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.CASCADE, related_name="tier_suggestions"
    )
    current_tier = models.CharField(_("current tier"), max_length=10, choices=Tier.choices)
    proposed_tier = models.CharField(_("proposed tier"), max_length=10, choices=Tier.choices)
    year = models.PositiveSmallIntegerField(_("year"))
    revenue = models.DecimalField(_("revenue (CNY)"), max_digits=16, decimal_places=2)
    potential = models.DecimalField(_("potential (CNY)"), max_digits=16, decimal_places=2)
    rank = models.PositiveIntegerField(_("rank"))
    ranked = models.PositiveIntegerField(_("customers ranked"))
    revenue_share = models.DecimalField(_("revenue share (%)"), max_digits=7, decimal_places=3)
    status = models.CharField(
        _("status"), max_length=10, choices=SuggestionStatus.choices, default=SuggestionStatus.OPEN
    )
    created_at = models.DateTimeField(_("proposed at"), default=timezone.now)
    # The last run of the job that still proposed this change; older open ones are superseded.
    checked_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("tier suggestion")
        verbose_name_plural = _("tier suggestions")
        # One open suggestion per customer is kept by the job, not by a unique index: a merge of
        # duplicates (CUS-5) may bring two to one customer, and the next run supersedes the extra.
        indexes = [
            models.Index(fields=["status", "-rank", "-id"], name="suggestion_status_idx"),
            models.Index(fields=["customer", "status", "proposed_tier"], name="suggestion_customer_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.current_tier} → {self.proposed_tier}"

    @property
    def is_promotion(self) -> bool:
        return TIER_ORDER[self.proposed_tier] > TIER_ORDER[self.current_tier]


class Attractiveness(models.TextChoices):
    HIGH = "high", _("Very attractive")
    MEDIUM = "medium", _("Moderately attractive")
    LOW = "low", _("Not very attractive")


class RelationshipState(models.TextChoices):
    """The state of the relationship, as the seeds list it (CLS-2)."""

    POTENTIAL = "potential", _("Potential to develop")
    DEVELOPING = "developing", _("Developing")
    GOOD = "good", _("Good at present")
    FIRM = "firm", _("Very firm")
    LIMITED = "limited", _("Quite limited")
    DEFENSIVE = "defensive", _("Defensive")
    DECLINING = "declining", _("Declining")


class RelationshipLevel(models.TextChoices):
    """Kotler's levels of relationship (CLS-5)."""

    REACTIVE = "reactive", _("Reactive")
    PROACTIVE = "proactive", _("Proactive")
    ACCOUNTABLE = "accountable", _("Accountable")
    PARTNERSHIP = "partnership", _("Partnership")


class KeyAccountEvaluation(models.Model):
    """Key-account evaluation (重点客户的确定): attractiveness, potential, relationship (CLS-2, CLS-5)."""

    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.CASCADE, related_name="key_evaluations"
    )
    evaluated_on = models.DateField(_("evaluated on"), default=timezone.localdate, validators=[validate_sane_year])
    attractiveness = models.CharField(_("attractiveness"), max_length=10, choices=Attractiveness.choices)
    potential_volume = models.DecimalField(
        _("potential sales volume (CNY a year)"),
        max_digits=16,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
    )
    potential_margin = models.DecimalField(
        _("potential margin (%)"), max_digits=5, decimal_places=2, validators=PERCENT
    )
    relationship_state = models.CharField(_("relationship state"), max_length=12, choices=RelationshipState.choices)
    relationship_level = models.CharField(_("relationship level"), max_length=12, choices=RelationshipLevel.choices)
    notes = models.TextField(_("notes"), blank=True)
    evaluated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("key-account evaluation")
        verbose_name_plural = _("key-account evaluations")
        indexes = [models.Index(fields=["customer", "-evaluated_on", "-id"], name="key_eval_customer_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.evaluated_on}"


class DealerEvaluation(models.Model):
    """Dealer evaluation (经销商评价): four scores from 1 (poor) to 5 (excellent), each with notes (CLS-3)."""

    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.CASCADE, related_name="dealer_evaluations"
    )
    evaluated_on = models.DateField(_("evaluated on"), default=timezone.localdate, validators=[validate_sane_year])
    enthusiasm = models.PositiveSmallIntegerField(_("enthusiasm (经营积极性)"), validators=SCORE)
    enthusiasm_notes = models.TextField(_("notes on enthusiasm"), blank=True)
    capability = models.PositiveSmallIntegerField(_("operating capability (经营能力)"), validators=SCORE)
    capability_notes = models.TextField(_("notes on operating capability"), blank=True)
    credit = models.PositiveSmallIntegerField(_("credit and reputation (信誉)"), validators=SCORE)
    credit_notes = models.TextField(_("notes on credit and reputation"), blank=True)
    social = models.PositiveSmallIntegerField(_("social relations (社会关系)"), validators=SCORE)
    social_notes = models.TextField(_("notes on social relations"), blank=True)
    evaluated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    SCORES = ("enthusiasm", "capability", "credit", "social")

    class Meta:
        verbose_name = _("dealer evaluation")
        verbose_name_plural = _("dealer evaluations")
        indexes = [models.Index(fields=["customer", "-evaluated_on", "-id"], name="dealer_eval_customer_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.evaluated_on}"

    @property
    def total(self) -> int:
        return sum(getattr(self, name) for name in self.SCORES)


class CreditRating(models.TextChoices):
    AAA = "AAA", "AAA"
    AA = "AA", "AA"
    A = "A", "A"
    B = "B", "B"
    C = "C", "C"


class CreditRecord(models.Model):
    """A credit investigation with the rating and limit it set (CLS-4); the latest one is in force."""

    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.CASCADE, related_name="credit_records"
    )
    rating = models.CharField(_("credit rating"), max_length=3, choices=CreditRating.choices)
    limit = models.DecimalField(
        _("credit limit (CNY)"), max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    investigated_on = models.DateField(
        _("investigated on"), default=timezone.localdate, validators=[validate_sane_year]
    )
    investigation = models.TextField(_("investigation notes"), blank=True)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("credit record")
        verbose_name_plural = _("credit records")
        indexes = [models.Index(fields=["customer", "-created_at", "-id"], name="credit_customer_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.rating} {self.limit}"
