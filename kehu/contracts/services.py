"""Every write of contracts."""

from django.db import transaction
from django.utils import timezone

from kehu.contracts.models import Contract, ContractStage

ROLLUP_FIELDS = (
    "ordered_amount",
    "delivered_amount",
    "invoiced_amount",
    "received_amount",
    "plans_count",
    "plans_done",
)


def contract_rollups_set(*, contract_id: int, **values) -> None:
    """Write rollup columns of a contract (the apps above call this in the transaction of the change
    that moves them, each with the sums of its own records). A signed contract with something ordered
    or delivered is in performance from then on. The version is not bumped: a rollup is not an edit,
    and must not refuse someone's form opened before it."""
    unknown = set(values) - set(ROLLUP_FIELDS)
    if unknown:
        raise ValueError(f"not a contract rollup: {', '.join(sorted(unknown))}")
    if not values:
        return
    with transaction.atomic():
        updated = Contract.objects.filter(pk=contract_id).update(**values)
        if updated and (values.get("ordered_amount") or values.get("delivered_amount")):
            Contract.objects.filter(pk=contract_id, stage=ContractStage.SIGNED).update(
                stage=ContractStage.PERFORMING, updated_at=timezone.now()
            )
