"""The receivables' answers to the questions lower apps ask (kehu.core.lookups), registered in
`AppConfig.ready`: OVERDUE_RECEIVABLE (customers with a plan past its due date), OPEN_MONEY (what
each customer owes: one item per customer, flagged overdue), COLLECTED (payments per owner and
month, reversals and refunds subtracted)."""

from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.db.models import F, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core import lookups
from kehu.receivables.balances import COUNTED_PAYMENT_STATES, payment_sign
from kehu.receivables.models import OPEN_PLAN_STATES, CustomerBalance, Payment, PaymentPlan


def overdue_customers(ids) -> set[int]:
    return set(
        PaymentPlan.objects.filter(customer_id__in=ids, state__in=OPEN_PLAN_STATES, due_on__lt=timezone.localdate())
        .filter(amount__gt=F("received_amount"))
        .order_by()  # the plans' default order would put due_on and id into the DISTINCT: a row per plan
        .values_list("customer_id", flat=True)
        .distinct()
    )


def open_money(ids) -> dict[int, list]:
    found: dict[int, list] = {}
    for b in CustomerBalance.objects.filter(customer_id__in=ids, owed__gt=0):
        if b.overdue > 0:
            label = _("Owed %(owed)s, of which %(overdue)s overdue") % {"owed": b.owed, "overdue": b.overdue}
        else:
            label = _("Owed %(owed)s, not yet overdue") % {"owed": b.owed}
        found[b.customer_id] = [
            lookups.MoneyItem(
                kind="receivable",
                reference=_("Receivables"),
                label=label,
                amount=b.owed,
                link=f"/receivables/plans/?customer={b.customer_id}",
                is_overdue=b.overdue > 0,
            )
        ]
    return found


def collected(owner_ids, first: date, last: date) -> dict[tuple[int, date], Decimal]:
    """{(owner id, first day of month): Σ received − refunded − reversed} by the date received."""
    qs = Payment.objects.filter(state__in=COUNTED_PAYMENT_STATES, received_on__gte=first, received_on__lte=last)
    if owner_ids is not None:
        qs = qs.filter(owner_id__in=list(owner_ids))
    sums: dict = defaultdict(lambda: Decimal("0"))
    for row in (
        qs.annotate(month=TruncMonth("received_on"))
        .values("owner_id", "month")
        .annotate(s=Sum(payment_sign() * F("amount")))
    ):
        month = row["month"]
        if hasattr(month, "date"):
            month = month.date()
        sums[(row["owner_id"], month)] += row["s"] or Decimal("0")
    return dict(sums)


def register() -> None:
    lookups.answer(lookups.OVERDUE_RECEIVABLE, overdue_customers)
    lookups.answer(lookups.OPEN_MONEY, open_money)
    lookups.answer(lookups.COLLECTED, collected)
