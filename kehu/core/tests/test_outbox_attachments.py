"""Outbox mails with copies (cc) and attachments (a quote's PDF): the files are kept with the mail,
sent with it to a real SMTP server on loopback, sent again unchanged by a retry and deleted with it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from kehu.core.mail import Attachment, deliver_due, outbox_add, outbox_purge
from kehu.core.models import MailStatus, OutboxAttachment, OutboxMail

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n\x00\xff binary \r\n bytes\n%%EOF\n"


def _queue(capture, **extra):
    with capture(execute=True):
        return outbox_add(
            subject="报价单 Q-2026-0001",
            body="您好，附件是报价单。",
            to=["buyer@example.com"],
            reply_to="rep1@example.com",
            attachments=[Attachment("报价单 Q-2026-0001.pdf", PDF, "application/pdf")],
            **extra,
        )


def test_the_attachment_and_the_copies_go_out_with_the_mail(smtp, django_capture_on_commit_callbacks):
    mail = _queue(django_capture_on_commit_callbacks, cc=["boss@example.com", "buyer2@example.com"])
    mail.refresh_from_db()
    assert (mail.status, mail.cc_recipients) == (MailStatus.SENT, ["boss@example.com", "buyer2@example.com"])
    stored = OutboxAttachment.objects.get()
    assert (stored.mail_id, stored.filename, stored.size, bytes(stored.content)) == (
        mail.pk,
        "报价单 Q-2026-0001.pdf",
        len(PDF),
        PDF,
    )
    (received,) = smtp.messages
    assert (str(received["To"]), str(received["Cc"]), str(received["Reply-To"])) == (
        "buyer@example.com",
        "boss@example.com, buyer2@example.com",
        "rep1@example.com",
    )
    body, attachment = received.iter_parts()
    assert body.get_content().strip() == "您好，附件是报价单。"
    assert (attachment.get_filename(), attachment.get_content_type()) == ("报价单 Q-2026-0001.pdf", "application/pdf")
    assert attachment.get_content() == PDF


def test_a_mail_without_copies_or_files_is_sent_as_before(smtp, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        mail = outbox_add(subject="x", body="y", to=["a@example.com"])
    mail.refresh_from_db()
    (received,) = smtp.messages
    assert (mail.status, received["Cc"], received.is_multipart()) == (MailStatus.SENT, None, False)


def test_a_retry_sends_the_same_attachment(smtp, django_capture_on_commit_callbacks):
    smtp.refuse = "451 4.3.0 Try again later"
    mail = _queue(django_capture_on_commit_callbacks)
    mail.refresh_from_db()
    assert (mail.status, mail.attempts, smtp.messages) == (MailStatus.FAILED, 1, [])
    smtp.refuse = ""
    assert deliver_due(now=mail.next_attempt_at) == 1
    mail.refresh_from_db()
    assert (mail.status, mail.attempts) == (MailStatus.SENT, 2)
    (received,) = smtp.messages
    assert [p.get_content() for p in received.iter_attachments()] == [PDF]


def test_purging_a_sent_mail_deletes_its_attachments_and_counts_mails(smtp, django_capture_on_commit_callbacks):
    mail = _queue(django_capture_on_commit_callbacks)
    OutboxMail.objects.filter(pk=mail.pk).update(created_at=timezone.now() - timedelta(days=91))
    assert outbox_purge() == 1
    assert (OutboxMail.objects.count(), OutboxAttachment.objects.count()) == (0, 0)
