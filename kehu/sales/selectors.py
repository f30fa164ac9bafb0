"""Every read of opportunities, pipelines, targets and the forecast."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, Max, Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone

from kehu.sales.models import Opportunity, Pipeline, Stage, StageKind
from kehu.users.models import User
from kehu.users.scopes import scope_q


def may_use_sales(user: User) -> bool:
    return user.is_authenticated and user.has_perm("sales.view_opportunity")


def opportunity_qs_visible_to(user: User) -> QuerySet[Opportunity]:
    """Live opportunities whose owner is in the user's data scope; the one door for reading them."""
    if not may_use_sales(user):
        return Opportunity.objects.none()
    return Opportunity.objects.filter(scope_q(user), deleted_at__isnull=True)


def deleted_opportunities_for(user: User) -> QuerySet[Opportunity]:
    """The deals' recycle bin: deleted deals of the user's scope, for those who may delete deals."""
    if not may_use_sales(user) or not user.has_perm("sales.delete_opportunity"):
        return Opportunity.objects.none()
    return (
        Opportunity.objects.filter(scope_q(user), deleted_at__isnull=False)
        .select_related("customer", "owner", "stage", "deleted_by")
        .order_by("-deleted_at", "-id")
    )


def deleted_opportunity_get(user: User, pk) -> Opportunity:
    opportunity = deleted_opportunities_for(user).filter(pk=pk).first()
    if opportunity is None:
        raise Http404
    return opportunity


def opportunity_get(user: User, pk) -> Opportunity:
    try:
        return opportunity_qs_visible_to(user).select_related("customer", "owner", "pipeline", "stage").get(pk=int(pk))
    except (Opportunity.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


def pipelines_all() -> list[Pipeline]:
    return list(Pipeline.objects.order_by("-is_default", "name", "id"))


def stages_of(pipeline: Pipeline) -> list[Stage]:
    return list(Stage.objects.filter(pipeline=pipeline).order_by("order", "id"))


def stage_history(opportunity: Opportunity):
    return opportunity.stage_changes.select_related("from_stage", "to_stage", "by").order_by("-at", "-id")


BOARD_CAP = 20
LIST_COLUMNS = ("customer", "owner", "stage", "pipeline")
SORT_ORDER = {
    "-updated": ("-updated_at", "-id"),
    "-amount": ("-amount", "-id"),
    "amount": ("amount", "id"),
    "close": ("expected_close_on", "id"),
    "name": ("name", "id"),
}


@dataclass
class Column:
    stage: Stage
    cards: list
    count: int
    amount: Decimal

    @property
    def more(self) -> int:
        return max(0, self.count - len(self.cards))


def _board_qs(user: User, pipeline: Pipeline) -> QuerySet[Opportunity]:
    return opportunity_qs_visible_to(user).filter(pipeline=pipeline, status=StageKind.OPEN)


def _column_totals(qs: QuerySet[Opportunity], stage_ids=None) -> dict[int, dict]:
    """{stage id: {"n", "total"}} of open deals, read from opp_board_sums_idx alone."""
    if stage_ids is not None:
        qs = qs.filter(stage_id__in=stage_ids)
    # COUNT(*), not COUNT(id): PostgreSQL's indexes do not hold the id, so counting ids read every row
    # from the table (SQLite's hold the rowid); with COUNT(*) the covering index answers alone.
    return {
        row["stage_id"]: row for row in qs.order_by().values("stage_id").annotate(n=Count("*"), total=Sum("amount"))
    }


def board_columns(user: User, pipeline: Pipeline, stages: list[Stage]) -> list[Column]:
    """The headers of some columns of one pipeline (count and sum, no cards): what a move changes.
    One query, the same the board reads its sums with."""
    if not stages:
        return []
    totals = _column_totals(_board_qs(user, pipeline), [s.pk for s in stages])
    return [
        Column(
            stage=s,
            cards=[],
            count=totals.get(s.pk, {}).get("n", 0),
            amount=totals.get(s.pk, {}).get("total") or Decimal("0"),
        )
        for s in stages
    ]


def board(user: User, pipeline: Pipeline, *, cap: int = BOARD_CAP) -> list[Column]:
    """Columns of a pipeline's stages; each holds up to `cap` open cards in scope, biggest first,
    and the column's full count and sum. Two queries plus one per open stage, whatever the data:
    the sums read only the board index (pipeline, status, stage, owner, amount) and each column
    walks the (stage, -amount, id) index and stops at `cap` cards."""
    stages = stages_of(pipeline)
    qs = _board_qs(user, pipeline)
    totals = _column_totals(qs)
    columns = []
    for s in stages:
        total = totals.get(s.pk, {})
        cards = []
        if s.kind == StageKind.OPEN and total.get("n"):
            cards = list(qs.filter(stage=s).select_related("customer", "owner").order_by("-amount", "id")[:cap])
        columns.append(Column(stage=s, cards=cards, count=total.get("n", 0), amount=total.get("total") or Decimal("0")))
    return columns


def overdue_q(qs: QuerySet[Opportunity], today: date | None = None) -> QuerySet[Opportunity]:
    """Open deals whose expected close date has passed (read from opp_forecast_cover_idx alone)."""
    return qs.filter(status=StageKind.OPEN, expected_close_on__lt=today or timezone.localdate())


@dataclass(frozen=True)
class OverdueDeals:
    count: int
    amount: Decimal


def overdue_deals(user: User, today: date | None = None) -> OverdueDeals:
    """How many open deals in the user's scope are past their close date, and what they are worth."""
    # COUNT(*): from opp_forecast_cover_idx alone on PostgreSQL too (see _column_totals).
    row = overdue_q(opportunity_qs_visible_to(user), today).aggregate(n=Count("*"), total=Sum("amount"))
    return OverdueDeals(count=row["n"] or 0, amount=Decimal(row["total"] or 0).quantize(Decimal("0.01")))


@dataclass(frozen=True)
class OpportunityFilters:
    q: str = ""
    pipeline: Pipeline | None = None
    stage: Stage | None = None
    status: str = ""
    owner: User | None = None
    overdue: bool = False
    sort: str = "-updated"


def opportunity_list(user: User, filters: OpportunityFilters) -> QuerySet[Opportunity]:
    qs = opportunity_qs_visible_to(user)
    if filters.q:
        qs = qs.filter(Q(name__icontains=filters.q) | Q(customer__name__icontains=filters.q))
    if filters.pipeline:
        qs = qs.filter(pipeline=filters.pipeline)
    if filters.stage:
        qs = qs.filter(stage=filters.stage)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.owner:
        qs = qs.filter(owner=filters.owner)
    if filters.overdue:
        qs = overdue_q(qs)
    return qs.select_related(*LIST_COLUMNS).order_by(*SORT_ORDER.get(filters.sort, SORT_ORDER["-updated"]))


def opportunity_page(user: User, filters: OpportunityFilters, *, offset: int, limit: int) -> tuple[list, bool]:
    """One page and whether another follows (no count: two queries at most whatever the size)."""
    rows = list(opportunity_list(user, filters)[offset : offset + limit + 1])
    return rows[:limit], len(rows) > limit


def open_opportunities_of(user: User, customer_id: int, limit: int = 10) -> list[Opportunity]:
    """The customer's open deals the user may see (for the 360° page)."""
    return list(
        opportunity_qs_visible_to(user)
        .filter(customer_id=customer_id, status=StageKind.OPEN)
        .select_related("stage", "owner")
        .order_by("expected_close_on", "-amount", "id")[:limit]
    )


def customer_sales_panel(user: User, customer) -> dict:
    """What the 360° page shows: the customer's open deals in scope, and whether a new one may start."""
    if not may_use_sales(user):
        return {"show": False}
    return {
        "show": True,
        "opportunities": open_opportunities_of(user, customer.pk),
        "may_add": user.has_perm("sales.add_opportunity"),
    }


# ---- answers to the questions lower apps ask (kehu.core.lookups; registered in apps.py) ---------


def customers_with_open_deal(ids: list[int]) -> set[int]:
    """Which of these customers have a deal in progress (the pool exempts them from its rules)."""
    live = Opportunity.objects.filter(customer_id__in=ids, status=StageKind.OPEN, deleted_at__isnull=True)
    return set(live.values_list("customer_id", flat=True).distinct())


def last_won_deals(ids: list[int]) -> dict[int, object]:
    """When each of these customers last won a deal (the pool's "no deal" rule counts from it)."""
    won = Opportunity.objects.filter(
        customer_id__in=ids, status=StageKind.WON, deleted_at__isnull=True, closed_at__isnull=False
    )
    return dict(won.values("customer_id").annotate(last=Max("closed_at")).values_list("customer_id", "last"))
