"""Writes of the service app: tickets (open, respond, move) and their SLA clock (refresh, the scan
that warns before a breach and escalates at one)."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core import events
from kehu.core.numbering import save_numbered
from kehu.support.events import SupportEvent
from kehu.support.models import OPEN_STATES, RUNNING_STATES, ServiceSettings, Ticket, TicketState, TicketStateChange
from kehu.support.sla import RUNNING, policy_for, ticket_clocks
from kehu.support.workhours import WorkCalendar

S = TicketState
# Which state may follow which (DESIGN rule 3: one transition service holds them).
TRANSITIONS: dict[str, set[str]] = {
    S.NEW: {S.ASSIGNED, S.IN_PROGRESS, S.WAITING_CUSTOMER, S.RESOLVED, S.CANCELLED},
    S.ASSIGNED: {S.IN_PROGRESS, S.WAITING_CUSTOMER, S.WAITING_PARTS, S.RESOLVED, S.CANCELLED},
    S.IN_PROGRESS: {S.ASSIGNED, S.WAITING_CUSTOMER, S.WAITING_PARTS, S.RESOLVED, S.CANCELLED},
    S.WAITING_CUSTOMER: {S.IN_PROGRESS, S.ASSIGNED, S.RESOLVED, S.CANCELLED},
    S.WAITING_PARTS: {S.IN_PROGRESS, S.ASSIGNED, S.RESOLVED, S.CANCELLED},
    S.RESOLVED: {S.CLOSED, S.IN_PROGRESS},
    S.CLOSED: set(),
    S.CANCELLED: set(),
}
# Moving a ticket into one of these answers the customer (the first response clock stops).
RESPONDING_STATES = frozenset({S.IN_PROGRESS, S.WAITING_CUSTOMER, S.WAITING_PARTS, S.RESOLVED})


def _history(ticket: Ticket) -> list[tuple[datetime, str]]:
    return list(ticket.state_changes.order_by("at", "pk").values_list("at", "to_state"))


@transaction.atomic
def ticket_open(
    *,
    actor,
    customer,
    subject: str,
    priority: str = "normal",
    category=None,
    channel: str = "phone",
    description: str = "",
    contact=None,
    unit=None,
    owner=None,
    now: datetime | None = None,
) -> Ticket:
    now = now or timezone.now()
    if not subject.strip():
        raise ValidationError({"subject": [_("Say what the customer needs.")]})
    if unit is not None and unit.customer_id != customer.pk:
        raise ValidationError({"unit": [_("This unit belongs to another customer.")]})
    ticket = Ticket(
        customer=customer,
        subject=subject.strip(),
        priority=priority,
        category=category,
        channel=channel,
        description=description,
        contact=contact,
        unit=unit,
        owner=owner or actor,
        created_at=now,
        updated_at=now,
        under_warranty=bool(unit and unit.under_warranty(timezone.localtime(now).date())),
        policy=policy_for(category.pk if category else None, priority),
    )
    ticket.full_clean(exclude=["number", "version"])
    save_numbered(
        ticket,
        prefix=f"TK{timezone.localtime(now).year}-",
        width=6,
        failure=_("No ticket number is free; try again."),
    )
    TicketStateChange.objects.create(ticket=ticket, from_state="", to_state=S.NEW, at=now, actor=actor)
    sla_refresh(ticket, now=now)
    events.record(
        SupportEvent.TICKET_OPENED,
        actor=actor,
        subject=ticket,
        customer_id=customer.pk,
        summary=f"{ticket.number} {ticket.subject}",
        webhook={"ticket_id": ticket.pk, "number": ticket.number, "customer_id": customer.pk},
        notify=[ticket.owner_id] if ticket.owner_id != getattr(actor, "pk", None) else [],
    )
    return ticket


@transaction.atomic
def ticket_respond(*, ticket: Ticket, actor, note: str = "", now: datetime | None = None) -> Ticket:
    """Record that the customer was answered (the first response clock stops at the first one)."""
    now = now or timezone.now()
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if ticket.first_responded_at is None:
        ticket.first_responded_at = now
        ticket.save(update_fields=["first_responded_at"])
        sla_refresh(ticket, now=now)
    events.record(
        SupportEvent.TICKET_RESPONDED,
        actor=actor,
        subject=ticket,
        customer_id=ticket.customer_id,
        summary=f"{ticket.number} {note}".strip(),
    )
    return ticket


@transaction.atomic
def ticket_transition(*, ticket: Ticket, actor, to: str, note: str = "", now: datetime | None = None) -> Ticket:
    now = now or timezone.now()
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if to not in TRANSITIONS.get(ticket.state, set()):
        raise ValidationError(
            _("A ticket that is %(from)s cannot become %(to)s.")
            % {"from": TicketState(ticket.state).label, "to": TicketState(to).label if to in S.values else to}
        )
    was = ticket.state
    ticket.state = to
    if to in RESPONDING_STATES and ticket.first_responded_at is None:
        ticket.first_responded_at = now
    if to == S.RESOLVED:
        ticket.resolved_at = now
    elif to in RUNNING_STATES:
        ticket.resolved_at = None
    ticket.version += 1
    ticket.updated_at = now
    ticket.save(update_fields=["state", "first_responded_at", "resolved_at", "version", "updated_at"])
    TicketStateChange.objects.create(ticket=ticket, from_state=was, to_state=to, at=now, actor=actor, note=note[:500])
    sla_refresh(ticket, now=now)
    events.record(
        SupportEvent.TICKET_STATE_CHANGED,
        actor=actor,
        subject=ticket,
        customer_id=ticket.customer_id,
        summary=f"{ticket.number}: {TicketState(was).label} → {TicketState(to).label}",
        payload={"from": was, "to": to},
    )
    return ticket


def sla_refresh(ticket: Ticket, *, now: datetime | None = None, calendar: WorkCalendar | None = None):
    """Recompute the ticket's SLA figures from its history (a cache: no version bump, no event);
    returns its (first response, resolution) clocks."""
    now = now or timezone.now()
    calendar = calendar or WorkCalendar.load()
    response, resolution = ticket_clocks(ticket, _history(ticket), calendar, now, ticket.policy)
    ticket.response_due_at = response.due_at if response else None
    ticket.resolution_due_at = resolution.due_at if resolution else None
    ticket.response_breached = bool(response and response.breached)
    ticket.resolution_breached = bool(resolution and resolution.breached)
    Ticket.objects.filter(pk=ticket.pk).update(
        response_due_at=ticket.response_due_at,
        resolution_due_at=ticket.resolution_due_at,
        response_breached=ticket.response_breached,
        resolution_breached=ticket.resolution_breached,
    )
    return response, resolution


def sla_scan(*, now: datetime | None = None) -> dict[str, int]:
    """Every open ticket's clock recomputed (after a calendar change too); the responsible person
    warned once when a running clock has less than the warning time left, their manager told once
    when a clock is breached. Returns counts."""
    now = now or timezone.now()
    calendar = WorkCalendar.load()
    warn = ServiceSettings.load().warn_before_minutes * 60
    counts = {"scanned": 0, "warned": 0, "breached": 0}
    open_tickets = (
        Ticket.objects.filter(state__in=OPEN_STATES, deleted_at__isnull=True, policy__isnull=False)
        .select_related("policy", "owner__manager")
        .order_by("pk")
    )
    for ticket in open_tickets.iterator(chunk_size=500):
        counts["scanned"] += 1
        was_breached = ticket.response_breached or ticket.resolution_breached
        with transaction.atomic():
            response, resolution = sla_refresh(ticket, now=now, calendar=calendar)
            breached = ticket.response_breached or ticket.resolution_breached
            if breached and not was_breached:
                counts["breached"] += 1
                manager = ticket.owner.manager if ticket.owner_id else None
                events.record(
                    SupportEvent.TICKET_SLA_BREACHED,
                    subject=ticket,
                    customer_id=ticket.customer_id,
                    summary=f"{ticket.number} {ticket.subject}",
                    webhook={"ticket_id": ticket.pk, "number": ticket.number},
                    notify=[manager, ticket.owner_id],
                )
            elif not breached and ticket.warned_at is None and _close(response, resolution, warn):
                counts["warned"] += 1
                Ticket.objects.filter(pk=ticket.pk).update(warned_at=now)
                events.record(
                    SupportEvent.TICKET_SLA_WARNING,
                    subject=ticket,
                    customer_id=ticket.customer_id,
                    summary=f"{ticket.number} {ticket.subject}",
                    notify=[ticket.owner_id],
                )
    return counts


def _close(response, resolution, warn_seconds: float) -> bool:
    return any(
        c is not None and c.status == RUNNING and 0 < c.remaining <= warn_seconds for c in (response, resolution)
    )
