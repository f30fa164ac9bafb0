"""The outbox page under settings: administrators see every mail with its status and error and
may retry a failed one; nobody else may open it."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from kehu.core.mail import queue_email
from kehu.core.models import AuditEntry, MailStatus, OutboxMail
from kehu.customers.tests.permissions import LOGIN, act_as, assert_status

pytestmark = pytest.mark.django_db

URL = "/settings/mail/"


@pytest.fixture
def refused(smtp, team, django_capture_on_commit_callbacks):
    """One mail the server refused (failed, retry scheduled) and one it accepted."""
    smtp.refuse = "550 5.1.1 <nobody@example.com>: Recipient address rejected"
    with django_capture_on_commit_callbacks(execute=True):
        bad = queue_email("users/email/approved", {"user": team.rep1}, ["nobody@example.com"], "en")
    smtp.refuse = ""
    with django_capture_on_commit_callbacks(execute=True):
        good = queue_email("users/email/approved", {"user": team.rep2}, ["rep2@example.com"], "en")
    bad.refresh_from_db()
    good.refresh_from_db()
    assert (bad.status, good.status) == (MailStatus.FAILED, MailStatus.SENT)
    return bad


PAGE = {"anonymous": LOGIN, "rep1": 403, "manager1": 403, "gm": 403, "service1": 403, "marketing1": 403, "admin": 200}


@pytest.mark.parametrize(("actor", "expected"), list(PAGE.items()), ids=list(PAGE))
def test_only_administrators_open_the_outbox(client, team, actor, expected):
    act_as(client, team, actor)
    assert_status(client.get(URL), expected)


@pytest.mark.parametrize(("actor", "expected"), [(a, e) for a, e in PAGE.items() if e != 200], ids=lambda v: str(v))
def test_others_cannot_retry(client, team, refused, actor, expected):
    act_as(client, team, actor)
    before = OutboxMail.objects.values_list("status", "attempts", "next_attempt_at").get(pk=refused.pk)
    assert_status(client.post(f"{URL}{refused.pk}/retry/"), expected)
    assert OutboxMail.objects.values_list("status", "attempts", "next_attempt_at").get(pk=refused.pk) == before


def test_the_failed_mail_shows_its_error_and_the_filter_keeps_only_failed(client, team, refused):
    client.force_login(team.admin)
    page = client.get(URL).content.decode()
    assert "nobody@example.com" in page and "rep2@example.com" in page
    assert ">550 5.1.1 &lt;nobody@example.com&gt;: Recipient address rejected</code>" in page
    assert "The mail server refused the mail." in page
    failed = client.get(URL, {"status": "failed"}).content.decode()
    assert "nobody@example.com" in failed and "rep2@example.com" not in failed
    assert f'id="mail-{refused.pk}" data-status="failed"' in failed


def test_the_status_tabs_count_each_status(client, team, refused):
    client.force_login(team.admin)
    tabs = {value: n for value, _label, n in client.get(URL).context["tabs"]}
    assert tabs == {"": 2, "queued": 0, "sending": 0, "sent": 1, "failed": 1}


def test_search_by_recipient(client, team, refused):
    client.force_login(team.admin)
    page = client.get(URL, {"to": "REP2@"}).content.decode()
    assert "rep2@example.com" in page and "nobody@example.com" not in page


def test_retry_now_sends_a_failed_mail_at_once_and_is_audited(
    client, team, refused, smtp, django_capture_on_commit_callbacks
):
    client.force_login(team.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{URL}{refused.pk}/retry/", {"next": f"{URL}?status=failed"})
    assert (response.status_code, response.url) == (302, f"{URL}?status=failed")
    refused.refresh_from_db()
    assert (refused.status, refused.attempts) == (MailStatus.SENT, 2)
    assert AuditEntry.objects.filter(target_type="core.outboxmail", target_id=refused.pk, actor=team.admin).exists()


def test_retry_refuses_a_sent_mail(client, team, refused):
    sent = OutboxMail.objects.get(status=MailStatus.SENT)
    client.force_login(team.admin)
    response = client.post(f"{URL}{sent.pk}/retry/", follow=True)
    assert "nothing to retry" in response.content.decode()
    sent.refresh_from_db()
    assert (sent.status, sent.attempts) == (MailStatus.SENT, 1)


def test_retry_goes_back_only_to_a_page_of_this_site(client, team, refused):
    client.force_login(team.admin)
    response = client.post(f"{URL}{refused.pk}/retry/", {"next": "https://evil.example.com/"})
    assert response.url == URL


def test_a_gave_up_mail_gets_one_more_attempt(client, team, refused, smtp, django_capture_on_commit_callbacks):
    OutboxMail.objects.filter(pk=refused.pk).update(attempts=6, next_attempt_at=None)
    smtp.refuse = "550 still refused"
    client.force_login(team.admin)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"{URL}{refused.pk}/retry/")
    refused.refresh_from_db()
    assert (refused.status, refused.attempts, refused.next_attempt_at) == (MailStatus.FAILED, 7, None)
    assert "still refused" in refused.last_error


def test_the_page_reads_a_fixed_number_of_queries(client, team, django_assert_max_num_queries):
    client.force_login(team.admin)
    client.get(URL)
    with transaction.atomic():
        for i in range(60):
            OutboxMail.objects.create(
                to=f"u{i}@example.com", subject="s", body="b", status=MailStatus.FAILED, last_error="550 no"
            )
    with django_assert_max_num_queries(8):
        response = client.get(URL)
    assert len(response.context["mails"]) == 50
    assert response.context["older"] is not None


def test_older_pages_follow_on(client, team):
    now = timezone.now()
    for i in range(55):
        OutboxMail.objects.create(
            to=f"u{i:02d}@example.com", subject="s", body="b", created_at=now - timedelta(minutes=i)
        )
    client.force_login(team.admin)
    first = client.get(URL)
    second = client.get(URL, {"before": first.context["older"]})
    seen = [m.to for m in first.context["mails"]] + [m.to for m in second.context["mails"]]
    assert sorted(seen) == sorted(f"u{i:02d}@example.com" for i in range(55))


@pytest.mark.parametrize(
    ("language", "said"), [("en", "Sent mails are kept for 90 days."), ("zh-hans", "已发出的邮件保留 90 天。")]
)
def test_the_page_says_how_long_sent_mails_are_kept(client, team, language, said):
    client.force_login(team.admin)
    assert said in client.get(URL, headers={"accept-language": language}).content.decode()
