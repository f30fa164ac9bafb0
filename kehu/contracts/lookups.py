"""The contracts' answers to the lower apps' questions (registered in AppConfig.ready)."""

from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.contracts.models import IN_FORCE, Contract, ContractStage
from kehu.core.lookups import MoneyItem


def signed_contract(ids: list[int]) -> set[int]:
    """Customers with a contract signed or in performance and not past its end date."""
    today = timezone.localdate()
    return set(
        Contract.objects.filter(customer_id__in=ids, stage__in=IN_FORCE, deleted_at__isnull=True)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
        .values_list("customer_id", flat=True)
        .distinct()
    )


def open_money(ids: list[int]) -> dict[int, list[MoneyItem]]:
    """Contracts in force with their outstanding amount (amount in force − received), one query."""
    found: dict[int, list[MoneyItem]] = {}
    rows = (
        Contract.objects.filter(customer_id__in=ids, stage__in=IN_FORCE, deleted_at__isnull=True)
        .filter(amount__gt=F("received_amount"))
        .order_by("customer_id", "ends_on", "pk")
        .values_list("pk", "customer_id", "number", "title", "stage", "amount", "received_amount", "ends_on")
    )
    today = timezone.localdate()
    labels = dict(ContractStage.choices)
    for pk, customer_id, number, title, stage, amount, received, ends_on in rows:
        found.setdefault(customer_id, []).append(
            MoneyItem(
                kind="contract",
                reference=number,
                label=_("Contract %(title)s · %(stage)s") % {"title": title, "stage": labels.get(stage, stage)},
                amount=amount - received,
                link=f"/contracts/{pk}/",
                is_overdue=bool(ends_on and ends_on < today),
            )
        )
    return found
