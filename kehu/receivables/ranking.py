"""The collection ranking (SAL-11): payments received per rep in this month, quarter or year, in the
reader's scope. A payment counts for the rep it is credited to (`Payment.owner`) on the day received;
refunds count negative; a reversed payment and its reversal count nothing."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.receivables.models import Payment, PaymentState
from kehu.users.models import User
from kehu.users.scopes import scope_q

ZERO = Decimal("0")
PERIODS = {"month": _("This month"), "quarter": _("This quarter"), "year": _("This year")}


@dataclass
class RankRow:
    rank: int
    owner_id: int
    name: str
    collected: Decimal
    payments: int


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
    signed = Sum("amount", filter=Q(is_refund=False))
    refunds = Sum("amount", filter=Q(is_refund=True))
    rows = (
        Payment.objects.filter(
            scope_q(user, owner="owner"),
            state=PaymentState.CONFIRMED,
            reverses__isnull=True,
            received_on__gte=first,
            received_on__lte=last,
        )
        .values("owner_id")
        .annotate(received=signed, refunded=refunds, payments=Count("pk"))
        .values_list("owner_id", "received", "refunded", "payments")
    )
    found = [(pk, (received or ZERO) - (refunded or ZERO), n) for pk, received, refunded, n in rows]
    names = {u.pk: u.display_name for u in User.objects.filter(pk__in=[pk for pk, *_ in found])}
    found.sort(key=lambda item: (-item[1], names.get(item[0], "")))
    return [
        RankRow(rank=i, owner_id=pk, name=names.get(pk, str(pk)), collected=amount, payments=n)
        for i, (pk, amount, n) in enumerate(found, start=1)
    ]
