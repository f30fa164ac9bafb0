"""Outgoing mail (INT-2) through the outbox: rendered in the recipient's language, written to
`OutboxMail` in the transaction that caused it, delivered by a task after commit.

A delivery that fails (the server refuses, is down, times out) is recorded with the error and
tried again after 1, 5 and 30 minutes, 2 and 12 hours; after the sixth failed attempt the mail
stays failed until an administrator retries it from the outbox page. `retry_due_mail` (a
periodic job in kehu.core.tasks) picks up what is due; `purge_sent_mail` deletes sent mails after
90 days.
"""

import smtplib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.tasks import task
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kehu.core.audit import audit_record
from kehu.core.models import MAIL_QUEUED_GRACE, AuditAction, MailStatus, OutboxAttachment, OutboxMail

RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=12),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
# A queued mail normally goes out at once; the periodic job only picks up one whose task was lost.
QUEUED_GRACE = MAIL_QUEUED_GRACE
# A worker that died while talking to the server leaves the mail "sending"; try it again later.
SENDING_STUCK_AFTER = timedelta(minutes=15)
ERROR_MAX_LENGTH = 2000
# Sent mails (password-reset links among them) are kept this long for the outbox page, then deleted
# by `purge_sent_mail`; failed ones stay until an administrator has seen to them.
SENT_KEPT_FOR = timedelta(days=90)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    content_type: str = "application/octet-stream"


def render_email(template: str, context: dict, language: str | None = None) -> tuple[str, str]:
    """`template`_subject.txt and `template`_body.txt, rendered in `language`."""
    with translation.override(language or settings.LANGUAGE_CODE):
        subject = render_to_string(f"{template}_subject.txt", context).strip()
        body = render_to_string(f"{template}_body.txt", context)
    return " ".join(subject.splitlines()), body


def outbox_add(
    *,
    subject: str,
    body: str,
    to: list[str],
    template: str = "",
    language: str = "",
    reply_to: str = "",
    cc: Iterable[str] = (),
    attachments: Iterable[Attachment] = (),
    headers: dict[str, str] | None = None,
) -> OutboxMail:
    """Queue a mail: it is written now and sent once the surrounding transaction commits
    (a rolled-back write leaves neither the row nor a mail). `attachments` are kept with the mail
    (a retry sends the same bytes); `headers` are added to the message (Message-ID, In-Reply-To ...)."""
    mail = OutboxMail.objects.create(
        to="\n".join(to),
        cc="\n".join(cc),
        reply_to=reply_to,
        subject=subject[:300],
        body=body,
        template=template,
        language=language or "",
        headers=headers or {},
        next_attempt_at=timezone.now(),
    )
    OutboxAttachment.objects.bulk_create(
        OutboxAttachment(
            mail=mail, filename=a.filename, content_type=a.content_type, content=a.content, size=len(a.content)
        )
        for a in attachments
    )
    transaction.on_commit(lambda: deliver_mail.enqueue(mail.pk))
    return mail


def queue_email(template: str, context: dict, to: list[str], language: str | None = None) -> OutboxMail | None:
    """Render `template` in `language` and queue it for `to` (nothing for an empty list)."""
    to = [address for address in to if address]
    if not to:
        return None
    subject, body = render_email(template, context, language)
    return outbox_add(subject=subject, body=body, to=to, template=template, language=language or "")


def mail_states(ids) -> dict[int, dict]:
    """The delivery state of these outbox mails in one query (a mail purged after 90 days: absent)."""
    if not ids:
        return {}
    states = {}
    for pk, status, next_attempt in OutboxMail.objects.filter(pk__in=ids).values_list(
        "pk", "status", "next_attempt_at"
    ):
        given_up = status == MailStatus.FAILED and next_attempt is None
        label = _("not delivered") if given_up else MailStatus(status).label
        states[pk] = {"label": label, "sent": status == MailStatus.SENT, "failed": given_up}
    return states


def _retry_delay(attempts: int) -> timedelta | None:
    return RETRY_DELAYS[attempts - 1] if 1 <= attempts <= len(RETRY_DELAYS) else None


def describe_failure(exc: Exception) -> str:
    """The server's answer as people read it ("550 5.7.1 Relaying denied"), else the error."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{code} {_text(message)} <{address}>" for address, (code, message) in exc.recipients.items())
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_text(exc.smtp_error)}"
    return f"{type(exc).__name__}: {exc}"


def _text(message) -> str:
    return message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)


def mail_deliver(mail_id: int, now=None) -> str:
    """One delivery attempt; returns the mail's status afterwards ("" when it was not due or is
    being sent by another worker: the conditional UPDATE lets only one worker claim it)."""
    from django.core.mail import EmailMessage

    now = now or timezone.now()
    claimed = OutboxMail.objects.filter(
        pk=mail_id, status__in=[MailStatus.QUEUED, MailStatus.FAILED], next_attempt_at__lte=now
    ).update(status=MailStatus.SENDING, attempts=F("attempts") + 1, updated_at=now)
    if not claimed:
        return ""
    mail = OutboxMail.objects.get(pk=mail_id)
    try:
        reply_to = [mail.reply_to] if mail.reply_to else None
        message = EmailMessage(
            mail.subject,
            mail.body,
            settings.DEFAULT_FROM_EMAIL,
            mail.recipients,
            cc=mail.cc_recipients or None,
            reply_to=reply_to,
            headers=mail.headers or None,
        )
        for attachment in mail.attachments.order_by("pk"):
            message.attach(attachment.filename, bytes(attachment.content), attachment.content_type)
        message.send()
    except Exception as exc:  # noqa: BLE001 - whatever the transport raised is recorded and retried
        delay = _retry_delay(mail.attempts)
        OutboxMail.objects.filter(pk=mail_id).update(
            status=MailStatus.FAILED,
            last_error=describe_failure(exc)[:ERROR_MAX_LENGTH],
            next_attempt_at=now + delay if delay else None,
            updated_at=now,
        )
        return MailStatus.FAILED
    OutboxMail.objects.filter(pk=mail_id).update(
        status=MailStatus.SENT, sent_at=now, next_attempt_at=None, updated_at=now
    )
    return MailStatus.SENT


@task(queue_name="email")
def deliver_mail(mail_id: int) -> str:
    return mail_deliver(mail_id)


@task(queue_name="email")
def send_email(subject: str, body: str, to: list[str]) -> int:
    """Tasks queued before the outbox existed still arrive: they go through it now."""
    with transaction.atomic():
        mail = outbox_add(subject=subject, body=body, to=to)
    return mail.pk


def due_mail_ids(now=None, limit: int = 200) -> list[int]:
    """Failed mails whose next attempt is due, queued ones whose task was lost, stuck ones."""
    now = now or timezone.now()
    OutboxMail.objects.filter(status=MailStatus.SENDING, updated_at__lte=now - SENDING_STUCK_AFTER).update(
        status=MailStatus.QUEUED, next_attempt_at=now - QUEUED_GRACE, updated_at=now
    )
    due = Q(status=MailStatus.FAILED, next_attempt_at__lte=now) | Q(
        status=MailStatus.QUEUED, next_attempt_at__lte=now - QUEUED_GRACE
    )
    ids = OutboxMail.objects.filter(due).order_by("next_attempt_at", "id").values_list("id", flat=True)
    return list(ids[:limit])


def deliver_due(now=None) -> int:
    """Try every due mail once (the periodic job); returns how many were sent."""
    return sum(mail_deliver(pk, now) == MailStatus.SENT for pk in due_mail_ids(now))


def outbox_purge(now=None, batch: int = 1000) -> int:
    """Delete sent mails older than SENT_KEPT_FOR (the daily job); returns how many."""
    cutoff = (now or timezone.now()) - SENT_KEPT_FOR
    old = OutboxMail.objects.filter(status=MailStatus.SENT, created_at__lt=cutoff)
    deleted = 0
    while ids := list(old.values_list("id", flat=True)[:batch]):
        deleted += OutboxMail.objects.filter(id__in=ids).delete()[1].get(OutboxMail._meta.label, 0)
    return deleted


def outbox_mail_retry(*, mail: OutboxMail, actor) -> OutboxMail:
    """An administrator's "retry now": a failed (or stranded queued) mail is due at once. A mail
    Kehu gave up on gets one more attempt; if that fails too it stays failed."""
    if not actor.has_perm("core.manage_mail"):
        raise PermissionDenied
    with transaction.atomic():
        locked = OutboxMail.objects.select_for_update().get(pk=mail.pk)
        if not locked.may_retry:
            raise ValidationError(_("This mail is on its way or has been sent; there is nothing to retry."))
        before = locked.status
        now = timezone.now()
        locked.status, locked.next_attempt_at, locked.updated_at = MailStatus.QUEUED, now, now
        locked.save(update_fields=["status", "next_attempt_at", "updated_at"])
        audit_record(actor=actor, action=AuditAction.UPDATE, instance=locked, changes={"status": [before, "queued"]})
        transaction.on_commit(lambda: deliver_mail.enqueue(locked.pk))
    return locked
