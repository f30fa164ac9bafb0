"""E-mail intake (SRV-1): the periodic fetch from the service mailbox, the parsing of what mail
clients really send, and the threading of each mail onto a ticket.

The fetch (`mailbox_fetch`) asks the IMAP server for the UNSEEN mails, stores each one
(`mail_take`, in its own transaction) and only then marks it seen. A crash in between leaves the
mail unseen: the next run finds it again, and its UIDVALIDITY + UID (or its Message-ID) is already
stored, so it is marked seen without being stored twice.

Threading: In-Reply-To / References naming a message of a ticket's conversation (or our
acknowledgement) → that ticket; else the ticket number in the subject ("[TK2026-000123]",
"TK-2026-000123") when the sender belongs to that ticket's customer; else a new ticket for the
customer whose contact has the sender's address; else the mail waits in the "to match" list.
Automatic replies and bounces are kept and counted but open nothing; our own mail is never answered.
"""

import email
import email.utils
import imaplib
import logging
import re
import socket
import ssl
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.message import EmailMessage
from html.parser import HTMLParser

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core.text import TEXT_MAX_LENGTH, printable
from kehu.support import services
from kehu.support.models import (
    Channel,
    InboundMail,
    InboundStatus,
    MailAttachment,
    Mailbox,
    MailSecurity,
    MessageDirection,
    Ticket,
    TicketMessage,
)

log = logging.getLogger(__name__)

TIMEOUT = 20  # seconds for the IMAP connection
FETCH_LIMIT = 200  # mails taken in one run; the rest wait for the next one
ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
ATTACHMENTS_MAX = 20
ALLOWED_TYPES = (
    "image/",
    "application/pdf",
    "text/plain",
    "text/csv",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/zip",
    "application/x-zip-compressed",
    "video/mp4",
    "video/quicktime",
)
# Chinese mail declared as GB2312 is often GBK or GB18030 in fact: read all three as GB18030 (a superset).
GB_CHARSETS = {"gb2312", "gb_2312-80", "gbk", "x-gbk", "cp936", "euc-cn", "gb18030", "hz-gb-2312"}
NUMBER_RE = re.compile(r"(?<![A-Za-z0-9])TK-?(\d{4})-(\d{6})(?!\d)", re.IGNORECASE)
MESSAGE_ID_RE = re.compile(r"<[^<>\s]+>")
AUTOMATIC_SENDERS = ("mailer-daemon", "postmaster", "noreply", "no-reply", "donotreply", "do-not-reply")
WROTE_RE = re.compile(r"^\s*(On\s.{0,300}\swrote\s*:|在.{0,200}写道\s*[:：])\s*$", re.I)
QUOTE_MARKERS = [
    re.compile(r"^\s*-{2,}\s*(原始邮件|原始郵件|Original Message|Forwarded message|转发邮件)\s*-{2,}\s*$", re.I),
    WROTE_RE,
    re.compile(r"^\s*_{10,}\s*$"),  # Outlook's line above its "From: / 发件人:" block
]


# --- parsing ---------------------------------------------------------------------------------


@dataclass
class Parsed:
    message_id: str = ""
    in_reply_to: str = ""
    references: list[str] = field(default_factory=list)
    from_address: str = ""
    from_name: str = ""
    subject: str = ""
    body: str = ""
    sent_at: datetime | None = None
    attachments: list[tuple[str, str, bytes]] = field(default_factory=list)  # (name, type, content)
    refused: list[str] = field(default_factory=list)  # attachments not kept, with the reason
    is_automatic: bool = False
    is_ours: bool = False


class _TextOfHtml(HTMLParser):
    """The readable text of an HTML body: no scripts or styles, block elements on their own lines."""

    BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table", "hr"}
    HIDDEN = {"script", "style", "head", "title"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0
        self.quote = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.HIDDEN:
            self.hidden += 1
        elif tag == "blockquote":
            self.quote += 1  # a quoted earlier mail
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self.HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag == "blockquote":
            self.quote = max(0, self.quote - 1)
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.hidden and not self.quote:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    reader = _TextOfHtml()
    try:
        reader.feed(html)
        reader.close()
    except Exception:  # noqa: BLE001 - a broken document still gives what was read
        log.info("An HTML mail body could not be read to its end")
    text = "".join(reader.parts).replace("\xa0", " ")
    lines = [line.strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def strip_quoted(text: str) -> str:
    """The new part of a reply: cut at the quoted earlier mail ("-----原始邮件-----", "On … wrote:",
    "在 … 写道：", Outlook's line above its header block) and without lines starting with ">". A mail
    that is all quote keeps its text."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cut = len(lines)
    for index, line in enumerate(lines):
        if any(marker.match(line) for marker in QUOTE_MARKERS):
            cut = index
            break
        # "On Mon, 1 Dec 2026 at 10:00, Someone <a@b.c>" / "wrote:" wrapped over two lines.
        if index and WROTE_RE.match(f"{lines[index - 1]} {line}") and not WROTE_RE.match(lines[index - 1]):
            if line.strip().endswith(("wrote:", "写道：", "写道:")):
                cut = index - 1
                break
    kept = [line for line in lines[:cut] if not line.lstrip().startswith(">")]
    result = "\n".join(kept).strip()
    return result or text.strip()


def _decode_part(part) -> str:
    payload = part.get_payload(decode=True) or b""
    charset = (part.get_content_charset() or "utf-8").lower()
    if charset in GB_CHARSETS:
        charset = "gb18030"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:
        return payload.decode("utf-8", errors="replace")


def _header(message, name: str) -> str:
    """A header decoded (RFC 2047) on one line, without the characters Kehu never stores."""
    try:
        value = message.get(name)
    except Exception:  # noqa: BLE001 - a malformed header reads as empty
        return ""
    return printable(" ".join(str(value).split()), multiline=False) if value is not None else ""


def _ids(value: str) -> list[str]:
    return MESSAGE_ID_RE.findall(value or "")


def _is_automatic(message, address: str) -> bool:
    auto = _header(message, "Auto-Submitted").lower()
    if auto and auto != "no":
        return True
    if message.get("X-Autoreply") is not None or message.get("X-Autorespond") is not None:
        return True
    if _header(message, "Precedence").lower() in {"bulk", "junk", "list", "auto_reply"}:
        return True
    if message.get_content_type() == "multipart/report":
        return True
    local = address.split("@", 1)[0].lower()
    return local in AUTOMATIC_SENDERS or local.startswith("mailer-daemon")


def _allowed(content_type: str) -> bool:
    return any(
        content_type == t or (t.endswith("/") or t.endswith(".")) and content_type.startswith(t) for t in ALLOWED_TYPES
    )


def parse(raw: bytes, *, own_addresses: tuple[str, ...] = ()) -> Parsed:
    """Read one mail as mail clients send it (multipart/alternative, GBK/GB18030/UTF-8, RFC 2047
    headers, quoted-printable/base64, attachments, phones' images)."""
    message: EmailMessage = email.message_from_bytes(raw, policy=policy.default)  # type: ignore[assignment]
    found = Parsed()
    found.message_id = (_ids(_header(message, "Message-ID")) or [""])[0][:255]
    found.in_reply_to = (_ids(_header(message, "In-Reply-To")) or [""])[0][:255]
    found.references = _ids(_header(message, "References"))[-50:]
    name, address = email.utils.parseaddr(_header(message, "From"))
    found.from_name, found.from_address = name[:200], address.strip().lower()[:254]
    found.subject = _header(message, "Subject")[:300]
    try:
        found.sent_at = email.utils.parsedate_to_datetime(_header(message, "Date")) if message.get("Date") else None
        if found.sent_at is not None and timezone.is_naive(found.sent_at):
            found.sent_at = timezone.make_aware(found.sent_at)
    except (TypeError, ValueError, IndexError):
        found.sent_at = None
    found.is_automatic = _is_automatic(message, found.from_address)
    found.is_ours = bool(message.get("X-Kehu-Ticket")) or found.from_address in own_addresses
    body_part = message.get_body(preferencelist=("plain", "html"))
    if body_part is not None:
        text = _decode_part(body_part)
        if body_part.get_content_type() == "text/html":
            text = html_to_text(text)
        found.body = strip_quoted(printable(text))
        if len(found.body) > TEXT_MAX_LENGTH:
            found.body = found.body[: TEXT_MAX_LENGTH - 40].rstrip() + "\n…"
    for index, part in enumerate(message.walk(), start=1):
        if part.is_multipart() or part is body_part:
            continue
        content_type = part.get_content_type()
        filename = part.get_filename() or ""
        disposition = part.get_content_disposition()
        if not filename and content_type in ("text/plain", "text/html") and disposition != "attachment":
            continue  # the other version of the text
        if content_type in ("message/delivery-status", "message/rfc822", "text/rfc822-headers"):
            continue
        content = part.get_payload(decode=True) or b""
        name = (filename or f"attachment-{index}")[:200]
        if len(found.attachments) >= ATTACHMENTS_MAX:
            found.refused.append(_("%(name)s: more than %(count)d files") % {"name": name, "count": ATTACHMENTS_MAX})
        elif not _allowed(content_type):
            found.refused.append(
                _("%(name)s: files of type %(type)s are not kept") % {"name": name, "type": content_type}
            )
        elif len(content) > ATTACHMENT_MAX_BYTES:
            found.refused.append(
                _("%(name)s: larger than %(size)d MB") % {"name": name, "size": ATTACHMENT_MAX_BYTES // 1024 // 1024}
            )
        elif content:
            found.attachments.append((name, content_type, content))
    return found


# --- threading -------------------------------------------------------------------------------


def customer_for_address(address: str):
    """(customer, contact) whose contact has this e-mail address, when exactly one customer has it."""
    from kehu.customers.models import Contact, ContactPoint

    if not address:
        return None, None
    key = address.strip().lower()
    live = Q(contact__deleted_at__isnull=True, contact__customer__deleted_at__isnull=True)
    pairs = set(
        ContactPoint.objects.filter(live, medium="email", key=key).values_list("contact_id", "contact__customer_id")
    )
    pairs |= set(
        Contact.objects.filter(
            email__iexact=key, deleted_at__isnull=True, customer__deleted_at__isnull=True
        ).values_list("pk", "customer_id")
    )
    if len({customer for _contact, customer in pairs}) != 1:
        return None, None
    contact_id = min(contact for contact, _customer in pairs)
    contact = Contact.objects.select_related("customer").get(pk=contact_id)
    return contact.customer, contact


def ticket_for_thread(parsed: Parsed) -> Ticket | None:
    """The ticket an answer belongs to by its In-Reply-To / References."""
    ids = [i for i in [parsed.in_reply_to, *reversed(parsed.references)] if i]
    if not ids:
        return None
    found = (
        TicketMessage.objects.filter(email_message_id__in=ids, ticket__deleted_at__isnull=True)
        .order_by("-at", "-pk")
        .values_list("ticket_id", flat=True)
        .first()
    )
    if found is None:
        found = (
            InboundMail.objects.filter(Q(acknowledgement_id__in=ids) | Q(email_message_id__in=ids))
            .filter(ticket__isnull=False, ticket__deleted_at__isnull=True)
            .values_list("ticket_id", flat=True)
            .first()
        )
    return Ticket.objects.filter(pk=found).select_related("customer").first() if found else None


def ticket_for_subject(parsed: Parsed) -> Ticket | None:
    """The ticket whose number the subject carries, when the sender belongs to its customer or has
    written on it before (a number alone is easy to guess)."""
    match = NUMBER_RE.search(parsed.subject)
    if match is None:
        return None
    ticket = (
        Ticket.objects.filter(number=f"TK{match.group(1)}-{match.group(2)}", deleted_at__isnull=True)
        .select_related("customer", "contact")
        .first()
    )
    if ticket is None or not parsed.from_address:
        return None
    customer, _contact = customer_for_address(parsed.from_address)
    if customer is not None and customer.pk == ticket.customer_id:
        return ticket
    if ticket.contact is not None and ticket.contact.email.lower() == parsed.from_address:
        return ticket
    wrote_before = TicketMessage.objects.filter(
        ticket=ticket, direction=MessageDirection.IN, sender__iexact=parsed.from_address
    ).exists()
    return ticket if wrote_before else None


# --- storing ---------------------------------------------------------------------------------


def _body_of(parsed: Parsed) -> str:
    body = parsed.body.strip()[: TEXT_MAX_LENGTH - 1000] or _("(The mail has no text.)")
    if parsed.refused:
        body += "\n\n" + _("Not kept:") + "\n" + "\n".join(f"- {line}" for line in parsed.refused)
    return body


def _keep_attachments(mail: InboundMail, parsed: Parsed, message: TicketMessage | None) -> None:
    for name, content_type, content in parsed.attachments:
        attachment = MailAttachment(
            mail=mail, message=message, filename=name, content_type=content_type, size=len(content)
        )
        attachment.file.save(name, ContentFile(content), save=False)
        attachment.save()


def _add_to_ticket(ticket: Ticket, mail: InboundMail, parsed: Parsed, at) -> TicketMessage:
    message = services.ticket_message_add(
        ticket=ticket,
        direction=MessageDirection.IN,
        channel=Channel.EMAIL,
        body=_body_of(parsed),
        sender=parsed.from_address,
        email_message_id=parsed.message_id,
        at=at,
    )
    mail.ticket, mail.message = ticket, message
    return message


def _open_ticket(mail: InboundMail, parsed: Parsed, customer, contact, mailbox: Mailbox, *, actor, at) -> Ticket:
    ticket = services.ticket_open(
        actor=actor,
        customer=customer,
        contact=contact,
        subject=(parsed.subject or _("E-mail from %(sender)s") % {"sender": parsed.from_address})[:200],
        priority=mailbox.default_priority,
        category=mailbox.default_category,
        channel=Channel.EMAIL,
        description=parsed.body[:2000],
        owner=mailbox.default_owner or actor,
        now=at,
    )
    _add_to_ticket(ticket, mail, parsed, at)
    from kehu.support.mail_replies import acknowledge

    acknowledge(ticket=ticket, mail=mail, mailbox=mailbox)
    return ticket


def own_addresses(mailbox: Mailbox) -> tuple[str, ...]:
    mine = {email.utils.parseaddr(settings.DEFAULT_FROM_EMAIL)[1].lower()}
    if mailbox.address:
        mine.add(mailbox.address.lower())
    return tuple(a for a in mine if a)


def mail_take(*, raw: bytes, uidvalidity: int, uid: int, mailbox: Mailbox, now=None) -> tuple[InboundMail, bool]:
    """Store one fetched mail and do what it asks (a reply, a new ticket, the to-match list);
    returns (the stored mail, whether it was new). A mail stored before is returned untouched."""
    now = now or timezone.now()
    parsed = parse(raw, own_addresses=own_addresses(mailbox))
    same = Q(uidvalidity=uidvalidity, uid=uid)
    if parsed.message_id:
        same |= Q(email_message_id=parsed.message_id)
    known = InboundMail.objects.filter(same).first()
    if known is not None:
        return known, False
    try:
        with transaction.atomic():
            return _take(parsed, uidvalidity, uid, mailbox, now), True
    except IntegrityError:
        # Another worker stored it meanwhile (the unique UID / Message-ID).
        known = InboundMail.objects.filter(same).first()
        if known is None:
            raise
        return known, False


def _take(parsed: Parsed, uidvalidity: int, uid: int, mailbox: Mailbox, now) -> InboundMail:
    mail = InboundMail(
        uidvalidity=uidvalidity,
        uid=uid,
        email_message_id=parsed.message_id,
        in_reply_to=parsed.in_reply_to,
        references="\n".join(parsed.references),
        from_address=parsed.from_address,
        from_name=parsed.from_name,
        subject=parsed.subject,
        body=_body_of(parsed),
        sent_at=parsed.sent_at,
        received_at=now,
    )
    if parsed.is_ours:
        mail.status = InboundStatus.OWN
    elif parsed.is_automatic:
        mail.status = InboundStatus.AUTOMATIC
    else:
        ticket = ticket_for_thread(parsed) or ticket_for_subject(parsed)
        if ticket is not None:
            mail.status = InboundStatus.REPLY
            mail.save()
            message = _add_to_ticket(ticket, mail, parsed, now)
            _keep_attachments(mail, parsed, message)
            mail.save(update_fields=["ticket", "message"])
            return mail
        customer, contact = customer_for_address(parsed.from_address)
        if customer is not None:
            mail.status = InboundStatus.TICKET
            mail.save()
            _open_ticket(mail, parsed, customer, contact, mailbox, actor=None, at=now)
            _keep_attachments(mail, parsed, mail.message)
            mail.save(update_fields=["ticket", "message", "acknowledgement_id"])
            return mail
        mail.status = InboundStatus.TO_MATCH
    mail.save()
    _keep_attachments(mail, parsed, None)
    return mail


@transaction.atomic
def inbound_match(*, mail: InboundMail, customer, actor, contact=None, now=None) -> Ticket:
    """Staff say whose an unmatched mail is: a ticket is opened for that customer with the mail as its
    first message (and its attachments), and the sender is acknowledged."""
    now = now or timezone.now()
    from kehu.support.mail_settings import may_handle_mail

    if not may_handle_mail(actor):
        raise PermissionDenied
    mail = InboundMail.objects.select_for_update().get(pk=mail.pk)
    if mail.status != InboundStatus.TO_MATCH:
        raise ValidationError(_("This mail has been dealt with already."))
    if contact is not None and contact.customer_id != customer.pk:
        raise ValidationError({"contact": [_("This contact belongs to another customer.")]})
    parsed = Parsed(
        message_id=mail.email_message_id,
        from_address=mail.from_address,
        from_name=mail.from_name,
        subject=mail.subject,
        body=mail.body,
    )
    ticket = _open_ticket(mail, parsed, customer, contact, Mailbox.load(), actor=actor, at=now)
    mail.status, mail.matched_by, mail.matched_at = InboundStatus.MATCHED, actor, now
    mail.save(update_fields=["status", "ticket", "message", "acknowledgement_id", "matched_by", "matched_at"])
    MailAttachment.objects.filter(mail=mail).update(message=mail.message)
    return ticket


# --- the mailbox ------------------------------------------------------------------------------


class MailboxError(Exception):
    """The mailbox could not be read; the message says why, in the user's language."""


def connect(mailbox: Mailbox) -> imaplib.IMAP4:
    """A logged-in connection with the folder selected (read-write), or MailboxError."""
    if not mailbox.host or not mailbox.username:
        raise MailboxError(_("Fill in the server, the user name and the password first."))
    where = f"{mailbox.host}:{mailbox.port}"
    try:
        if mailbox.security == MailSecurity.SSL:
            conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                mailbox.host, mailbox.port, ssl_context=ssl.create_default_context(), timeout=TIMEOUT
            )
        else:
            conn = imaplib.IMAP4(mailbox.host, mailbox.port, timeout=TIMEOUT)
            if mailbox.security == MailSecurity.STARTTLS:
                conn.starttls(ssl.create_default_context())
    except ssl.SSLError as exc:
        raise MailboxError(
            _("The secure connection to %(where)s failed (%(reason)s). Check the security setting and the port.")
            % {"where": where, "reason": exc.reason or exc}
        ) from exc
    except (OSError, imaplib.IMAP4.error) as exc:
        reason = str(exc) or type(exc).__name__
        if isinstance(exc, socket.gaierror):
            reason = _("no such host")
        elif isinstance(exc, ConnectionRefusedError):
            reason = _("the connection was refused")
        elif isinstance(exc, TimeoutError | socket.timeout):
            reason = _("no answer")
        raise MailboxError(
            _("The mail server %(where)s cannot be reached: %(reason)s.") % {"where": where, "reason": reason}
        ) from exc
    try:
        conn.login(mailbox.username, mailbox.password)
    except imaplib.IMAP4.error as exc:
        _close(conn)
        raise MailboxError(_("The mail server refused the user name or the password.")) from exc
    except OSError as exc:
        raise MailboxError(
            _("The mail server %(where)s closed the connection: %(reason)s.") % {"where": where, "reason": exc}
        ) from exc
    folder = mailbox.folder or "INBOX"
    typ, _data = conn.select(_quoted(folder))
    if typ != "OK":
        _close(conn)
        raise MailboxError(_("The mailbox has no folder %(folder)s.") % {"folder": folder})
    return conn


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _close(conn: imaplib.IMAP4) -> None:
    try:
        conn.logout()
    except Exception:  # noqa: BLE001 - the connection is going away anyway
        log.debug("The IMAP logout failed")


def mailbox_test(mailbox: Mailbox) -> str:
    """Log in and count the unread mails; returns what to tell the user, or raises MailboxError."""
    conn = connect(mailbox)
    try:
        typ, data = conn.uid("SEARCH", None, "UNSEEN")
        unseen = len(data[0].split()) if typ == "OK" and data and data[0] else 0
    finally:
        _close(conn)
    return _("Connected. %(count)d unread mail(s) in %(folder)s.") % {"count": unseen, "folder": mailbox.folder}


def mailbox_fetch(*, now=None, limit: int = FETCH_LIMIT) -> dict[str, int]:
    """The periodic fetch: each UNSEEN mail stored (and threaded), then marked seen. Returns counts
    by what became of the mails, plus "duplicates" (stored before, only marked seen now)."""
    mailbox = Mailbox.load()
    counts = {status.value: 0 for status in InboundStatus} | {"fetched": 0, "duplicates": 0, "failed": 0}
    if not mailbox.is_active:
        return counts
    try:
        conn = connect(mailbox)
    except MailboxError as exc:
        Mailbox.objects.filter(pk=mailbox.pk).update(last_error=str(exc)[:500], last_checked_at=timezone.now())
        log.warning("Service mailbox: %s", exc)
        return counts
    try:
        validity = int((conn.response("UIDVALIDITY")[1] or [b"0"])[0] or 0)
        typ, data = conn.uid("SEARCH", None, "UNSEEN")
        uids = [int(u) for u in (data[0].split() if typ == "OK" and data and data[0] else [])][:limit]
        for uid in uids:
            typ, parts = conn.uid("FETCH", str(uid), "(BODY.PEEK[])")
            raw = next((p[1] for p in parts or [] if isinstance(p, tuple) and len(p) == 2), None)
            if typ != "OK" or raw is None:
                continue
            counts["fetched"] += 1
            try:
                mail, is_new = mail_take(raw=raw, uidvalidity=validity, uid=uid, mailbox=mailbox, now=now)
            except Exception:  # noqa: BLE001 - one unreadable mail must not hold up the others
                # Left unseen: it is tried again next time (and logged each time), nothing is lost.
                log.exception("Service mailbox: the mail with UID %s could not be stored", uid)
                counts["failed"] += 1
                continue
            if is_new:
                counts[mail.status] += 1
            else:
                counts["duplicates"] += 1
            conn.uid("STORE", str(uid), "+FLAGS", "(\\Seen)")
        Mailbox.objects.filter(pk=mailbox.pk).update(
            uidvalidity=validity, last_error="", last_checked_at=timezone.now()
        )
    except (OSError, imaplib.IMAP4.error) as exc:
        Mailbox.objects.filter(pk=mailbox.pk).update(last_error=str(exc)[:500], last_checked_at=timezone.now())
        log.warning("Service mailbox: %s", exc)
    finally:
        _close(conn)
    return counts
