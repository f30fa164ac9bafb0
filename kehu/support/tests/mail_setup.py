"""Fixtures of the mail-intake tests: the service mailbox pointing at the loopback Dovecot, a customer
whose contact writes from a known address, and mails shaped like real mail clients'."""

from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import pytest

from kehu.customers.points import Point
from kehu.customers.services import contact_create
from kehu.support.models import Mailbox, MailSecurity
from kehu.support.tests.imap_server import imap_server, imap_server_process  # noqa: F401
from kehu.support.tests.tickets_setup import at

SERVICE_ADDRESS = "service@kehu-factory.example"
CUSTOMER_ADDRESS = "wang.gong@nbjg.example"


@pytest.fixture
def contact(desk):
    return contact_create(
        customer=desk.mine,
        actor=desk.team.rep1,
        name="王工",
        emails=[Point(medium="email", kind="work", value="Wang.Gong@NBJG.example")],
    )


@pytest.fixture
def mailbox(imap_server, desk):  # noqa: F811 (a test file's `desk`)
    box = Mailbox.load()
    box.is_active = True
    box.address = SERVICE_ADDRESS
    box.host, box.port, box.security = imap_server.host, imap_server.port, MailSecurity.NONE
    box.username, box.password = imap_server.user, imap_server.password
    box.default_category = desk.repairs
    box.default_owner = desk.csr
    box.save()
    return box


def mail(
    *,
    subject="主轴异响",
    body="你好，我们的机床主轴有异响，请派人来看看。",
    sender=f"王工 <{CUSTOMER_ADDRESS}>",
    to=SERVICE_ADDRESS,
    message_id=None,
    in_reply_to="",
    references="",
    html=None,
    headers=None,
    attachments=(),
) -> tuple[bytes, str]:
    """A mail as a client sends it: (its bytes, its Message-ID)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(at(1, 12, 9))
    message["Message-ID"] = message_id or make_msgid(domain="nbjg.example")
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = references
    for name, value in (headers or {}).items():
        message[name] = value
    if body is not None:
        message.set_content(body)
    if html is not None:
        if body is None:
            message.set_content(html, subtype="html")
        else:
            message.add_alternative(html, subtype="html")
    for filename, content_type, content in attachments:
        maintype, subtype = content_type.split("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return bytes(message), message["Message-ID"]


def waiting_mail(subject="询价", sender="li@unknown.example"):
    """A received mail from an unknown sender, waiting to be matched."""
    from kehu.support.models import InboundMail, InboundStatus

    n = InboundMail.objects.count() + 1
    return InboundMail.objects.create(
        uidvalidity=1,
        uid=n + 1000,
        email_message_id=f"<m{n}-{subject.encode().hex()[:8]}@unknown.example>",
        from_address=sender,
        from_name="李经理",
        subject=subject,
        body="<b>请报价</b>",
        status=InboundStatus.TO_MATCH,
    )


def whole_site_mail(ticket_id) -> dict:
    """For the whole-site tests: a mail to match, and a reply on the ticket with a photo."""
    from django.core.files.base import ContentFile

    from kehu.support.models import InboundStatus, MailAttachment, Ticket
    from kehu.support.services import ticket_message_add

    waiting = waiting_mail()
    ticket = Ticket.objects.get(pk=ticket_id)
    message = ticket_message_add(
        ticket=ticket, direction="in", channel="email", body="照片见附件", sender=CUSTOMER_ADDRESS
    )
    reply = waiting_mail(subject="Re: 主轴异响", sender=CUSTOMER_ADDRESS)
    reply.status, reply.ticket, reply.message = InboundStatus.REPLY, ticket, message
    reply.save()
    photo = MailAttachment(mail=reply, message=message, filename="IMG_0001.JPG", content_type="image/jpeg", size=4)
    photo.file.save("IMG_0001.JPG", ContentFile(b"\xff\xd8\xff\xe0"))
    return {"inbound_mail": waiting.pk, "mail_attachment": photo.pk}
