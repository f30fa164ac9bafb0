"""Writes of the service app: tickets (open, respond, move) and their SLA clock (refresh, the scan
that warns before a breach and escalates at one)."""

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core import events
from kehu.core.exceptions import ConcurrentEditError
from kehu.core.numbering import save_numbered
from kehu.support.events import SupportEvent
from kehu.support.models import (
    OPEN_STATES,
    QUEUE_LAST,
    RUNNING_STATES,
    MessageDirection,
    ServiceSettings,
    SlaPolicy,
    Ticket,
    TicketMessage,
    TicketState,
    TicketStateChange,
)
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


def sla_refresh(
    ticket: Ticket,
    *,
    now: datetime | None = None,
    calendar: WorkCalendar | None = None,
    history: list[tuple[datetime, str]] | None = None,
):
    """Recompute the ticket's SLA figures from its history (a cache: no version bump, no event;
    written only when they changed); returns its (first response, resolution) clocks."""
    now = now or timezone.now()
    calendar = calendar or WorkCalendar.load()
    history = _history(ticket) if history is None else history
    response, resolution = ticket_clocks(ticket, history, calendar, now, ticket.policy)
    _store(ticket, _figures(ticket, response, resolution))
    return response, resolution


def _figures(ticket: Ticket, response, resolution) -> dict:
    breached = bool(response and response.breached), bool(resolution and resolution.breached)
    due = resolution.due_at if resolution else None
    # The queue puts first what is due first: the first response while nobody has answered, else the
    # resolution.
    waiting_answer = response.due_at if response and ticket.first_responded_at is None else None
    soonest = min((d for d in (due, waiting_answer) if d is not None), default=None)
    return {
        "response_due_at": response.due_at if response else None,
        "resolution_due_at": due,
        "response_breached": breached[0],
        "resolution_breached": breached[1],
        "queue_rank": 2 if ticket.state not in OPEN_STATES else 0 if any(breached) else 1,
        "queue_due": soonest or QUEUE_LAST,
    }


def _changed(ticket: Ticket, figures: dict) -> bool:
    return any(getattr(ticket, name) != value for name, value in figures.items())


def _store(ticket: Ticket, figures: dict) -> None:
    if _changed(ticket, figures):
        for name, value in figures.items():
            setattr(ticket, name, value)
        Ticket.objects.filter(pk=ticket.pk).update(**figures)


def _histories(ticket_ids: list[int]) -> dict[int, list[tuple[datetime, str]]]:
    """The state histories of many tickets in one query (the scan's batch)."""
    found: dict[int, list[tuple[datetime, str]]] = {pk: [] for pk in ticket_ids}
    for ticket_id, at, state in (
        TicketStateChange.objects.filter(ticket_id__in=ticket_ids)
        .order_by("ticket_id", "at", "pk")
        .values_list("ticket_id", "at", "to_state")
    ):
        found[ticket_id].append((at, state))
    return found


SCAN_BATCH = 500


def sla_scan(*, now: datetime | None = None) -> dict[str, int]:
    """Every open ticket's clock recomputed (after a calendar change too); the responsible person
    warned once when a running clock has less than the warning time left, their manager told once
    when a clock is breached. Returns counts. A ticket whose figures stand is only read: the scan
    runs every few minutes over every open ticket, and most of them have not changed."""
    now = now or timezone.now()
    calendar = WorkCalendar.load()
    warn = ServiceSettings.load().warn_before_minutes * 60
    policies = {p.pk: p for p in SlaPolicy.objects.all()}
    counts = {"scanned": 0, "warned": 0, "breached": 0}
    open_tickets = (
        Ticket.objects.filter(state__in=OPEN_STATES, deleted_at__isnull=True, policy__isnull=False)
        .only(*SCAN_FIELDS)
        .annotate(owner_manager_id=F("owner__manager_id"), customer_name=F("customer__name"))
        .order_by("pk")
    )
    ids = list(open_tickets.values_list("pk", flat=True))
    for start in range(0, len(ids), SCAN_BATCH):
        batch = ids[start : start + SCAN_BATCH]
        histories = _histories(batch)
        for ticket in open_tickets.filter(pk__in=batch):
            ticket.policy = policies[ticket.policy_id]
            _scan_one(ticket, histories[ticket.pk], now, calendar, warn, counts)
    return counts


# What the scan reads of a ticket: the clock's inputs, its stored figures, and what an event names.
SCAN_FIELDS = (
    "number",
    "subject",
    "customer_id",
    "owner_id",
    "state",
    "created_at",
    "first_responded_at",
    "policy_id",
    "response_due_at",
    "resolution_due_at",
    "response_breached",
    "resolution_breached",
    "warned_at",
    "queue_rank",
    "queue_due",
)


def _service_managers() -> list[int]:
    """The customer service managers: told of a breach on a ticket whose owner has no manager."""
    from kehu.users.models import User
    from kehu.users.roles import Role

    return list(User.objects.filter(role=Role.SERVICE_MANAGER, is_active=True).values_list("pk", flat=True))


def _breach_summary(ticket: Ticket, response, resolution) -> str:
    """What the escalation says (the notification, the team's robot): the ticket, the customer, how late."""
    from kehu.support.templatetags.ticket_pages import working_time

    late = max((-c.remaining for c in (response, resolution) if c is not None and c.breached), default=0)
    return _("%(number)s %(subject)s · %(customer)s · %(late)s late (working time)") % {
        "number": ticket.number,
        "subject": ticket.subject,
        "customer": getattr(ticket, "customer_name", None) or ticket.customer.name,
        "late": working_time(late),
    }


def _scan_one(ticket: Ticket, history, now: datetime, calendar: WorkCalendar, warn: float, counts: dict) -> None:
    counts["scanned"] += 1
    was_breached = ticket.response_breached or ticket.resolution_breached
    response, resolution = ticket_clocks(ticket, history, calendar, now, ticket.policy)
    figures = _figures(ticket, response, resolution)
    breached = figures["response_breached"] or figures["resolution_breached"]
    newly_breached = breached and not was_breached
    warning = not breached and ticket.warned_at is None and _close(response, resolution, warn)
    if not (newly_breached or warning or _changed(ticket, figures)):
        return
    with transaction.atomic():
        _store(ticket, figures)
        if newly_breached:
            counts["breached"] += 1
            manager = ticket.owner_manager_id
            events.record(
                SupportEvent.TICKET_SLA_BREACHED,
                subject=ticket,
                customer_id=ticket.customer_id,
                summary=_breach_summary(ticket, response, resolution),
                webhook={"ticket_id": ticket.pk, "number": ticket.number},
                notify=[manager, ticket.owner_id, *(_service_managers() if manager is None else ())],
                link=reverse("support:ticket-detail", args=[ticket.pk]),
            )
        elif warning:
            counts["warned"] += 1
            Ticket.objects.filter(pk=ticket.pk).update(warned_at=now)
            events.record(
                SupportEvent.TICKET_SLA_WARNING,
                subject=ticket,
                customer_id=ticket.customer_id,
                summary=f"{ticket.number} {ticket.subject}",
                notify=[ticket.owner_id],
            )


def _close(response, resolution, warn_seconds: float) -> bool:
    return any(
        c is not None and c.status == RUNNING and 0 < c.remaining <= warn_seconds for c in (response, resolution)
    )


# Who may change a ticket, and the version-checked writes the pages and the API call.


def may_change(user, ticket: Ticket) -> bool:
    """Change needs support.change_ticket; an engineer changes only the tickets sent to them or that
    they are responsible for (the caller has already checked that the user sees the ticket)."""
    from kehu.users.roles import Role

    if not user.is_authenticated or not user.has_perm("support.change_ticket"):
        return False
    if getattr(user, "role", "") == Role.SERVICE_ENGINEER and not user.is_superuser:
        return user.pk in (ticket.engineer_id, ticket.owner_id)
    return True


def check_may_change(user, ticket: Ticket) -> None:
    if not may_change(user, ticket):
        raise PermissionDenied


def _locked(ticket: Ticket, expected_version: int | None) -> Ticket:
    fresh = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if expected_version is not None and fresh.version != expected_version:
        raise ConcurrentEditError(
            _("Someone else changed this ticket (now %(state)s) after you opened it. Look again, then retry.")
            % {"state": TicketState(fresh.state).label}
        )
    return fresh


@transaction.atomic
def ticket_move(
    *,
    ticket: Ticket,
    actor,
    to: str,
    note: str = "",
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Ticket:
    """A transition by a person: their right to change the ticket and the version they saw checked."""
    check_may_change(actor, ticket)
    _locked(ticket, expected_version)
    return ticket_transition(ticket=ticket, actor=actor, to=to, note=note, now=now)


@transaction.atomic
def ticket_answer(*, ticket: Ticket, actor, note: str = "", now: datetime | None = None) -> Ticket:
    """`ticket_respond` by a person who may change the ticket (an open one)."""
    check_may_change(actor, ticket)
    if ticket.state not in OPEN_STATES:
        raise ValidationError(_("This ticket is no longer open."))
    ticket = ticket_respond(ticket=ticket, actor=actor, note=note[:500], now=now)
    if note.strip():
        ticket_message_add(
            ticket=ticket, direction=MessageDirection.OUT, channel=ticket.channel, body=note, actor=actor, at=now
        )
    return ticket


@transaction.atomic
def ticket_message_add(
    *,
    ticket: Ticket,
    direction: str,
    channel: str,
    body: str,
    actor=None,
    sender: str = "",
    email_message_id: str = "",
    at: datetime | None = None,
) -> TicketMessage:
    """Add a message to a ticket's conversation. The customer writing back to a ticket that waits for
    them sets it going again (the resolution clock runs on)."""
    body = body.strip()
    if not body:
        raise ValidationError(_("The message is empty."))
    at = at or timezone.now()
    message = TicketMessage.objects.create(
        ticket=ticket,
        direction=direction,
        channel=channel,
        author=actor if getattr(actor, "pk", None) else None,
        sender=sender[:254],
        body=body,
        at=at,
        email_message_id=email_message_id[:255],
    )
    state = Ticket.objects.select_for_update().values_list("state", flat=True).get(pk=ticket.pk)
    if direction == MessageDirection.IN and state == TicketState.WAITING_CUSTOMER:
        ticket_transition(
            ticket=ticket, actor=actor, to=TicketState.IN_PROGRESS, note=_("The customer replied."), now=at
        )
    events.record(
        SupportEvent.TICKET_MESSAGE,
        actor=actor,
        subject=ticket,
        customer_id=ticket.customer_id,
        summary=f"{ticket.number}: {body[:200]}",
        payload={"message_id": message.pk, "direction": direction},
        occurred_at=at,
    )
    return message


@transaction.atomic
def ticket_assign(
    *,
    ticket: Ticket,
    actor,
    owner=None,
    engineer=None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Hand the ticket to a responsible person and/or send it to an engineer (None: unchanged).
    Sending an engineer needs support.dispatch_ticket; a new ticket that gets an engineer becomes
    assigned. The new engineer or owner is told."""
    now = now or timezone.now()
    check_may_change(actor, ticket)
    if engineer is not None and not actor.has_perm("support.dispatch_ticket"):
        raise PermissionDenied
    fresh = _locked(ticket, expected_version)
    if fresh.state not in OPEN_STATES:
        raise ValidationError(_("A ticket that is no longer open cannot be reassigned."))
    errors = {}
    if owner is not None and not (owner.is_active and owner.has_perm("support.change_ticket")):
        errors["owner"] = [_("%(name)s cannot work on tickets.") % {"name": owner}]
    if engineer is not None and not (engineer.is_active and engineer.has_perm("support.change_ticket")):
        errors["engineer"] = [_("%(name)s cannot work on tickets.") % {"name": engineer}]
    if errors:
        raise ValidationError(errors)
    told = []
    if owner is not None and owner.pk != fresh.owner_id:
        fresh.owner = owner
        told.append(owner.pk)
    if engineer is not None and engineer.pk != fresh.engineer_id:
        fresh.engineer = engineer
        told.append(engineer.pk)
    if not told:
        return fresh
    fresh.version += 1
    fresh.updated_at = now
    fresh.save(update_fields=["owner", "engineer", "version", "updated_at"])
    events.record(
        SupportEvent.TICKET_ASSIGNED,
        actor=actor,
        subject=fresh,
        customer_id=fresh.customer_id,
        summary=f"{fresh.number} {fresh.subject}",
        payload={"owner_id": fresh.owner_id, "engineer_id": fresh.engineer_id},
        notify=[pk for pk in told if pk != actor.pk],
        link=reverse("support:ticket-detail", args=[fresh.pk]),
    )
    if engineer is not None and fresh.state == S.NEW:
        fresh = ticket_transition(ticket=fresh, actor=actor, to=S.ASSIGNED, now=now)
    return fresh
