"""E-mail intake in the REST API (/api/v1/service): the service mailbox settings (administrators,
support.manage_service; the password is write-only: it is taken, never returned) with a connection
test, and the received mail with the to-match list (the service desk: support.add_ticket and
support.change_ticket), matching a mail to a customer or dismissing it."""

from datetime import datetime
from typing import Literal

from django.core.exceptions import PermissionDenied
from django.http import Http404
from ninja import Query, Router, Schema

from kehu.core.api import Id, Page, Text
from kehu.core.pagination import Limit, Offset, page_of
from kehu.customers.selectors import customer_get
from kehu.support import mail_intake, mail_settings
from kehu.support.models import InboundStatus, Mailbox, MailSecurity, Priority, TicketCategory
from kehu.users.models import User

router = Router(tags=["service"])


def _manage(user) -> None:
    if not user.has_perm("support.manage_service"):
        raise PermissionDenied


class ServiceMailboxOut(Schema):
    is_active: bool
    address: str
    host: str
    port: int
    security: str
    username: str
    has_password: bool
    folder: str
    default_category_id: int | None
    default_priority: str
    default_owner_id: int | None
    send_acknowledgement: bool
    last_checked_at: datetime | None
    last_error: str


class ServiceMailboxIn(Schema):
    """Only the fields given change; `password` is taken and never returned (empty: kept)."""

    is_active: bool | None = None
    address: Text(254) | None = None
    host: Text(200) | None = None
    port: int | None = None
    security: Literal[*MailSecurity.values] | None = None  # type: ignore[valid-type]
    username: Text(200) | None = None
    password: Text(200) | None = None
    folder: Text(200) | None = None
    default_category_id: Id | None = None
    default_priority: Literal[*Priority.values] | None = None  # type: ignore[valid-type]
    default_owner_id: Id | None = None
    send_acknowledgement: bool | None = None


class ServiceMailboxTestOut(Schema):
    ok: bool
    message: str


@router.get("/mailbox", response=ServiceMailboxOut)
def service_mailbox_read(request):
    _manage(request.user)
    return Mailbox.load()


@router.patch("/mailbox", response=ServiceMailboxOut)
def service_mailbox_update(request, payload: ServiceMailboxIn):
    _manage(request.user)
    given = payload.dict(exclude_unset=True)
    password = given.pop("password", None)
    values = {}
    for name, value in given.items():
        if name == "default_category_id":
            values["default_category"] = TicketCategory.objects.filter(pk=value).first() if value else None
            if value and values["default_category"] is None:
                raise Http404
        elif name == "default_owner_id":
            values["default_owner"] = User.objects.filter(pk=value).first() if value else None
            if value and values["default_owner"] is None:
                raise Http404
        elif value is not None:
            values[name] = value
    return mail_settings.mailbox_update(actor=request.user, password=password, **values)


@router.post("/mailbox/test", response=ServiceMailboxTestOut)
def service_mailbox_test(request):
    """Log in to the mailbox with the saved settings; `message` says what happened."""
    _manage(request.user)
    try:
        return {"ok": True, "message": mail_intake.mailbox_test(Mailbox.load())}
    except mail_intake.MailboxError as exc:
        return {"ok": False, "message": str(exc)}


class ReceivedMailOut(Schema):
    id: int
    status: str
    from_address: str
    from_name: str
    subject: str
    body: str
    received_at: datetime
    sent_at: datetime | None
    ticket_id: int | None
    attachment_count: int = 0


class ReceivedMailList(Page):
    items: list[ReceivedMailOut]


class ReceivedMailQuery(Schema):
    status: Literal[*InboundStatus.values] | None = None  # type: ignore[valid-type]
    limit: Limit = 25
    offset: Offset = 0


class ReceivedMailMatch(Schema):
    customer_id: Id


class ReceivedMailMatched(Schema):
    ticket_id: int
    number: str


def _desk(user) -> None:
    if not mail_settings.may_handle_mail(user):
        raise PermissionDenied


def _mail(user, mail_id: int):
    found = mail_settings.inbound_qs_visible_to(user).filter(pk=mail_id).first()
    if found is None:
        raise Http404
    return found


@router.get("/mail", response=ReceivedMailList)
def received_mail_list(request, query: Query[ReceivedMailQuery]):
    """Received mail, newest first; `status=to_match` is the list waiting for a customer."""
    _desk(request.user)
    from django.db.models import Count

    qs = mail_settings.inbound_list(request.user, status=query.status or "").annotate(
        attachment_count=Count("attachments")
    )
    return page_of(qs, offset=query.offset, limit=query.limit).as_dict()


@router.get("/mail/{mail_id}", response=ReceivedMailOut)
def received_mail_read(request, mail_id: Id):
    _desk(request.user)
    found = _mail(request.user, mail_id)
    found.attachment_count = found.attachments.count()
    return found


@router.post("/mail/{mail_id}/match", response=ReceivedMailMatched)
def received_mail_match(request, mail_id: Id, payload: ReceivedMailMatch):
    """Say whose a mail to match is: a ticket is opened for the customer with the mail."""
    _desk(request.user)
    found = _mail(request.user, mail_id)
    customer = customer_get(request.user, payload.customer_id)
    ticket = mail_intake.inbound_match(mail=found, customer=customer, actor=request.user)
    return {"ticket_id": ticket.pk, "number": ticket.number}


@router.post("/mail/{mail_id}/dismiss", response=ReceivedMailOut)
def received_mail_dismiss(request, mail_id: Id):
    """Take a mail nobody needs (spam) off the to-match list."""
    _desk(request.user)
    found = mail_settings.inbound_dismiss(mail=_mail(request.user, mail_id), actor=request.user)
    found.attachment_count = found.attachments.count()
    return found
