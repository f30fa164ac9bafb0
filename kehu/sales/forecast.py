"""The forecast (SAL-11): sums per rep and month kept in ForecastRow, read against the monthly
targets. Weighted = amount × probability of open deals expected to close in the month; committed
(确定金额) = won in the month plus open deals at COMMIT_PROBABILITY or more.

A change to a deal recomputes the cells it left and the cells it entered once its transaction
commits (`forecast_touch`); the periodic `forecast_refresh` recounts everything as a safety net."""

import threading
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial

from django.db import IntegrityError, models, transaction
from django.db.models import Case, DecimalField, ExpressionWrapper, F, Q, Sum, Value, When
from django.db.models.functions import TruncMonth
from django.utils import timezone

from kehu.core import lookups
from kehu.sales.models import ForecastRow, Opportunity, StageKind, Target, TargetLevel, TargetMetric
from kehu.users.models import User
from kehu.users.roles import DataScope
from kehu.users.scopes import scope_for

COMMIT_PROBABILITY = 75
ZERO = Decimal("0.00")
CENT = Decimal("0.01")
MONEY = DecimalField(max_digits=18, decimal_places=4)


def _money(value) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT)


def _sums() -> dict:
    """Pipeline, weighted and committed sums and the count of open deals."""
    return dict(
        total=Sum("amount"),
        weighted=Sum(ExpressionWrapper(F("amount") * F("probability") / Value(100), output_field=MONEY)),
        committed=Sum(
            Case(When(probability__gte=COMMIT_PROBABILITY, then=F("amount")), default=Value(0), output_field=MONEY)
        ),
        n=models.Count("id"),
    )


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
        .annotate(**_sums())
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


# ---- recomputing only what a change touched ----------------------------------------------------

Cell = tuple[int, date]  # (owner id, first day of the month)


def month_of(moment) -> date:
    """The month a close falls in, in the company's time zone (what TruncMonth reads in the refresh)."""
    if isinstance(moment, datetime):
        moment = timezone.localtime(moment, timezone.get_default_timezone()).date()
    return moment.replace(day=1)


def forecast_cells(opportunity: Opportunity) -> set[Cell]:
    """The cells a deal counts in as it is now: an open deal in the month it should close, a won
    deal in the month it was won; a lost or deleted deal in none."""
    if opportunity.deleted_at is not None:
        return set()
    if opportunity.status == StageKind.OPEN and opportunity.expected_close_on:
        return {(opportunity.owner_id, month_of(opportunity.expected_close_on))}
    if opportunity.status == StageKind.WON and opportunity.closed_at:
        return {(opportunity.owner_id, month_of(opportunity.closed_at))}
    return set()


def _next_month(month: date) -> date:
    return (month + timedelta(days=32)).replace(day=1)


def _start_of(month: date) -> datetime:
    return timezone.make_aware(datetime(month.year, month.month, 1), timezone.get_default_timezone())


def forecast_refresh_cells(cells: Iterable[Cell], now=None) -> int:
    """Recompute the given (owner, month) rows from the opportunities: two aggregate queries and
    one write per cell (two for a new row). Returns how many rows exist afterwards."""
    now = now or timezone.now()
    kept = 0
    for owner_id, month in sorted(set(cells)):
        live = Opportunity.objects.filter(deleted_at__isnull=True, owner_id=owner_id)
        month_end = _next_month(month)
        open_row = live.filter(
            status=StageKind.OPEN, expected_close_on__gte=month, expected_close_on__lt=month_end
        ).aggregate(**_sums())
        won_row = live.filter(
            status=StageKind.WON, closed_at__gte=_start_of(month), closed_at__lt=_start_of(month_end)
        ).aggregate(total=Sum("amount"), n=models.Count("id"))
        if not open_row["n"] and not won_row["n"]:
            ForecastRow.objects.filter(owner_id=owner_id, month=month).delete()
            continue
        won = _money(won_row["total"])
        values = {
            "pipeline_amount": _money(open_row["total"]),
            "weighted_amount": _money(open_row["weighted"]),
            "committed_amount": _money(open_row["committed"]) + won,
            "won_amount": won,
            "open_count": open_row["n"] or 0,
            "refreshed_at": now,
        }
        row = ForecastRow.objects.filter(owner_id=owner_id, month=month)
        if not row.update(**values):
            try:
                with transaction.atomic():
                    ForecastRow.objects.create(owner_id=owner_id, month=month, **values)
            except IntegrityError:  # a recount running beside this one created it first
                row.update(**values)
        kept += 1
    return kept


_batch = threading.local()


def forecast_touch(cells: Iterable[Cell]) -> None:
    """Recompute these cells when the current transaction commits (at once outside one); nothing
    if it rolls back. A failure is logged, and the periodic refresh puts it right."""
    cells = frozenset(cells)
    if not cells:
        return
    pending = getattr(_batch, "cells", None)
    if pending is not None:
        pending |= cells
        return
    transaction.on_commit(partial(forecast_refresh_cells, cells), robust=True)


@contextmanager
def forecast_batch():
    """Many changes, one recount: the cells they touch are recomputed once, on commit."""
    if getattr(_batch, "cells", None) is not None:  # already inside a batch
        yield
        return
    _batch.cells = set()
    try:
        yield
        cells = _batch.cells
    finally:
        _batch.cells = None
    forecast_touch(cells)


# ---- reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """What the forecast shows: the rolling twelve months from this one, or a calendar year."""

    months: tuple[date, ...]
    year: int | None = None

    @property
    def is_rolling(self) -> bool:
        return self.year is None


def rolling_period(today: date | None = None) -> Period:
    month = (today or timezone.localdate()).replace(day=1)
    months = [month]
    for _i in range(11):
        months.append(_next_month(months[-1]))
    return Period(months=tuple(months))


def year_period(year: int) -> Period:
    return Period(months=tuple(date(year, m, 1) for m in range(1, 13)), year=year)


def period_from(value: str | None, today: date | None = None) -> Period:
    """`next12` (the default) or a year between 2000 and 2100; anything else is the default."""
    if value and len(value) == 4 and value.isascii() and value.isdigit() and 2000 <= int(value) <= 2100:
        return year_period(int(value))
    return rolling_period(today)


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
    period: Period
    months: list[date]
    team: dict[date, Cells]
    reps: list[tuple[User, dict[date, Cells], Cells]]
    refreshed_at: object = None
    collections: dict[date, Decimal] = field(default_factory=dict)
    # Payments received per month in the reader's scope (SAL-11 actuals; lookups.COLLECTED).
    collected: dict[date, Decimal] = field(default_factory=dict)


def collected_by_month(owner_ids, months: list[date]) -> dict[date, Decimal]:
    """What the receivables app counts as collected in these months, summed over the owners (None:
    everyone); empty when nobody answers."""
    if not months:
        return {}
    last = months[-1]
    end = date(last.year + (last.month == 12), last.month % 12 + 1, 1) - timedelta(days=1)
    found = lookups.ask_call(lookups.COLLECTED, owner_ids, months[0], end) or {}
    sums = {m: ZERO for m in months}
    for (_owner, month), amount in found.items():
        if month in sums:
            sums[month] += amount
    return sums


def forecast_for(user: User, period: Period) -> Forecast:
    """The user's team (scope) by month of the period, per person and summed, against the targets.
    Only people who own deals counted in the period or have a target in it are listed. Six queries
    whatever the team's size."""
    months = list(period.months)
    first, last = months[0], months[-1]
    scope = scope_for(user)
    everyone = scope.kind == DataScope.ALL
    ids = scope.owner_ids or (user.pk,)
    rows = ForecastRow.objects.filter(month__gte=first, month__lte=last)
    targets = Target.objects.filter(month__gte=first, month__lte=last, metric=TargetMetric.SALES)
    rep_targets = targets.filter(level=TargetLevel.REP)
    if not everyone:
        rows = rows.filter(owner_id__in=ids)
        rep_targets = rep_targets.filter(user_id__in=ids)
    rows = list(rows)
    rep_targets = list(rep_targets)
    refreshed = max((r.refreshed_at for r in rows), default=None)
    listed = {r.owner_id for r in rows} | {t.user_id for t in rep_targets}
    people = list(User.objects.filter(pk__in=listed).order_by("username")) if listed else []
    per_rep: dict[int, dict[date, Cells]] = {u.pk: {m: Cells() for m in months} for u in people}
    team = {m: Cells() for m in months}
    for r in rows:
        per_rep[r.owner_id][r.month].add(r)
        team[r.month].add(r)
    for t in rep_targets:
        per_rep[t.user_id][t.month].target = t.amount
    if everyone:
        team_targets = targets.filter(level=TargetLevel.COMPANY)
    else:
        team_targets = targets.filter(level=TargetLevel.DEPARTMENT, department_id=user.department_id)
    for t in team_targets:
        team[t.month].target = t.amount
    collections = {
        t.month: t.amount
        for t in Target.objects.filter(month__gte=first, month__lte=last, metric=TargetMetric.COLLECTIONS).filter(
            Q(level=TargetLevel.COMPANY) if everyone else Q(department_id=user.department_id)
        )
    }
    reps = []
    for u in people:
        cells = per_rep[u.pk]
        total = Cells()
        total.target = sum((c.target or ZERO for c in cells.values()), ZERO) or None
        for c in cells.values():
            total.weighted += c.weighted
            total.committed += c.committed
            total.won += c.won
            total.pipeline += c.pipeline
        reps.append((u, cells, total))
    return Forecast(
        period=period,
        months=months,
        team=team,
        reps=reps,
        refreshed_at=refreshed,
        collections=collections,
        collected=collected_by_month(None if everyone else ids, months),
    )
