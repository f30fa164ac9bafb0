"""Service tickets in the REST API (SRV-1), under /api/v1/service/tickets."""

from datetime import datetime
from typing import Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from kehu.core.api import Id, LongText, Page, Text
from kehu.core.pagination import Limit, Offset, page_of
from kehu.customers.selectors import contacts_of, customer_get
from kehu.support import selectors, services
from kehu.support.models import Channel, Priority, TicketCategory, TicketState
from kehu.users.models import User

router = Router(tags=["service"])


class TicketOut(Schema):
    id: int
    number: str
    customer_id: int
    contact_id: int | None
    unit_id: int | None
    category_id: int | None
    priority: str
    channel: str
    subject: str
    description: str
    state: str
    owner_id: int | None
    engineer_id: int | None
    under_warranty: bool
    first_responded_at: datetime | None
    resolved_at: datetime | None
    response_due_at: datetime | None
    resolution_due_at: datetime | None
    response_breached: bool
    resolution_breached: bool
    created_at: datetime
    updated_at: datetime
    version: int


class TicketStateChangeOut(Schema):
    from_state: str
    to_state: str
    at: datetime
    actor_id: int | None
    note: str


class TicketDetailOut(TicketOut):
    history: list[TicketStateChangeOut]
    transitions: list[str] = Field(description="The states the ticket may move to now.")


class TicketPage(Page):
    items: list[TicketOut]


class TicketQuery(Schema):
    state: Literal["open", "paused", "closed", "all"] = "open"
    mine: bool = Field(False, description="Only tickets you are responsible for or sent to as the engineer.")
    priority: Priority | None = None
    ticket_category_id: Id | None = None
    customer_id: Id | None = None
    sla: Literal["breached", "due_soon"] | None = None
    limit: Limit = 50
    offset: Offset = 0


class TicketIn(Schema):
    customer_id: Id
    subject: Text(200, blank=False)
    description: LongText() = ""
    priority: Priority = Priority.NORMAL
    channel: Channel = Channel.PHONE
    ticket_category_id: Id | None = None
    contact_id: Id | None = None
    unit_id: Id | None = None


class TicketTransitionIn(Schema):
    to: TicketState
    note: Text(500) = ""
    version: int | None = Field(None, ge=0, le=2**31, description="The version you saw; 409 if it changed.")


class TicketRespondIn(Schema):
    note: Text(500) = ""


class TicketAssignIn(Schema):
    owner_id: Id | None = None
    engineer_id: Id | None = None
    version: int | None = Field(None, ge=0, le=2**31, description="The version you saw; 409 if it changed.")


def _detail(ticket) -> dict:
    ticket.history = selectors.ticket_history(ticket)
    ticket.transitions = sorted(services.TRANSITIONS.get(ticket.state, set()))
    return ticket


def _use(user, perm="support.view_ticket"):
    if not user.has_perm(perm):
        raise PermissionDenied


@router.get("/tickets", response=TicketPage)
def ticket_list(request, query: Query[TicketQuery]):
    """Tickets you see, most urgent first: breached, then by the soonest due moment (none last)."""
    _use(request.user)
    qs = selectors.ticket_queue(
        request.user,
        state_group=query.state,
        mine=query.mine,
        priority=query.priority or "",
        category_id=query.ticket_category_id,
        sla=query.sla or "",
        customer_id=query.customer_id,
    )
    return page_of(qs, offset=query.offset, limit=query.limit).as_dict()


@router.post("/tickets", response={201: TicketDetailOut})
def ticket_create(request, payload: TicketIn):
    """Open a ticket (phone intake); its SLA due moments come back computed."""
    user = request.user
    _use(user, "support.add_ticket")
    customer = customer_get(user, payload.customer_id)
    errors = {}
    category = contact = unit = None
    if payload.ticket_category_id is not None:
        category = TicketCategory.objects.filter(pk=payload.ticket_category_id, is_active=True).first()
        if category is None:
            errors["ticket_category_id"] = [_("No such category.")]
    if payload.contact_id is not None:
        contact = contacts_of(customer).filter(pk=payload.contact_id).first()
        if contact is None:
            errors["contact_id"] = [_("This customer has no such contact.")]
    if payload.unit_id is not None:
        unit = selectors.unit_qs_visible_to(user).filter(pk=payload.unit_id, customer=customer).first()
        if unit is None:
            errors["unit_id"] = [_("This customer has no such installed unit.")]
    if errors:
        raise ValidationError(errors)
    ticket = services.ticket_open(
        actor=user,
        customer=customer,
        subject=payload.subject,
        description=payload.description,
        priority=payload.priority,
        channel=payload.channel,
        category=category,
        contact=contact,
        unit=unit,
    )
    return Status(201, _detail(selectors.ticket_get(user, ticket.pk)))


@router.get("/tickets/{ticket_id}", response=TicketDetailOut)
def ticket_read(request, ticket_id: Id):
    return _detail(selectors.ticket_get(request.user, ticket_id))


@router.post("/tickets/{ticket_id}/transition", response=TicketDetailOut)
def ticket_transition(request, ticket_id: Id, payload: TicketTransitionIn):
    """Move the ticket to another state (see `transitions` of the ticket)."""
    ticket = selectors.ticket_get(request.user, ticket_id)
    services.ticket_move(
        ticket=ticket, actor=request.user, to=payload.to, note=payload.note, expected_version=payload.version
    )
    return _detail(selectors.ticket_get(request.user, ticket_id))


@router.post("/tickets/{ticket_id}/respond", response=TicketDetailOut)
def ticket_respond(request, ticket_id: Id, payload: TicketRespondIn):
    """Record that the customer was answered (stops the first-response clock)."""
    ticket = selectors.ticket_get(request.user, ticket_id)
    services.ticket_answer(ticket=ticket, actor=request.user, note=payload.note)
    return _detail(selectors.ticket_get(request.user, ticket_id))


@router.post("/tickets/{ticket_id}/assign", response=TicketDetailOut)
def ticket_assign(request, ticket_id: Id, payload: TicketAssignIn):
    """Set the responsible person and/or the engineer (which needs the dispatch permission)."""
    ticket = selectors.ticket_get(request.user, ticket_id)
    services.check_may_change(request.user, ticket)
    if payload.owner_id is None and payload.engineer_id is None:
        raise ValidationError(_("Name the responsible person, the engineer or both."))
    people = User.objects.in_bulk([pk for pk in (payload.owner_id, payload.engineer_id) if pk])
    owner = people.get(payload.owner_id) if payload.owner_id else None
    engineer = people.get(payload.engineer_id) if payload.engineer_id else None
    missing = {
        name: [_("No such user.")]
        for name, pk, found in (("owner_id", payload.owner_id, owner), ("engineer_id", payload.engineer_id, engineer))
        if pk and found is None
    }
    if missing:
        raise ValidationError(missing)
    services.ticket_assign(
        ticket=ticket, actor=request.user, owner=owner, engineer=engineer, expected_version=payload.version
    )
    return _detail(selectors.ticket_get(request.user, ticket_id))
