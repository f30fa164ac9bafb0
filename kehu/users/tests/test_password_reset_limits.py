"""Forgot-password mails are limited: a few per address an hour and a limit per client address,
and the page answers the same (with the same work done) whatever the address or the limit."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from kehu.core.models import OutboxMail
from kehu.users.models import PasswordResetRequest, ResetOutcome
from kehu.users.services import RESET_MAILS_PER_ADDRESS, RESET_REQUESTS_PER_CLIENT

pytestmark = pytest.mark.django_db


@pytest.fixture
def ask(django_capture_on_commit_callbacks):
    def post(email, ip="203.0.113.7"):
        with django_capture_on_commit_callbacks(execute=True):
            return Client(REMOTE_ADDR=ip).post("/accounts/password-reset/", {"email": email})

    return post


def _strip(html: bytes) -> bytes:
    return re.sub(rb"[A-Za-z0-9]{64}", b"TOKEN", html)


def test_at_most_three_mails_an_hour_to_one_address(team, ask, mailoutbox):
    assert RESET_MAILS_PER_ADDRESS == 3
    for _ in range(5):
        response = ask("rep1@example.com")
        assert (response.status_code, response.url) == (302, "/accounts/password-reset/sent/")
    assert [m.to for m in mailoutbox] == [["rep1@example.com"]] * 3
    outcomes = list(PasswordResetRequest.objects.order_by("pk").values_list("outcome", flat=True))
    assert outcomes == ["sent"] * 3 + ["address_limit"] * 2


def test_the_address_limit_ignores_case_and_other_clients(team, ask, mailoutbox):
    for i, email in enumerate(["rep1@example.com", "REP1@example.com", "Rep1@Example.com", "rep1@EXAMPLE.com"]):
        ask(email, ip=f"198.51.100.{i + 1}")
    assert len(mailoutbox) == 3


def test_the_limit_opens_again_after_an_hour(team, ask, mailoutbox):
    for _ in range(3):
        ask("rep1@example.com")
    PasswordResetRequest.objects.update(at=timezone.now() - timedelta(minutes=61))
    ask("rep1@example.com")
    assert len(mailoutbox) == 4


def test_one_client_is_limited_whatever_addresses_it_tries(team, ask, mailoutbox):
    for i in range(RESET_REQUESTS_PER_CLIENT):
        ask(f"nobody{i}@example.com")
    ask("rep1@example.com")
    assert mailoutbox == []
    assert PasswordResetRequest.objects.order_by("-pk").first().outcome == ResetOutcome.CLIENT_LIMIT
    ask("rep1@example.com", ip="192.0.2.50")  # another client is not affected
    assert [m.to for m in mailoutbox] == [["rep1@example.com"]]


def test_the_answer_is_the_same_for_known_unknown_and_limited_addresses(team, ask):
    pages = []
    for email in ["rep1@example.com", "nobody@example.com", "rep1@example.com", "rep1@example.com", "rep1@example.com"]:
        response = ask(email)
        pages.append((response.status_code, response.url))
    assert set(pages) == {(302, "/accounts/password-reset/sent/")}
    assert PasswordResetRequest.objects.filter(outcome=ResetOutcome.ADDRESS_LIMIT).count() == 1
    done = [_strip(Client().get("/accounts/password-reset/sent/").content) for _ in range(2)]
    assert done[0] == done[1]
    assert "queued for sending" in done[0].decode()


def test_the_page_does_the_same_work_whether_or_not_the_address_exists(team):
    """The request only records the request and queues the decision (same queries either way)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for email in ["rep1@example.com", "nobody@example.com"]:
        with CaptureQueriesContext(connection) as queries:
            Client().post("/accounts/password-reset/", {"email": email})
        counts.append([q["sql"].split(" ")[0] for q in queries.captured_queries])
    assert counts[0] == counts[1]


def test_the_reset_mail_goes_through_the_outbox_in_the_users_language(team, ask):
    from kehu.users.models import User

    User.objects.filter(pk=team.rep1.pk).update(language="zh-hans")
    ask("rep1@example.com")
    mail = OutboxMail.objects.get()
    assert (mail.recipients, mail.template, mail.language, mail.subject) == (
        ["rep1@example.com"],
        "users/email/password_reset",
        "zh-hans",
        "Kehu 客户管理：设置新密码",
    )
    assert "http://testserver/accounts/reset/" in mail.body


def test_requests_older_than_a_day_are_forgotten(team, ask):
    ask("nobody@example.com")
    PasswordResetRequest.objects.update(at=timezone.now() - timedelta(days=2))
    ask("nobody2@example.com")
    assert list(PasswordResetRequest.objects.values_list("email", flat=True)) == ["nobody2@example.com"]
