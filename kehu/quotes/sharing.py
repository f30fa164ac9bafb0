"""Handing a quote's document to the customer (SAL-3): share links and e-mail with the PDF.

Share links: a rep (or a manager over the rep) makes a link that opens the document without a
login at /q/<token>/, for 1–90 days (14 unless told). Only the SHA-256 of the token is stored
(`secrets.token_urlsafe`), so the link is shown once, when it is made. A revoked or expired link
answers 410 Gone. Each opening counts a view; the first opening of a quote through any of its links
goes on the customer's timeline once. Making a link hands the quote over: it goes through
`quote_mark_sent(how="link")` (so a draft or a quote awaiting approval cannot be shared).

E-mail: the PDF (in the chosen language) is attached to a mail written through the outbox, with
the rep as Reply-To; the quote goes through `quote_mark_sent(how="email")` and the mail appears on
the customer's timeline with its delivery state (`QuoteEvent.EMAILED`, the outbox mail's id in
the payload, as `activities.services.email_send` does).
"""

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.core import events
from kehu.core.mail import Attachment, outbox_add
from kehu.core.models import AuditAction
from kehu.core.text import check_text
from kehu.quotes.document import document_filename, document_pdf
from kehu.quotes.events import QuoteEvent
from kehu.quotes.models import DocumentLanguage, Quote, QuoteState, ShareLink
from kehu.quotes.services import may_change, quote_link, quote_mark_sent
from kehu.users.models import User, hash_token

DEFAULT_DAYS = 14
MAX_DAYS = 90
MAX_RECIPIENTS = 10
SENDABLE = (QuoteState.APPROVED, QuoteState.SENT)

# The customer opened the quote for the first time (through a share link): a timeline entry.
VIEWED = events.EventKind("quote_viewed", gettext_lazy("Customer opened the shared quote"))
events.register(VIEWED)


class LinkGoneError(Exception):
    """The link existed but was revoked or has expired (answer 410)."""

    def __init__(self, link: ShareLink):
        super().__init__("share link gone")
        self.link = link


def _check(actor: User, quote: Quote) -> None:
    if not may_change(actor, quote):
        raise PermissionDenied


def _check_sendable(quote: Quote) -> None:
    if quote.state not in SENDABLE:
        raise ValidationError(
            _("Only an approved or sent quote can go to the customer; this quote is %(state)s.")
            % {"state": quote.get_state_display().lower()},
            code="transition",
        )


# --- share links -----------------------------------------------------------------------------------


def share_link_create(*, quote: Quote, actor: User, days=DEFAULT_DAYS) -> tuple[ShareLink, str]:
    """A new link to the quote's document valid for `days` (1–90); returns the link and its token
    (shown once: only the hash is kept)."""
    _check(actor, quote)
    try:
        days = int(days)
    except (TypeError, ValueError):
        raise ValidationError({"days": [_("Give the number of days the link stays valid.")]}) from None
    if not 1 <= days <= MAX_DAYS:
        raise ValidationError({"days": [_("A link stays valid for 1 to %(n)d days.") % {"n": MAX_DAYS}]})
    _check_sendable(quote)
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        quote = quote_mark_sent(quote=quote, actor=actor, how="link")
        link = ShareLink.objects.create(
            quote=quote,
            token_hash=hash_token(token),
            created_at=now,
            created_by=actor,
            expires_at=now + timedelta(days=days),
        )
        events.record(
            QuoteEvent.SHARED,
            actor=actor,
            subject=quote,
            customer_id=quote.customer_id,
            summary=_("%(quote)s · link valid until %(date)s")
            % {"quote": quote, "date": timezone.localtime(link.expires_at).strftime("%Y-%m-%d")},
            payload={
                "quote": quote.pk,
                "number": str(quote),
                "link": link.pk,
                "expires_at": link.expires_at.isoformat(),
            },
            audit=AuditAction.UPDATE,
            changes={"share_link": [None, link.pk]},
            link=quote_link(quote),
        )
    return link, token


def share_link_revoke(*, link: ShareLink, actor: User) -> ShareLink:
    """The link stops working at once (its visitors get 410); revoking twice changes nothing."""
    quote = link.quote
    _check(actor, quote)
    with transaction.atomic():
        now = timezone.now()
        updated = ShareLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(revoked_at=now, revoked_by=actor)
        link.refresh_from_db()
        if updated:
            events.record(
                QuoteEvent.SHARE_REVOKED,
                actor=actor,
                subject=quote,
                customer_id=quote.customer_id,
                summary=str(quote),
                payload={"quote": quote.pk, "number": str(quote), "link": link.pk},
                audit=AuditAction.UPDATE,
                changes={"share_link": [link.pk, None]},
                link=quote_link(quote),
            )
    return link


def share_link_open(token: str) -> ShareLink:
    """A visitor opens a link: its view is counted and the quote comes back with it. Unknown
    token: ShareLink.DoesNotExist; revoked or expired: LinkGoneError."""
    link = share_link_find(token)
    now = timezone.now()
    if not share_link_is_usable(link, now):
        raise LinkGoneError(link)
    with transaction.atomic():
        first = not ShareLink.objects.filter(quote_id=link.quote_id, view_count__gt=0).exists()
        ShareLink.objects.filter(pk=link.pk).update(view_count=F("view_count") + 1, last_viewed_at=now)
        if first:
            quote = link.quote
            events.record(
                VIEWED,
                subject=quote,
                customer_id=quote.customer_id,
                summary=str(quote),
                payload={"quote": quote.pk, "number": str(quote), "link": link.pk},
                link=quote_link(quote),
            )
    link.view_count += 1
    link.last_viewed_at = now
    return link


def share_link_find(token: str) -> ShareLink:
    """The link with this token (whatever its state), with its quote; ShareLink.DoesNotExist else."""
    if not token or len(token) > 100:
        raise ShareLink.DoesNotExist
    link = (
        ShareLink.objects.select_related("quote", "quote__customer", "quote__contact", "quote__owner")
        .filter(token_hash=hash_token(token), quote__deleted_at__isnull=True)
        .first()
    )
    if link is None:
        raise ShareLink.DoesNotExist
    return link


def share_link_usable(token: str) -> ShareLink:
    """For the PDF of a shared quote: the link if it still works (no view counted)."""
    link = share_link_find(token)
    if not share_link_is_usable(link):
        raise LinkGoneError(link)
    return link


def share_link_is_usable(link: ShareLink, now=None) -> bool:
    return link.revoked_at is None and link.expires_at > (now or timezone.now())


def share_link_state(link: ShareLink, now=None) -> str:
    """ "active", "expired" or "revoked", for the list of links."""
    if link.revoked_at is not None:
        return "revoked"
    return "active" if link.expires_at > (now or timezone.now()) else "expired"


def share_links_of(quote: Quote) -> QuerySet[ShareLink]:
    """The quote's links, newest first, with who made and revoked them (one query)."""
    return (
        ShareLink.objects.filter(quote_id=quote.pk)
        .select_related("created_by", "revoked_by")
        .order_by("-created_at", "-id")
    )


def share_link_get(quote: Quote, pk) -> ShareLink:
    from django.http import Http404

    link = ShareLink.objects.filter(quote_id=quote.pk, pk=pk).select_related("quote").first()
    if link is None:
        raise Http404
    link.quote = quote
    return link


# --- e-mail ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EmailDraft:
    to: list[str]
    cc: list[str]
    subject: str
    message: str
    language: str


def email_defaults(quote: Quote, actor: User, language: str) -> EmailDraft:
    """What the e-mail form starts with: the contact's address, a subject and a short message in
    `language`."""
    from django.utils import translation

    from kehu.quotes.document import money, template_for

    contact = quote.contact if quote.contact_id else None
    with translation.override(language):
        company = template_for(language).company_name
        subject = _("Quote %(number)s") % {"number": quote}
        if company:
            subject = _("%(company)s: quote %(number)s") % {"company": company, "number": quote}
        greeting = _("Dear %(name)s,") % {"name": contact.name} if contact and contact.name else _("Dear customer,")
        body = _(
            "please find attached our quote %(number)s, valid until %(date)s, "
            "for a total of %(currency)s %(total)s (tax included)."
        ) % {
            "number": quote,
            "date": quote.valid_until.strftime("%Y-%m-%d"),
            "currency": quote.currency,
            "total": money(quote.total),
        }
        closing = _("Kind regards,")
        message = f"{greeting}\n\n{body}\n\n{closing}\n{actor.display_name}"
    return EmailDraft([contact.email] if contact and contact.email else [], [], subject, message, language)


def clean_addresses(values, field: str, *, required: bool) -> list[str]:
    found: list[str] = []
    for value in values or []:
        for part in str(value).replace(";", ",").replace("\n", ",").split(","):
            address = part.strip()
            if address and address.lower() not in {a.lower() for a in found}:
                found.append(address)
    if required and not found:
        raise ValidationError({field: [_("Give at least one e-mail address.")]})
    if len(found) > MAX_RECIPIENTS:
        raise ValidationError({field: [_("Send to at most %(n)d addresses at once.") % {"n": MAX_RECIPIENTS}]})
    for address in found:
        try:
            validate_email(address)
        except ValidationError:
            raise ValidationError(
                {field: [_("“%(address)s” is not an e-mail address.") % {"address": address}]}
            ) from None
    return found


def quote_email_send(*, quote: Quote, actor: User, to, cc=(), subject: str, message: str, language: str = ""):
    """E-mail the quote's PDF to the customer through the outbox; the quote is marked sent.
    Returns the outbox mail."""
    _check(actor, quote)
    errors: dict[str, list[str]] = {}
    subject, message = (subject or "").strip(), (message or "").strip()
    language = language or quote.language
    if not subject:
        errors["subject"] = [_("Give the mail a subject.")]
    if not message:
        errors["message"] = [_("Write the message.")]
    for name, value, multiline, limit in (("subject", subject, False, 200), ("message", message, True, 10_000)):
        try:
            check_text(value, field=name, multiline=multiline, max_length=limit)
        except ValidationError as exc:
            errors.setdefault(name, exc.message_dict[name])
    if language not in DocumentLanguage.values:
        errors["language"] = [_("Choose Chinese or English.")]
    addresses = {}
    for field, values, required in (("to", to, True), ("cc", cc, False)):
        try:
            addresses[field] = clean_addresses(values, field, required=required)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    _check_sendable(quote)
    # The PDF is made before the transaction: a long quote's rendering must not hold the write lock.
    pdf = document_pdf(quote, language=language)
    filename = document_filename(quote, language=language)
    with transaction.atomic():
        quote = quote_mark_sent(quote=quote, actor=actor, how="email")
        mail = outbox_add(
            subject=subject,
            body=message,
            to=addresses["to"],
            cc=addresses["cc"],
            reply_to=actor.email,
            template="quote_document",
            language=language,
            attachments=[Attachment(filename, pdf, "application/pdf")],
        )
        recipients = addresses["to"] + addresses["cc"]
        events.record(
            QuoteEvent.EMAILED,
            actor=actor,
            subject=quote,
            customer_id=quote.customer_id,
            summary=f"{subject} → {', '.join(recipients)}",
            payload={
                "quote": quote.pk,
                "number": str(quote),
                "mail": mail.pk,
                "to": addresses["to"],
                "cc": addresses["cc"],
                "attachment": filename,
            },
            audit=AuditAction.UPDATE,
            changes={"emailed_to": [None, ", ".join(recipients)], "mail": [None, mail.pk]},
            link=quote_link(quote),
        )
    return mail
