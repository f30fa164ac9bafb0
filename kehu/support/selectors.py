"""Reads of the service app, each through the visibility door: a user sees the tickets of the
customers they see (their data scope and account teams, kehu.customers.selectors), and the tickets
they are responsible for or sent to as the engineer."""

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from kehu.customers.selectors import customer_qs_visible_to
from kehu.support.models import OPEN_STATES, InstalledUnit, Ticket
from kehu.users.models import User


def ticket_qs_visible_to(user: User) -> QuerySet[Ticket]:
    if not user.is_authenticated or not user.has_perm("support.view_ticket"):
        return Ticket.objects.none()
    customers = customer_qs_visible_to(user).filter(pk=OuterRef("customer_id"))
    return Ticket.objects.filter(Q(Exists(customers)) | Q(owner=user) | Q(engineer=user), deleted_at__isnull=True)


def ticket_get(user: User, pk) -> Ticket:
    try:
        return (
            ticket_qs_visible_to(user)
            .select_related("customer", "owner", "engineer", "category", "policy", "unit")
            .get(pk=int(pk))
        )
    except (Ticket.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


def open_tickets_of(user: User, customer_id: int, *, limit: int = 5) -> list[Ticket]:
    """The customer's open tickets the user may see, most urgent first (the 360° page's top, CUS-6)."""
    return list(
        ticket_qs_visible_to(user)
        .filter(customer_id=customer_id, state__in=OPEN_STATES)
        .order_by("resolution_due_at", "pk")[:limit]
    )


def unit_qs_visible_to(user: User) -> QuerySet[InstalledUnit]:
    if not user.is_authenticated or not user.has_perm("support.view_installedunit"):
        return InstalledUnit.objects.none()
    return InstalledUnit.objects.filter(customer__in=customer_qs_visible_to(user).values("pk"))
