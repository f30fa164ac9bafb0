"""The collection ranking (SAL-11): payments received per rep in this month, quarter or year, in the
reader's scope. What counts as collected is what the collection targets' actuals count
(`lookups.collected`, the COLLECTED answer): payments received by the rep they are credited to, on the
day received; refunds and reversals count negative."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.receivables.lookups import collected
from kehu.users.models import User
from kehu.users.roles import DataScope
from kehu.users.scopes import scope_for

ZERO = Decimal("0")
PERIODS = {"month": _("This month"), "quarter": _("This quarter"), "year": _("This year")}


@dataclass
class RankRow:
    rank: int
    owner_id: int
    name: str
    collected: Decimal


def period_bounds(period: str, today: date | None = None) -> tuple[date, date]:
    today = today or timezone.localdate()
    if period == "year":
        return date(today.year, 1, 1), today
    if period == "quarter":
        return date(today.year, 3 * ((today.month - 1) // 3) + 1, 1), today
    return date(today.year, today.month, 1), today


def collection_ranking(user: User, period: str = "month", *, today: date | None = None) -> list[RankRow]:
    """Reps in the reader's scope ranked by what they collected (two queries)."""
    first, last = period_bounds(period if period in PERIODS else "month", today)
    scope = scope_for(user)
    owner_ids = None if scope.kind == DataScope.ALL else (scope.owner_ids or (user.pk,))
    sums: dict[int, Decimal] = {}
    for (owner_id, _month), amount in collected(owner_ids, first, last).items():
        sums[owner_id] = sums.get(owner_id, ZERO) + amount
    names = {u.pk: u.display_name for u in User.objects.filter(pk__in=list(sums))}
    ordered = sorted(sums.items(), key=lambda item: (-item[1], names.get(item[0], "")))
    return [
        RankRow(rank=i, owner_id=pk, name=names.get(pk, str(pk)), collected=amount.quantize(Decimal("0.01")))
        for i, (pk, amount) in enumerate(ordered, start=1)
    ]
