"""The service app's answer to OPEN_TICKET (kehu.core.lookups): customers with a ticket still open,
so the pool keeps them, and the 360° page and alerts can say so."""

from django.urls import reverse
from django.utils.translation import gettext as _

from kehu.core import lookups
from kehu.support.models import Ticket, TicketState
from kehu.support.selectors import CLOSED_RANK, QUEUE_ORDER

SHOWN_PER_CUSTOMER = 5


def open_ticket_customers(ids) -> set[int]:
    return set(
        Ticket.objects.filter(customer_id__in=ids, queue_rank__lt=CLOSED_RANK, deleted_at__isnull=True)
        .values_list("customer_id", flat=True)
        .distinct()
    )


def open_service(ids) -> dict[int, list[lookups.ServiceItem]]:
    """The open tickets of these customers, breached first (at most a few each: a banner, not a list)."""
    found: dict[int, list[lookups.ServiceItem]] = {}
    rows = (
        Ticket.objects.filter(customer_id__in=ids, queue_rank__lt=CLOSED_RANK, deleted_at__isnull=True)
        .order_by("customer_id", *QUEUE_ORDER)
        .values_list("customer_id", "pk", "number", "subject", "state", "response_breached", "resolution_breached")
    )
    for customer_id, pk, number, subject, state, late_response, late_resolution in rows:
        items = found.setdefault(customer_id, [])
        if len(items) < SHOWN_PER_CUSTOMER:
            items.append(
                lookups.ServiceItem(
                    kind="ticket",
                    reference=number,
                    label=_("%(subject)s (%(state)s)") % {"subject": subject, "state": TicketState(state).label},
                    link=reverse("support:ticket-detail", args=[pk]),
                    perm="support.view_ticket",
                    is_late=late_response or late_resolution,
                )
            )
    return found


def register() -> None:
    lookups.answer(lookups.OPEN_TICKET, open_ticket_customers)
    lookups.answer(lookups.OPEN_SERVICE, open_service)
