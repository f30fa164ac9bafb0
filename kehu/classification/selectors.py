"""Every read of classification data: revenue inputs, the ABC ranking, suggestions, evaluations,
credit and the sales-time report."""

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum
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
from kehu.core import lookups
from kehu.customers.models import Customer, Tier
from kehu.users.models import User
from kehu.users.scopes import scope_q
from kehu.users.selectors import scope_users_q

# --- revenue and the ABC ranking (CLS-1) ---------------------------------------------------------


ZERO = Decimal("0")
FEN = Decimal("0.01")


def _decimal(value) -> Decimal:
    # SQLite hands back sums of decimal columns as int or float.
    return value if isinstance(value, Decimal) else Decimal(str(value)).quantize(FEN)


INPUT_BATCH = 2000


@dataclass(frozen=True)
class RevenueInput:
    customer_id: int
    tier: str  # the customer's current tier
    revenue: Decimal
    potential: Decimal
    from_orders: bool  # the revenue is the year's booked orders (else the figure entered by hand)


def revenue_inputs(year: int, *, batch: int = INPUT_BATCH) -> Iterator[RevenueInput]:
    """Revenue and potential of each live customer for `year`: the one source the ranking reads,
    in customer order, read in batches of `batch` customers.

    Revenue comes from orders where there are any: the `CUSTOMER_REVENUE` lookup (the orders app
    answers with the booked orders' totals, tax included, by order date) asked once per batch.
    A customer-year with any booked order takes that figure; one without keeps the revenue
    entered by hand (`CustomerRevenue`: years before the orders were kept in Kehu, customers whose
    orders are not). Potential is always the hand-entered figure (0 when there is none). A
    customer with neither orders nor a hand-entered row for the year is not ranked.

    When nobody answers the lookup only the customers with hand-entered rows are walked; otherwise
    every live customer (the ranking cannot know which customers have orders without asking), a
    fixed three queries per batch."""
    live = Customer.objects.filter(deleted_at__isnull=True)
    if not lookups.answered(lookups.CUSTOMER_REVENUE):
        live = live.filter(pk__in=CustomerRevenue.objects.filter(year=year).values("customer_id"))
    last = 0
    while chunk := list(live.filter(pk__gt=last).order_by("pk").values_list("pk", "tier")[:batch]):
        last = chunk[-1][0]
        ids = [pk for pk, _tier in chunk]
        entered = {
            row["customer_id"]: row
            for row in CustomerRevenue.objects.filter(year=year, customer_id__in=ids)
            .values("customer_id")
            .annotate(revenue=Sum("revenue"), potential=Sum("potential"))
            .order_by()
        }
        ordered = lookups.ask_amounts(lookups.CUSTOMER_REVENUE, ids, year=year)
        for pk, tier in chunk:
            row = entered.get(pk)
            if pk not in ordered and row is None:
                continue
            yield RevenueInput(
                customer_id=pk,
                tier=tier,
                revenue=_decimal(ordered[pk]) if pk in ordered else _decimal(row["revenue"] or 0),
                potential=_decimal(row["potential"] or 0) if row else ZERO,
                from_orders=pk in ordered,
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


# The inputs are written to a temporary table (amounts in fen, so sums and the order are exact on
# SQLite as on PostgreSQL) and ranked there in one statement.
RANK_TABLE = "classification_rank_inputs"
RANKING_SQL = f"""
WITH ranked AS (
    SELECT customer_id, tier, revenue, potential,
           ROW_NUMBER() OVER (
               ORDER BY revenue + CAST(%s AS NUMERIC) * potential DESC, revenue DESC, customer_id
           ) AS rank
    FROM {RANK_TABLE}
)
SELECT customer_id, tier, revenue, potential, rank
FROM ranked
WHERE CASE WHEN rank <= %s THEN 'key' WHEN rank <= %s THEN 'ordinary' ELSE 'prospect' END <> tier
ORDER BY customer_id
"""


def _fen(amount: Decimal) -> int:
    return int((amount / FEN).to_integral_value())


def _yuan(fen) -> Decimal:
    return (Decimal(int(fen)) * FEN).quantize(FEN)


def tier_proposals(year: int, conf: ClassificationSettings, *, batch: int = INPUT_BATCH):
    """Ranked customers whose rank puts them in another tier than their current one.

    Returns (rows, cuts, total revenue): `rows` yields dicts (customer_id, tier, revenue,
    potential, rank) in customer order. The revenue inputs (`revenue_inputs`) are written in
    batches to a temporary table; the ranking is then one SQL statement over it: a window function
    (ROW_NUMBER by revenue + weight × potential, best first), the same on SQLite and PostgreSQL,
    read in batches — nothing is ranked in Python. The table is dropped when `rows` is done."""
    insert = f"INSERT INTO {RANK_TABLE} (customer_id, tier, revenue, potential) VALUES (%s, %s, %s, %s)"
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {RANK_TABLE}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {RANK_TABLE} (customer_id bigint PRIMARY KEY, tier varchar(16) NOT NULL,"
            " revenue bigint NOT NULL, potential bigint NOT NULL)"
        )
        pending: list[tuple] = []
        for row in revenue_inputs(year, batch=batch):
            pending.append((row.customer_id, row.tier, _fen(row.revenue), _fen(row.potential)))
            if len(pending) >= batch:
                cursor.executemany(insert, pending)
                pending = []
        if pending:
            cursor.executemany(insert, pending)
        cursor.execute(f"SELECT COUNT(*), COALESCE(SUM(revenue), 0) FROM {RANK_TABLE}")
        ranked, total = cursor.fetchone()
    cuts = tier_cuts(ranked, conf)

    def rows():
        try:
            with connection.cursor() as cursor:
                cursor.execute(RANKING_SQL, [str(conf.potential_weight), cuts.key_upto, cuts.ordinary_upto])
                while chunk := cursor.fetchmany(batch):
                    for customer_id, tier, revenue, potential, rank in chunk:
                        yield {
                            "customer_id": customer_id,
                            "tier": tier,
                            "revenue": _yuan(revenue),
                            "potential": _yuan(potential),
                            "rank": rank,
                        }
        finally:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {RANK_TABLE}")

    return rows(), cuts, _yuan(total)


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
    """What the 360° page shows: latest evaluations, credit in force, an open suggestion, revenue (not
    who recorded them: those are on the classification pages, so no join to the users here)."""
    return ClassificationPanel(
        key=key_evaluations_of(customer).select_related(None).first(),
        dealer=dealer_evaluations_of(customer).select_related(None).first(),
        credit=credit_records_of(customer).select_related(None).first(),
        suggestion=open_suggestion_of(customer),
        revenues=list(customer.revenues.order_by("-year")[:5]),
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
