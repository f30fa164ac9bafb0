"""Reads of the service app, each through the visibility door: a user sees the tickets of the
customers they see (their data scope and account teams, kehu.customers.selectors), and the tickets
they are responsible for or sent to as the engineer."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from kehu.customers.models import Customer
from kehu.customers.selectors import customer_qs_visible_to
from kehu.support.models import (
    OPEN_STATES,
    PAUSED_STATES,
    RUNNING_STATES,
    InstalledUnit,
    Ticket,
    TicketState,
    TicketStateChange,
)
from kehu.support.workhours import WorkCalendar
from kehu.users.models import User
from kehu.users.roles import ROLE_POLICY, DataScope
from kehu.users.scopes import scope_for

QUEUE_ORDER = ("queue_rank", "queue_due", "pk")
CLOSED_RANK = 2  # Ticket.queue_rank of a ticket no longer open


def ticket_qs_visible_to(user: User) -> QuerySet[Ticket]:
    if not user.is_authenticated or not user.has_perm("support.view_ticket"):
        return Ticket.objects.none()
    live = Ticket.objects.filter(deleted_at__isnull=True)
    mine = Q(owner=user) | Q(engineer=user)
    if not user.has_perm("customers.view_customer"):
        return live.filter(mine)
    scope = scope_for(user).kind
    if scope == DataScope.ALL:
        # Every ticket but those of customers in the recycle bin (a short list, read once).
        return live.exclude(customer_id__in=Customer.objects.filter(deleted_at__isnull=False).values("pk"))
    if scope == DataScope.OWN:
        # A few customers: each side of the OR then reads its own index (customer, owner, engineer).
        return live.filter(Q(customer_id__in=customer_qs_visible_to(user).values("pk")) | mine)
    customers = customer_qs_visible_to(user).filter(pk=OuterRef("customer_id"))
    return live.filter(Q(Exists(customers)) | mine)


def ticket_get(user: User, pk) -> Ticket:
    try:
        return (
            ticket_qs_visible_to(user)
            .select_related("customer", "owner", "engineer", "category", "policy", "unit")
            .get(pk=int(pk))
        )
    except (Ticket.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


def open_tickets_of(customer, *, limit: int = 5) -> list[Ticket]:
    """The open tickets of a customer the user sees (customer_get), most urgent first as in the queue
    (the 360° page's top, CUS-6). Who sees a customer sees all its tickets (ticket_qs_visible_to), so
    no scope is asked again."""
    return list(
        Ticket.objects.filter(customer=customer, deleted_at__isnull=True, queue_rank__lt=CLOSED_RANK).order_by(
            *QUEUE_ORDER
        )[:limit]
    )


def unit_qs_visible_to(user: User) -> QuerySet[InstalledUnit]:
    if not user.is_authenticated or not user.has_perm("support.view_installedunit"):
        return InstalledUnit.objects.none()
    return InstalledUnit.objects.filter(customer__in=customer_qs_visible_to(user).values("pk"))


# The ticket queue (most urgent first) and what its SLA column says.

STATE_GROUPS = {
    "open": OPEN_STATES,
    "paused": PAUSED_STATES,
    "closed": frozenset(TicketState) - OPEN_STATES,
}
DUE_SOON = timedelta(hours=24)


def ticket_queue(
    user: User,
    *,
    state_group: str = "open",
    mine: bool = False,
    priority: str = "",
    category_id: int | None = None,
    sla: str = "",
    customer_id: int | None = None,
    now: datetime | None = None,
) -> QuerySet[Ticket]:
    """The tickets the user sees, filtered, breached first, then by the soonest due moment (none last)."""
    now = now or timezone.now()
    if mine:  # what is the user's own is visible to them: no need to ask the customers
        qs = Ticket.objects.filter(Q(owner=user) | Q(engineer=user), deleted_at__isnull=True)
        if not user.has_perm("support.view_ticket"):
            qs = qs.none()
    else:
        qs = ticket_qs_visible_to(user)
    if sla == "breached":
        qs = qs.filter(queue_rank=0)
    elif state_group == "open":
        qs = qs.filter(queue_rank__lt=CLOSED_RANK)
    elif state_group in STATE_GROUPS:
        qs = qs.filter(state__in=STATE_GROUPS[state_group])
    if priority:
        qs = qs.filter(priority=priority)
    if category_id:
        qs = qs.filter(category_id=category_id)
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    if sla == "due_soon":
        soon = now + DUE_SOON
        qs = qs.filter(
            Q(resolution_due_at__lte=soon, state__in=RUNNING_STATES)
            | Q(response_due_at__lte=soon, first_responded_at__isnull=True, state__in=OPEN_STATES),
            response_breached=False,
            resolution_breached=False,
        )
    # Open tickets: past their SLA first, then by the soonest due moment (none last) — the stored
    # queue order, read from its index. Closed ones: the latest first.
    order = ("-pk",) if state_group == "closed" else QUEUE_ORDER
    return qs.select_related("customer", "owner", "engineer", "category").order_by(*order)


@dataclass(frozen=True)
class SlaCell:
    """What a ticket's clock says now: kind is "none" (no policy), "due", "overdue", "paused", "met"
    or "missed"; `remaining` the working seconds left while due."""

    kind: str
    due_at: datetime | None = None
    remaining: float = 0.0


def sla_cell(ticket: Ticket, calendar: WorkCalendar, now: datetime) -> SlaCell:
    """The queue's SLA column: the nearest clock still counting."""
    if ticket.policy_id is None:
        return SlaCell("none")
    breached = ticket.response_breached or ticket.resolution_breached
    if ticket.state not in OPEN_STATES:
        return SlaCell("missed" if breached else "met", ticket.resolution_due_at)
    dues = []
    if ticket.first_responded_at is None and ticket.response_due_at:
        dues.append(ticket.response_due_at)
    if ticket.state in RUNNING_STATES and ticket.resolution_due_at:
        dues.append(ticket.resolution_due_at)
    due = min(dues) if dues else None
    if breached or (due is not None and due <= now):
        return SlaCell("overdue", due)
    if ticket.state in PAUSED_STATES and ticket.first_responded_at is not None:
        return SlaCell("paused")
    if due is None:
        return SlaCell("none")
    return SlaCell("due", due, calendar.seconds_between(now, due))


def sla_clocks(ticket: Ticket, calendar: WorkCalendar, now: datetime) -> list[dict]:
    """The detail page's SLA box: each clock's due moment and status."""
    if ticket.policy_id is None:
        return []
    rows = []
    for key, due, done_at, breached in (
        ("response", ticket.response_due_at, ticket.first_responded_at, ticket.response_breached),
        ("resolution", ticket.resolution_due_at, ticket.resolved_at, ticket.resolution_breached),
    ):
        if done_at is not None or (key == "resolution" and ticket.state not in OPEN_STATES):
            status = "missed" if breached else "met"
        elif breached or (due is not None and due <= now):
            status = "overdue"
        elif due is None or (key == "resolution" and ticket.state in PAUSED_STATES):
            status = "paused"
        else:
            status = "due"
        remaining = calendar.seconds_between(now, due) if status == "due" else 0.0
        rows.append({"key": key, "due_at": due, "done_at": done_at, "status": status, "remaining": remaining})
    return rows


def ticket_messages(ticket: Ticket) -> list:
    return list(ticket.messages.select_related("author"))


def ticket_history(ticket: Ticket) -> list[TicketStateChange]:
    return list(ticket.state_changes.select_related("actor").order_by("at", "pk"))


def people_who_may(perm: str) -> QuerySet[User]:
    """Active users holding a permission through their role (or administrators), for pickers."""
    roles = [role for role, (_scope, perms) in ROLE_POLICY.items() if perm in perms]
    return User.objects.filter(Q(role__in=roles) | Q(is_superuser=True), is_active=True).order_by(
        "last_name", "first_name", "username"
    )


def customer_ticket_card(user: User, customer) -> dict:
    """The 360° page's alert (CUS-6) for a customer the user sees (customer_get): up to 5 open tickets
    of the customer with their SLA state, and whether the user may open one. Shown to those who see
    tickets when there is one or they may add."""
    if not user.has_perm("support.view_ticket"):
        return {"show": False}
    tickets = open_tickets_of(customer)
    if tickets:
        now, calendar = timezone.now(), WorkCalendar.load()
        for ticket in tickets:
            ticket.sla = sla_cell(ticket, calendar, now)
    from kehu.support.complaint_selectors import open_complaints_of

    complaints = open_complaints_of(user, customer)  # SRV-2: its open complaints on the same card
    return {
        "show": bool(tickets or complaints),
        "tickets": tickets,
        "complaints": complaints,
        "may_add": user.has_perm("support.add_ticket"),
    }
