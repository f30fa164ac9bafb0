"""Mail to the customer about their e-mailed ticket (SRV-1): the acknowledgement with the ticket
number when a mailed ticket is opened, and each staff answer sent through the outbox as a reply in
the customer's thread (In-Reply-To / References of their last mail, the ticket number in the
subject), its Message-ID kept on the ticket message so the customer's reply threads back.

`answer_sink` is an event sink (registered in SupportConfig.ready) inside the answering transaction:
the outbox row is written with the message, or neither is."""

import email.utils
from email.utils import make_msgid

from django.conf import settings

from kehu.core.mail import outbox_add, render_email
from kehu.support.events import SupportEvent
from kehu.support.models import Channel, InboundMail, Mailbox, MessageDirection, Ticket, TicketMessage

REFERENCES_KEPT = 20


def _domain(mailbox: Mailbox) -> str:
    address = mailbox.address or email.utils.parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    return address.rpartition("@")[2] or "kehu.localhost"


def acknowledge(*, ticket: Ticket, mail: InboundMail, mailbox: Mailbox) -> str:
    """Queue the acknowledgement of a mailed ticket (marked as an automatic reply, so the sender's
    out-of-office does not answer it); returns its Message-ID ("" when none is sent)."""
    if not mailbox.send_acknowledgement or not mail.from_address:
        return ""
    message_id = make_msgid(domain=_domain(mailbox))
    subject, body = render_email("support/mail/email/acknowledgement", {"ticket": ticket}, settings.LANGUAGE_CODE)
    headers = {"Message-ID": message_id, "Auto-Submitted": "auto-replied", "X-Kehu-Ticket": ticket.number}
    if mail.email_message_id:
        headers |= {"In-Reply-To": mail.email_message_id, "References": mail.email_message_id}
    outbox_add(
        subject=subject,
        body=body,
        to=[mail.from_address],
        reply_to=mailbox.address,
        template="support/mail/email/acknowledgement",
        headers=headers,
    )
    mail.acknowledgement_id = message_id
    return message_id


def answer_send(message: TicketMessage) -> str:
    """Send a staff answer on an e-mailed ticket to the customer; returns its Message-ID ("" when the
    ticket is not an e-mail one, nobody has an address, or no service address is set)."""
    ticket = message.ticket
    mailbox = Mailbox.load()
    if not mailbox.address:
        return ""
    thread = list(
        TicketMessage.objects.filter(ticket=ticket)
        .exclude(email_message_id="")
        .order_by("at", "pk")
        .values_list("direction", "channel", "sender", "email_message_id")
    )
    last_in = next((row for row in reversed(thread) if row[0] == MessageDirection.IN and row[1] == Channel.EMAIL), None)
    if last_in is None and ticket.channel != Channel.EMAIL:
        return ""
    to = (last_in[2] if last_in else "") or (ticket.contact.email if ticket.contact_id else "")
    if not to:
        return ""
    message_id = make_msgid(domain=_domain(mailbox))
    headers = {"Message-ID": message_id, "X-Kehu-Ticket": ticket.number}
    if last_in is not None:
        headers["In-Reply-To"] = last_in[3]
    references = [row[3] for row in thread][-REFERENCES_KEPT:]
    if references:
        headers["References"] = " ".join(references)
    subject, body = render_email(
        "support/mail/email/answer", {"ticket": ticket, "message": message}, settings.LANGUAGE_CODE
    )
    outbox_add(
        subject=subject,
        body=body,
        to=[to],
        reply_to=mailbox.address,
        template="support/mail/email/answer",
        headers=headers,
    )
    TicketMessage.objects.filter(pk=message.pk).update(email_message_id=message_id)
    message.email_message_id = message_id
    return message_id


def answer_sink(batch) -> None:
    """The event door's in-transaction sink: an answer to the customer on a ticket goes out by mail."""
    ids = [
        e.payload.get("message_id")
        for e in batch
        if e.kind.code == SupportEvent.TICKET_MESSAGE and e.payload.get("direction") == MessageDirection.OUT
    ]
    if not ids:
        return
    for message in TicketMessage.objects.filter(pk__in=ids, email_message_id="").select_related(
        "ticket", "ticket__contact"
    ):
        answer_send(message)
