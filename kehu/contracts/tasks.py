"""The contracts' periodic work: telling the responsible person that a contract ends soon (CON-2).

Run every hour so it happens early in the day whenever the scheduler started; safe to run any
number of times: each end date is reminded of once (`expiry_reminded_on`; an amendment that
moves the end date clears it, so the new date is reminded of again).
"""

from datetime import timedelta

from django.db import transaction
from django.tasks import task
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core.schedule import periodic


def contracts_expiry_remind(*, today=None) -> dict:
    """Contracts in force ending within `ContractSettings.remind_days_before_end` days: their
    responsible person is told once. Reads the (stage, ends_on) index."""
    from kehu.contracts import services
    from kehu.contracts.events import ContractEvent
    from kehu.contracts.models import IN_FORCE, Contract, ContractSettings
    from kehu.core import events

    today = today or timezone.localdate()
    days = ContractSettings.current().remind_days_before_end
    counts = {"reminded": 0}
    if not days:
        return counts
    soon = Contract.objects.filter(
        stage__in=IN_FORCE,
        deleted_at__isnull=True,
        ends_on__gte=today,
        ends_on__lte=today + timedelta(days=days),
        expiry_reminded_on__isnull=True,
    )
    for contract in soon.select_related("customer").order_by("pk").iterator():
        with transaction.atomic():
            if not Contract.objects.filter(pk=contract.pk, expiry_reminded_on__isnull=True).update(
                expiry_reminded_on=today
            ):
                continue
            events.record(
                ContractEvent.EXPIRING,
                subject=contract,
                customer_id=contract.customer_id,
                summary=_("%(number)s with %(customer)s ends on %(date)s")
                % {"number": contract.number, "customer": contract.customer.name, "date": contract.ends_on.isoformat()},
                payload={"contract": contract.pk, "ends_on": contract.ends_on.isoformat()},
                notify=[contract.owner_id],
                link=services.contract_link(contract),
            )
            counts["reminded"] += 1
    return counts


@periodic(every=timedelta(hours=1))
@task()
def contracts_remind_expiring() -> dict:
    return contracts_expiry_remind()
