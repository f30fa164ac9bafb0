"""Every read of classification data: revenue inputs, the ABC ranking, suggestions, evaluations,
credit and the sales-time report."""

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Count, F, Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone

from kehu.activities.models import Activity
from kehu.classification.models import (
    ClassificationSettings,
    CreditRecord,
    CustomerRevenue,
    DealerEvaluation,
    KeyAccountEvaluation,
    SuggestionStatus,
    TierSuggestion,
)
from kehu.customers.models import Customer, Tier
from kehu.users.models import User
from kehu.users.scopes import scope_q
from kehu.users.selectors import scope_users_q

# --- revenue and the ABC ranking (CLS-1) ---------------------------------------------------------


def revenue_inputs(year: int) -> QuerySet:
    """Revenue and potential per live customer for `year`: the one source the ranking reads.

    Rows: customer_id, tier (the customer's current tier), revenue, potential. Today they are the
    `CustomerRevenue` rows recorded by hand; when orders exist, this becomes an aggregate of the
    year's orders with the same columns and nothing else changes."""
    return (
        CustomerRevenue.objects.filter(year=year, customer__deleted_at__isnull=True)
        .values("customer_id", tier=F("customer__tier"))
        .annotate(revenue=Sum("revenue"), potential=Sum("potential"))
        .order_by()
    )


@dataclass(frozen=True)
class Cuts:
    ranked: int
    key_upto: int  # ranks 1..key_upto are key
    ordinary_upto: int  # ranks key_upto+1..ordinary_upto are ordinary; the rest prospects


def tier_cuts(ranked: int, conf: ClassificationSettings) -> Cuts:
    """The rank where each tier ends; shares are of the customers ranked, rounded half up."""

    def upto(share: Decimal) -> int:
        return min(ranked, math.floor(ranked * share / 100 + Decimal("0.5")))

    key = upto(conf.key_share)
    return Cuts(ranked, key, max(key, upto(conf.key_share + conf.ordinary_share)))


RANKING_SQL = """
WITH inputs AS ({inputs}),
ranked AS (
    SELECT customer_id, tier, revenue, potential,
           ROW_NUMBER() OVER (
               ORDER BY revenue + CAST(%s AS NUMERIC) * potential DESC, revenue DESC, customer_id
           ) AS rank
    FROM inputs
)
SELECT customer_id, tier, revenue, potential, rank
FROM ranked
WHERE CASE WHEN rank <= %s THEN 'key' WHEN rank <= %s THEN 'ordinary' ELSE 'prospect' END <> tier
ORDER BY customer_id
"""


def _decimal(value) -> Decimal:
    # SQLite hands back sums of decimal columns as int or float.
    return value if isinstance(value, Decimal) else Decimal(str(value)).quantize(Decimal("0.01"))


def tier_proposals(year: int, conf: ClassificationSettings, *, batch: int = 2000):
    """Ranked customers whose rank puts them in another tier than their current one.

    Returns (rows, cuts, total revenue): `rows` yields dicts (customer_id, tier, revenue,
    potential, rank) in customer order. The ranking is one SQL statement over the revenue
    inputs: a window function (ROW_NUMBER by revenue + weight × potential, best first), the same
    on SQLite and PostgreSQL, read in batches — nothing is ranked in Python."""
    inputs = revenue_inputs(year)
    totals = CustomerRevenue.objects.filter(year=year, customer__deleted_at__isnull=True).aggregate(s=Sum("revenue"))
    cuts = tier_cuts(inputs.count(), conf)
    inner, params = inputs.query.sql_with_params()

    def rows():
        with connection.cursor() as cursor:
            cursor.execute(
                RANKING_SQL.format(inputs=inner),
                [*params, str(conf.potential_weight), cuts.key_upto, cuts.ordinary_upto],
            )
            while chunk := cursor.fetchmany(batch):
                for customer_id, tier, revenue, potential, rank in chunk:
                    yield {
                        "customer_id": customer_id,
                        "tier": tier,
                        "revenue": _decimal(revenue),
                        "potential": _decimal(potential),
                        "rank": rank,
                    }

    return rows(), cuts, _decimal(totals["s"] or 0)


def tier_for_rank(rank: int, cuts: Cuts) -> str:
    if rank <= cuts.key_upto:
        return Tier.KEY
    if rank <= cuts.ordinary_upto:
        return Tier.ORDINARY
    return Tier.PROSPECT


def revenue_of(customer: Customer, limit: int = 5) -> list[CustomerRevenue]:
    return list(customer.revenues.select_related("recorded_by").order_by("-year")[:limit])


# --- suggestions ---------------------------------------------------------------------------------


def suggestion_qs_visible_to(user: User) -> QuerySet[TierSuggestion]:
    """Suggestions on live customers in the user's scope, for those who decide tiers."""
    if not user.is_authenticated or not user.has_perm("classification.decide_tier"):
        return TierSuggestion.objects.none()
    return TierSuggestion.objects.filter(scope_q(user, owner="customer__owner"), customer__deleted_at__isnull=True)


def suggestion_list(user: User, *, status: str = SuggestionStatus.OPEN, direction: str = "") -> QuerySet:
    qs = suggestion_qs_visible_to(user).filter(status=status)
    if direction == "up":
        qs = qs.filter(Q(current_tier=Tier.PROSPECT) | Q(current_tier=Tier.ORDINARY, proposed_tier=Tier.KEY))
        qs = qs.exclude(proposed_tier=Tier.PROSPECT)
    elif direction == "down":
        qs = qs.filter(Q(proposed_tier=Tier.PROSPECT) | Q(current_tier=Tier.KEY))
        qs = qs.exclude(current_tier=Tier.PROSPECT)
    return qs.select_related("customer", "customer__owner", "decided_by").order_by("rank", "id")


def suggestion_get(user: User, pk) -> TierSuggestion:
    try:
        return suggestion_qs_visible_to(user).select_related("customer", "customer__owner").get(pk=int(pk))
    except (TierSuggestion.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


def open_suggestion_of(customer: Customer) -> TierSuggestion | None:
    return customer.tier_suggestions.filter(status=SuggestionStatus.OPEN).first()


# --- evaluations and credit (CLS-2..5) ----------------------------------------------------------


def key_evaluations_of(customer: Customer) -> QuerySet[KeyAccountEvaluation]:
    return customer.key_evaluations.select_related("evaluated_by").order_by("-evaluated_on", "-id")


def dealer_evaluations_of(customer: Customer) -> QuerySet[DealerEvaluation]:
    return customer.dealer_evaluations.select_related("evaluated_by").order_by("-evaluated_on", "-id")


def credit_records_of(customer: Customer) -> QuerySet[CreditRecord]:
    return customer.credit_records.select_related("set_by").order_by("-created_at", "-id")


def credit_current(customer: Customer) -> CreditRecord | None:
    """The rating and limit in force (orders over the limit will need approval)."""
    return credit_records_of(customer).first()


def evaluations_visible_to(user: User, model) -> QuerySet:
    """Evaluations or credit records of customers the user may see."""
    if not user.is_authenticated or not user.has_perm("customers.view_customer"):
        return model.objects.none()
    return model.objects.filter(scope_q(user, owner="customer__owner"), customer__deleted_at__isnull=True)


@dataclass
class ClassificationPanel:
    key: KeyAccountEvaluation | None
    dealer: DealerEvaluation | None
    credit: CreditRecord | None
    suggestion: TierSuggestion | None
    revenues: list[CustomerRevenue]


def classification_panel(customer: Customer) -> ClassificationPanel:
    """What the 360° page shows: latest evaluations, credit in force, an open suggestion, revenue."""
    return ClassificationPanel(
        key=key_evaluations_of(customer).first(),
        dealer=dealer_evaluations_of(customer).first(),
        credit=credit_current(customer),
        suggestion=open_suggestion_of(customer),
        revenues=revenue_of(customer),
    )


# --- sales-time allocation (CLS-6) --------------------------------------------------------------


def team_members_of(user: User) -> QuerySet[User]:
    """The people whose work falls in `user`'s data scope (the authors a time report covers)."""
    return User.objects.filter(scope_users_q(user))


@dataclass
class TimeRow:
    label: str
    minutes: dict = field(default_factory=lambda: {t: 0 for t in Tier.values})
    activities: int = 0
    untimed: int = 0

    @property
    def total(self) -> int:
        return sum(self.minutes.values())

    def share(self, tier: str) -> Decimal:
        if not self.total:
            return Decimal("0")
        return (Decimal(self.minutes[tier]) * 100 / self.total).quantize(Decimal("0.1"))

    @property
    def shares(self) -> dict:
        return {t: self.share(t) for t in Tier.values}

    @property
    def key_share(self) -> Decimal:
        return self.share(Tier.KEY)

    def add(self, tier: str, minutes: int, activities: int, untimed: int) -> None:
        self.minutes[tier] += minutes
        self.activities += activities
        self.untimed += untimed


@dataclass
class TimeReport:
    start: date
    end: date
    target: Decimal
    reps: list[TimeRow]
    teams: list[TimeRow]
    total: TimeRow


def time_report(user: User, start: date, end: date) -> TimeReport:
    """Minutes logged on activities per tier (the customer's current tier), per author and per the
    author's department, for activities on live customers from `start` to `end` inclusive.

    One aggregate query: `owner IN (team) AND occurred_at in range` walks the (owner, occurred_at)
    index of activities, then groups by author and tier."""
    tz = timezone.get_current_timezone()
    since = timezone.make_aware(datetime.combine(start, time.min), tz)
    until = timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min), tz)
    members = {
        u.pk: u for u in team_members_of(user).select_related("department").order_by("department__path", "username")
    }
    rows = (
        Activity.objects.filter(
            owner_id__in=list(members),
            occurred_at__gte=since,
            occurred_at__lt=until,
            deleted_at__isnull=True,
            customer__deleted_at__isnull=True,
        )
        .values("owner_id", "customer__tier")
        .annotate(
            minutes=Sum("duration_minutes"),
            n=Count("id"),
            untimed=Count("id", filter=Q(duration_minutes__isnull=True)),
        )
        .order_by()
    )
    reps: dict[int, TimeRow] = {}
    teams: dict[int | None, TimeRow] = {}
    total = TimeRow(label="")
    for row in rows:
        member = members[row["owner_id"]]
        args = (row["customer__tier"], row["minutes"] or 0, row["n"], row["untimed"])
        reps.setdefault(member.pk, TimeRow(label=member.display_name)).add(*args)
        dept = member.department
        teams.setdefault(dept.pk if dept else None, TimeRow(label=dept.name if dept else "—")).add(*args)
        total.add(*args)
    order = list(members)
    return TimeReport(
        start=start,
        end=end,
        target=ClassificationSettings.load().key_time_target,
        reps=[reps[pk] for pk in order if pk in reps],
        teams=sorted(teams.values(), key=lambda r: r.label),
        total=total,
    )
