"""Writes of the customer self-service page (SRV-1 web intake).

A visitor gives a phone number or an e-mail address and describes the problem. When exactly one
customer's contact has that number or address (kehu.customers ContactPoint keys), a ticket is opened
for that customer (channel self_service, through `services.ticket_open`), the words become the first
incoming message, and a signed link to follow the ticket is e-mailed to the contact through the outbox.
Otherwise the request waits for the service desk to match it to a customer. The visitor reads the same
answer either way: the page never tells whether a number or an address is known.

Follow links (/help/t/<token>/) work like the quotes' share links: the token is shown once (in the
mail), only its SHA-256 is kept, it expires (FOLLOW_DAYS) and staff can revoke it.

The rate limits count attempts in the database (`PortalAttempt`), so they hold across processes."""

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kehu.core.mail import queue_email
from kehu.core.text import check_text
from kehu.customers.models import Contact, ContactPoint, Medium
from kehu.customers.normalise import normalise_email, normalise_phone
from kehu.support import services
from kehu.support.models import (
    OPEN_STATES,
    Channel,
    FollowLink,
    InstalledUnit,
    MessageDirection,
    PortalAttempt,
    PortalRequest,
    PortalRequestState,
    Ticket,
    TicketState,
)
from kehu.users.models import hash_token

FOLLOW_DAYS = 90
# Attempts allowed per hour: (kind, per key).
LIMITS = {
    "request_ip": 10,
    "request_address": 3,
    "feedback_ip": 60,
    "message_ip": 30,
    "suggest_ip": 600,
}


class RateLimitedError(Exception):
    """Too many attempts from this address or for this phone/e-mail (answer 429)."""


class LinkGoneError(Exception):
    """The follow link existed but was revoked or has expired (answer 410)."""


# --- rate limits -----------------------------------------------------------------------------------


def attempt(kind: str, key: str, *, now=None) -> None:
    """Count one attempt of `kind` by `key`; RateLimitedError when the hour's allowance is used up."""
    now = now or timezone.now()
    key = key[:254]
    if PortalAttempt.objects.filter(kind=kind, key=key, at__gte=now - timedelta(hours=1)).count() >= LIMITS[kind]:
        raise RateLimitedError(kind)
    PortalAttempt.objects.create(kind=kind, key=key, at=now)
    if secrets.randbelow(50) == 0:  # now and then, forget what is older than a day
        PortalAttempt.objects.filter(at__lt=now - timedelta(days=1)).delete()


# --- intake ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Intake:
    name: str
    phone: str
    email: str
    subject: str
    description: str
    serial_number: str = ""


def _clean(intake: Intake) -> Intake:
    errors: dict[str, list[str]] = {}
    values = {k: (getattr(intake, k) or "").strip() for k in Intake.__dataclass_fields__}
    for name, multiline, limit in (
        ("name", False, 100),
        ("phone", False, 40),
        ("email", False, 254),
        ("subject", False, 200),
        ("description", True, 5000),
        ("serial_number", False, 100),
    ):
        try:
            check_text(values[name], field=name, multiline=multiline, max_length=limit)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if not values["phone"] and not values["email"]:
        errors.setdefault("phone", []).append(_("Give your phone number or your e-mail address."))
    if values["phone"] and not normalise_phone(values["phone"]):
        errors.setdefault("phone", []).append(_("Give the whole phone number (at least 7 digits)."))
    if values["email"]:
        try:
            validate_email(values["email"])
        except ValidationError:
            errors.setdefault("email", []).append(_("This is not an e-mail address."))
    if not values["subject"]:
        errors.setdefault("subject", []).append(_("Say in a few words what the problem is."))
    if errors:
        raise ValidationError(errors)
    return Intake(**values)


def contact_match(*, phone: str = "", email: str = "") -> Contact | None:
    """The contact with this e-mail address (first) or phone number, when they all belong to one
    customer; None when nobody or several customers have it."""
    for medium, key in ((Medium.EMAIL, normalise_email(email)), (Medium.PHONE, normalise_phone(phone))):
        if not key:
            continue
        contact_ids = ContactPoint.objects.filter(medium=medium, key=key).values("contact_id")
        contacts = list(
            Contact.objects.filter(
                pk__in=contact_ids, deleted_at__isnull=True, customer__deleted_at__isnull=True
            ).order_by("-is_primary", "pk")[:20]
        )
        if contacts and len({c.customer_id for c in contacts}) == 1:
            return contacts[0]
    return None


def _unit_for(customer_id: int, serial_number: str) -> InstalledUnit | None:
    if not serial_number:
        return None
    return InstalledUnit.objects.filter(customer_id=customer_id, serial_number__iexact=serial_number).first()


def request_submit(*, intake: Intake, ip: str, base_url: str, language: str = "") -> PortalRequest:
    """A visitor's request. Rate-limited per IP and per phone/e-mail (RateLimitedError); bad input is a
    ValidationError. Returns the request kept (matched with its ticket, or waiting to be matched)."""
    intake = _clean(intake)
    language = language or translation.get_language() or "zh-hans"
    with transaction.atomic():
        attempt("request_ip", ip)
        for key in (normalise_email(intake.email), normalise_phone(intake.phone)):
            if key:
                attempt("request_address", key)
    contact = contact_match(phone=intake.phone, email=intake.email)
    with transaction.atomic():
        request = PortalRequest(
            state=PortalRequestState.UNMATCHED,
            name=intake.name,
            phone=intake.phone,
            email=intake.email,
            subject=intake.subject,
            description=intake.description,
            serial_number=intake.serial_number,
            language=language,
        )
        if contact is None:
            request.save()
            return request
        ticket = _open_ticket(request, contact.customer, contact, actor=None)
        address = normalise_email(intake.email) or contact.email
        request.state = PortalRequestState.MATCHED
        request.ticket = ticket
        request.handled_at = timezone.now()
        request.save()
        if address:
            follow_link_send(ticket=ticket, email=address, base_url=base_url, language=language, actor=None)
    return request


def _open_ticket(request: PortalRequest, customer, contact, *, actor) -> Ticket:
    description = request.description
    if request.serial_number:
        description = f"{description}\n\n{_('Serial number')}: {request.serial_number}".strip()
    ticket = services.ticket_open(
        actor=actor,
        customer=customer,
        contact=contact,
        subject=request.subject,
        description=description,
        channel=Channel.SELF_SERVICE,
        unit=_unit_for(customer.pk, request.serial_number),
        owner=actor,
    )
    sender = " ".join(p for p in (request.name or (contact.name if contact else ""), request.email) if p)
    services.ticket_message_add(
        ticket=ticket,
        direction=MessageDirection.IN,
        channel=Channel.SELF_SERVICE,
        body=f"{request.subject}\n\n{request.description}".strip(),
        sender=sender or request.phone,
        actor=None,
    )
    return ticket


def _check_desk(actor) -> None:
    if actor is None or not actor.is_authenticated or not actor.has_perm("support.add_ticket"):
        raise PermissionDenied


@transaction.atomic
def request_match(*, request: PortalRequest, customer, actor, base_url: str, contact=None) -> Ticket:
    """The service desk matches a waiting request to a customer: the ticket is opened (the actor
    responsible) and, when the visitor gave an e-mail address, the follow link is mailed to it."""
    _check_desk(actor)
    fresh = PortalRequest.objects.select_for_update().get(pk=request.pk)
    if fresh.state != PortalRequestState.UNMATCHED:
        raise ValidationError(_("This request has already been handled."))
    if contact is not None and contact.customer_id != customer.pk:
        raise ValidationError({"contact": [_("This contact belongs to another customer.")]})
    ticket = _open_ticket(fresh, customer, contact, actor=actor)
    fresh.state = PortalRequestState.MATCHED
    fresh.ticket = ticket
    fresh.handled_by = actor
    fresh.handled_at = timezone.now()
    fresh.save(update_fields=["state", "ticket", "handled_by", "handled_at"])
    if fresh.email:
        follow_link_send(
            ticket=ticket, email=fresh.email, base_url=base_url, language=fresh.language or "", actor=actor
        )
    return ticket


@transaction.atomic
def request_dismiss(*, request: PortalRequest, actor) -> PortalRequest:
    _check_desk(actor)
    updated = PortalRequest.objects.filter(pk=request.pk, state=PortalRequestState.UNMATCHED).update(
        state=PortalRequestState.DISMISSED, handled_by=actor, handled_at=timezone.now()
    )
    if not updated:
        raise ValidationError(_("This request has already been handled."))
    request.refresh_from_db()
    return request


# --- follow links -----------------------------------------------------------------------------------


def follow_link_create(
    *, ticket: Ticket, email: str = "", actor=None, days: int = FOLLOW_DAYS
) -> tuple[FollowLink, str]:
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    link = FollowLink.objects.create(
        ticket=ticket,
        token_hash=hash_token(token),
        email=email,
        created_at=now,
        created_by=actor if getattr(actor, "pk", None) else None,
        expires_at=now + timedelta(days=days),
    )
    return link, token


def follow_url(base_url: str, token: str) -> str:
    from django.urls import reverse

    return base_url.rstrip("/") + reverse("portal:follow", args=[token])


def follow_link_send(*, ticket: Ticket, email: str, base_url: str, language: str, actor=None) -> FollowLink:
    """A new follow link mailed to `email` (through the outbox, after the commit)."""
    link, token = follow_link_create(ticket=ticket, email=email, actor=actor)
    lang = "en" if (language or "").startswith("en") else "zh-hans"
    queue_email(
        "support/portal/email/follow",
        {"ticket": ticket, "url": follow_url(base_url, token), "days": FOLLOW_DAYS},
        [email],
        language=lang,
    )
    return link


def follow_link_find(token: str) -> FollowLink:
    """The usable link with this token (with its ticket). Unknown: FollowLink.DoesNotExist; revoked,
    expired or its ticket deleted: LinkGoneError."""
    if not token or len(token) > 100:
        raise FollowLink.DoesNotExist
    link = (
        FollowLink.objects.select_related("ticket", "ticket__customer", "ticket__contact")
        .filter(token_hash=hash_token(token))
        .first()
    )
    if link is None:
        raise FollowLink.DoesNotExist
    if link.revoked_at is not None or link.expires_at <= timezone.now() or link.ticket.deleted_at is not None:
        raise LinkGoneError
    return link


def follow_link_revoke(*, link: FollowLink, actor) -> FollowLink:
    if not services.may_change(actor, link.ticket):
        raise PermissionDenied
    FollowLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(revoked_at=timezone.now(), revoked_by=actor)
    link.refresh_from_db()
    return link


def _sender(link: FollowLink) -> str:
    ticket = link.ticket
    return link.email or (ticket.contact.name if ticket.contact_id else "")


@transaction.atomic
def follow_message_add(*, link: FollowLink, body: str, ip: str):
    """The customer writes on the follow page (an incoming self-service message)."""
    attempt("message_ip", ip)
    try:
        check_text(body.strip(), field="body", multiline=True, max_length=5000)
    except ValidationError:
        raise
    if link.ticket.state not in OPEN_STATES and link.ticket.state != TicketState.RESOLVED:
        raise ValidationError({"body": [_("This request is closed. Send a new one if you need more help.")]})
    message = services.ticket_message_add(
        ticket=link.ticket,
        direction=MessageDirection.IN,
        channel=Channel.SELF_SERVICE,
        body=body,
        sender=_sender(link),
    )
    FollowLink.objects.filter(pk=link.pk).update(last_used_at=timezone.now())
    return message


@transaction.atomic
def follow_confirm(*, link: FollowLink, solved: bool, ip: str) -> Ticket:
    """The customer confirms the problem is solved (the ticket is resolved, or closed when it already
    was) or says it is not (a resolved ticket is reopened)."""
    attempt("message_ip", ip)
    ticket = Ticket.objects.select_for_update().get(pk=link.ticket_id)
    if solved:
        note = _("The customer confirmed it is solved (self-service page).")
        if ticket.state in OPEN_STATES:
            ticket = services.ticket_transition(ticket=ticket, actor=None, to=TicketState.RESOLVED, note=note)
        elif ticket.state == TicketState.RESOLVED:
            ticket = services.ticket_transition(ticket=ticket, actor=None, to=TicketState.CLOSED, note=note)
        else:
            raise ValidationError(_("This request is already closed."))
    else:
        if ticket.state != TicketState.RESOLVED:
            raise ValidationError(_("Only a solved request can be reopened."))
        ticket = services.ticket_transition(
            ticket=ticket,
            actor=None,
            to=TicketState.IN_PROGRESS,
            note=_("The customer says it is not solved (self-service page)."),
        )
    services.ticket_message_add(
        ticket=ticket,
        direction=MessageDirection.IN,
        channel=Channel.SELF_SERVICE,
        body=_("Solved, thank you.") if solved else _("It is not solved yet."),
        sender=_sender(link),
    )
    return ticket
