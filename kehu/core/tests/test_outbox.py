"""The outbox (INT-2): every mail is a row; a refused or unreachable server is recorded, retried
with backoff and the mail is sent once the server accepts. Mail goes to a real SMTP server on
loopback (aiosmtpd, see conftest)."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from kehu.core import schedule
from kehu.core.mail import MAX_ATTEMPTS, RETRY_DELAYS, deliver_due, mail_deliver, outbox_purge, queue_email
from kehu.core.models import MailStatus, OutboxMail

from .conftest import free_port, smtp_mailers

pytestmark = pytest.mark.django_db


def _queue(capture, to="rep1@example.com", user=None):
    with capture(execute=True):
        return queue_email("users/email/approved", {"user": user}, [to], "zh-hans")


def test_a_mail_is_a_row_and_is_sent_after_commit(smtp, team, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        mail = queue_email("users/email/approved", {"user": team.rep1}, ["rep1@example.com"], "zh-hans")
        assert OutboxMail.objects.get().status == MailStatus.QUEUED
        assert smtp.messages == []
    for callback in callbacks:
        callback()
    mail.refresh_from_db()
    assert (mail.status, mail.attempts, mail.last_error, mail.next_attempt_at) == (MailStatus.SENT, 1, "", None)
    assert mail.sent_at is not None
    (received,) = smtp.messages
    assert (str(received["To"]), str(received["Subject"])) == ("rep1@example.com", "Kehu 客户管理：您的账号已获批准")
    assert (mail.template, mail.language, mail.subject) == (
        "users/email/approved",
        "zh-hans",
        "Kehu 客户管理：您的账号已获批准",
    )


def test_a_rolled_back_write_leaves_no_row_and_no_mail(smtp, team, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        queue_email("users/email/approved", {"user": team.rep1}, ["rep1@example.com"])
        raise RuntimeError("the write failed")
    assert (OutboxMail.objects.count(), smtp.messages) == (0, [])


def test_a_refused_mail_is_failed_with_the_error_then_retried_and_sent(smtp, team, django_capture_on_commit_callbacks):
    smtp.refuse = "550 5.7.1 Relaying denied"
    before = timezone.now()
    mail = _queue(django_capture_on_commit_callbacks, user=team.rep1)
    mail.refresh_from_db()
    assert (mail.status, mail.attempts) == (MailStatus.FAILED, 1)
    assert mail.last_error == "550 5.7.1 Relaying denied"
    assert mail.failure_reason == "The mail server refused the mail."
    assert before + RETRY_DELAYS[0] <= mail.next_attempt_at <= timezone.now() + RETRY_DELAYS[0]
    assert smtp.messages == []

    # Not due yet: the periodic job leaves it alone.
    assert deliver_due(now=timezone.now()) == 0
    mail.refresh_from_db()
    assert (mail.status, mail.attempts) == (MailStatus.FAILED, 1)

    # Due, and the server accepts now.
    smtp.refuse = ""
    assert deliver_due(now=mail.next_attempt_at) == 1
    mail.refresh_from_db()
    assert (mail.status, mail.attempts, mail.next_attempt_at) == (MailStatus.SENT, 2, None)
    assert [str(m["To"]) for m in smtp.messages] == ["rep1@example.com"]


def test_a_refused_recipient_is_named_in_the_error(smtp, team, django_capture_on_commit_callbacks):
    smtp.unknown = {"gone@example.com"}
    mail = _queue(django_capture_on_commit_callbacks, to="gone@example.com", user=team.rep1)
    mail.refresh_from_db()
    assert (mail.status, mail.last_error) == (MailStatus.FAILED, "550 5.1.1 User unknown <gone@example.com>")


def test_a_server_that_is_down_is_recorded_and_retried(settings, team, django_capture_on_commit_callbacks):
    settings.MAILERS = smtp_mailers(free_port())  # nobody listens there
    mail = _queue(django_capture_on_commit_callbacks, user=team.rep1)
    mail.refresh_from_db()
    assert (mail.status, mail.attempts) == (MailStatus.FAILED, 1)
    assert mail.last_error.startswith("ConnectionRefusedError: ")
    assert mail.failure_reason == "The mail server could not be reached."
    assert mail.next_attempt_at is not None


def test_backoff_is_1_5_30_minutes_2_and_12_hours_then_it_gives_up(smtp, team, django_capture_on_commit_callbacks):
    smtp.refuse = "451 4.3.0 Try again later"
    mail = _queue(django_capture_on_commit_callbacks, user=team.rep1)
    mail.refresh_from_db()
    assert mail.failure_reason == "The mail server asked to try again later."
    delays = []
    for _attempt in range(MAX_ATTEMPTS - 1):
        mail.refresh_from_db()
        delays.append(mail.next_attempt_at - mail.updated_at)
        assert mail_deliver(mail.pk, now=mail.next_attempt_at) == MailStatus.FAILED
    mail.refresh_from_db()
    assert delays == [
        timedelta(minutes=1),
        timedelta(minutes=5),
        timedelta(minutes=30),
        timedelta(hours=2),
        timedelta(hours=12),
    ]
    assert (mail.status, mail.attempts, mail.next_attempt_at, mail.gave_up) == (MailStatus.FAILED, 6, None, True)
    assert deliver_due(now=timezone.now() + timedelta(days=30)) == 0
    assert smtp.messages == []


def test_a_mail_whose_task_was_lost_is_picked_up_by_the_periodic_job(smtp, team):
    with transaction.atomic():
        queue_email("users/email/approved", {"user": team.rep1}, ["rep1@example.com"])
    # (no on-commit capture: the delivery task never ran)
    mail = OutboxMail.objects.get()
    assert mail.status == MailStatus.QUEUED
    assert deliver_due(now=timezone.now()) == 0  # a fresh one is left to its own task
    assert deliver_due(now=timezone.now() + timedelta(minutes=3)) == 1
    assert OutboxMail.objects.get().status == MailStatus.SENT


def test_a_mail_stuck_sending_after_a_crash_is_tried_again(smtp, team):
    with transaction.atomic():
        queue_email("users/email/approved", {"user": team.rep1}, ["rep1@example.com"])
    long_ago = timezone.now() - timedelta(hours=1)
    OutboxMail.objects.update(status=MailStatus.SENDING, attempts=1, updated_at=long_ago)
    assert deliver_due() == 1
    assert OutboxMail.objects.get().status == MailStatus.SENT


def test_two_workers_never_send_the_same_mail_twice(smtp, team):
    with transaction.atomic():
        mail = queue_email("users/email/approved", {"user": team.rep1}, ["rep1@example.com"])
    assert mail_deliver(mail.pk) == MailStatus.SENT
    assert mail_deliver(mail.pk) == ""  # already sent: nothing claimed
    assert len(smtp.messages) == 1


def test_the_retry_job_is_scheduled_every_minute():
    job = schedule.discover()["kehu.core.tasks.retry_due_mail"]
    assert job.every == timedelta(minutes=1)


def test_sent_mails_are_deleted_after_ninety_days_and_failed_ones_stay(team):
    now = timezone.now()

    def mail(status, age_days):
        return OutboxMail.objects.create(
            to="rep1@example.com", subject="s", body="b", status=status, created_at=now - timedelta(days=age_days)
        )

    for age in (91, 100, 101, 102, 103):  # five sent mails past their time, deleted two at a time
        mail(MailStatus.SENT, age)
    recent_sent, old_failed, old_queued = (
        mail(MailStatus.SENT, 89),
        mail(MailStatus.FAILED, 400),
        mail(MailStatus.QUEUED, 400),
    )
    assert outbox_purge(now, batch=2) == 5
    assert set(OutboxMail.objects.values_list("pk", flat=True)) == {recent_sent.pk, old_failed.pk, old_queued.pk}
    assert outbox_purge(now) == 0


def test_the_purge_job_runs_daily():
    job = schedule.discover()["kehu.core.tasks.purge_sent_mail"]
    assert job.every == timedelta(days=1)


def test_an_empty_recipient_list_queues_nothing(team):
    assert queue_email("users/email/approved", {"user": team.rep1}, ["", ""]) is None
    assert not OutboxMail.objects.exists()
