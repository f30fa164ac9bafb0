"""The service app's answer to OPEN_TICKET (kehu.core.lookups): customers with a ticket still open,
so the pool keeps them, and the 360° page and alerts can say so."""

from kehu.core import lookups
from kehu.support.models import OPEN_STATES, Ticket


def open_ticket_customers(ids) -> set[int]:
    return set(
        Ticket.objects.filter(customer_id__in=ids, state__in=OPEN_STATES, deleted_at__isnull=True)
        .values_list("customer_id", flat=True)
        .distinct()
    )


def register() -> None:
    lookups.answer(lookups.OPEN_TICKET, open_ticket_customers)
