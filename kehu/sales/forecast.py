"""The forecast (SAL-11): sums per rep and month kept in ForecastRow by a periodic task, read
against the monthly targets. Weighted = amount × probability of open deals expected to close in
the month; committed = won in the month plus open deals at COMMIT_PROBABILITY or more."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import models, transaction
from django.db.models import Case, DecimalField, ExpressionWrapper, F, Max, Q, Sum, Value, When
from django.db.models.functions import TruncMonth
from django.utils import timezone

from kehu.sales.models import ForecastRow, Opportunity, StageKind, Target, TargetLevel, TargetMetric
from kehu.users.models import User
from kehu.users.roles import DataScope
from kehu.users.scopes import scope_for
from kehu.users.selectors import scope_users_q

COMMIT_PROBABILITY = 75
ZERO = Decimal("0.00")
CENT = Decimal("0.01")
MONEY = DecimalField(max_digits=18, decimal_places=4)


def _money(value) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT)


@transaction.atomic
def forecast_refresh(now=None) -> int:
    """Recompute every row from the opportunities; idempotent. Returns the number of rows."""
    now = now or timezone.now()
    live = Opportunity.objects.filter(deleted_at__isnull=True)
    rows: dict[tuple[int, date], ForecastRow] = {}

    def row(owner_id, month) -> ForecastRow:
        key = (owner_id, month)
        if key not in rows:
            rows[key] = ForecastRow(owner_id=owner_id, month=month, refreshed_at=now)
        return rows[key]

    open_sums = (
        live.filter(status=StageKind.OPEN, expected_close_on__isnull=False)
        .annotate(m=TruncMonth("expected_close_on"))
        .values("owner_id", "m")
        .annotate(
            total=Sum("amount"),
            weighted=Sum(ExpressionWrapper(F("amount") * F("probability") / Value(100), output_field=MONEY)),
            committed=Sum(
                Case(When(probability__gte=COMMIT_PROBABILITY, then=F("amount")), default=Value(0), output_field=MONEY)
            ),
            n=models.Count("id"),
        )
        .order_by()
    )
    for s in open_sums:
        r = row(s["owner_id"], _as_date(s["m"]))
        r.pipeline_amount = _money(s["total"])
        r.weighted_amount = _money(s["weighted"])
        r.committed_amount += _money(s["committed"])
        r.open_count = s["n"]
    won_sums = (
        live.filter(status=StageKind.WON, closed_at__isnull=False)
        .annotate(m=TruncMonth("closed_at"))
        .values("owner_id", "m")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    for s in won_sums:
        r = row(s["owner_id"], _as_date(s["m"]))
        r.won_amount = _money(s["total"])
        r.committed_amount += _money(s["total"])
    ForecastRow.objects.all().delete()
    ForecastRow.objects.bulk_create(rows.values(), batch_size=1000)
    return len(rows)


def _as_date(value) -> date:
    if hasattr(value, "date") and callable(value.date):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        return value.date().replace(day=1)
    return value.replace(day=1)


@dataclass
class Cells:
    weighted: Decimal = ZERO
    committed: Decimal = ZERO
    won: Decimal = ZERO
    pipeline: Decimal = ZERO
    target: Decimal | None = None

    @property
    def attainment(self) -> int | None:
        if not self.target:
            return None
        return int(self.won * 100 / self.target)

    def add(self, r: ForecastRow) -> None:
        self.weighted += r.weighted_amount
        self.committed += r.committed_amount
        self.won += r.won_amount
        self.pipeline += r.pipeline_amount


@dataclass
class Forecast:
    year: int
    months: list[date]
    team: dict[date, Cells]
    reps: list[tuple[User, dict[date, Cells], Cells]]
    refreshed_at: object = None
    team_target_label: str = ""
    collections: dict[date, Decimal] = field(default_factory=dict)


def forecast_for(user: User, year: int) -> Forecast:
    """The user's team (scope) by month of `year`: per rep and summed, against the targets."""
    months = [date(year, m, 1) for m in range(1, 13)]
    team_users = list(User.objects.filter(scope_users_q(user), is_active=True).order_by("username"))
    ids = [u.pk for u in team_users]
    rows = ForecastRow.objects.filter(month__year=year, owner_id__in=ids)
    refreshed = ForecastRow.objects.aggregate(at=Max("refreshed_at"))["at"]
    per_rep: dict[int, dict[date, Cells]] = {u.pk: {m: Cells() for m in months} for u in team_users}
    team = {m: Cells() for m in months}
    for r in rows:
        per_rep[r.owner_id][r.month].add(r)
        team[r.month].add(r)
    targets = Target.objects.filter(month__year=year, metric=TargetMetric.SALES)
    for t in targets.filter(level=TargetLevel.REP, user_id__in=ids):
        per_rep[t.user_id][t.month].target = t.amount
    scope = scope_for(user)
    if scope.kind == DataScope.ALL:
        team_targets = targets.filter(level=TargetLevel.COMPANY)
    else:
        team_targets = targets.filter(level=TargetLevel.DEPARTMENT, department_id=user.department_id)
    for t in team_targets:
        team[t.month].target = t.amount
    collections = {
        t.month: t.amount
        for t in Target.objects.filter(month__year=year, metric=TargetMetric.COLLECTIONS).filter(
            Q(level=TargetLevel.COMPANY) if scope.kind == DataScope.ALL else Q(department_id=user.department_id)
        )
    }
    reps = []
    for u in team_users:
        cells = per_rep[u.pk]
        total = Cells()
        total.target = sum((c.target or ZERO for c in cells.values()), ZERO) or None
        for c in cells.values():
            total.weighted += c.weighted
            total.committed += c.committed
            total.won += c.won
            total.pipeline += c.pipeline
        reps.append((u, cells, total))
    return Forecast(year=year, months=months, team=team, reps=reps, refreshed_at=refreshed, collections=collections)
