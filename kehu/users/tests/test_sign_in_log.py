"""The sign-in log: what is recorded, the administrators' page, and a person's own recent sign-ins."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from kehu.users.models import SignInEvent
from kehu.users.security import sign_in_record

PASSWORD = "kehu-test-pw"
UA = "Mozilla/5.0 (Windows NT 10.0) " + "x" * 300


def _login(client, username, password=PASSWORD):
    return client.post(
        "/accounts/login/",
        {"username": username, "password": password},
        headers={"user-agent": UA},
        REMOTE_ADDR="203.0.113.7",
    )


def _rows():
    return list(SignInEvent.objects.order_by("id").values_list("result", "username", "user__username", "method", "ip"))


def test_sign_in_failure_lockout_and_sign_out_are_recorded(client, team):
    _login(client, "rep1", "wrong-password")
    _login(client, "REP1@example.com", PASSWORD)
    client.post("/accounts/logout/", REMOTE_ADDR="203.0.113.7")
    for _attempt in range(5):
        _login(client, "rep2", "wrong-password")
    _login(client, "rep2", PASSWORD)  # refused during the lockout
    assert _rows() == [
        ("failed", "rep1", "rep1", "", "203.0.113.7"),
        ("signed_in", "rep1", "rep1", "password", "203.0.113.7"),
        ("signed_out", "rep1", "rep1", "", "203.0.113.7"),
        *[("failed", "rep2", "rep2", "", "203.0.113.7")] * 4,
        ("locked_out", "rep2", "rep2", "", "203.0.113.7"),
        ("locked_out", "rep2", "rep2", "", "203.0.113.7"),
    ]
    event = SignInEvent.objects.first()
    assert event.user_agent == UA[:200]


def test_an_unknown_username_is_logged_and_answered_like_a_known_one(client, team):
    unknown = _login(client, "nobody-here", "wrong-password")
    known = _login(Client(), "rep1", "wrong-password")
    assert unknown.status_code == known.status_code == 200
    assert unknown.context["form"].errors == known.context["form"].errors
    assert _rows()[0] == ("failed", "nobody-here", None, "", "203.0.113.7")


# ---- the administrators' page ----

LOG = "/accounts/sign-in-log/"


@pytest.mark.parametrize(("who", "status"), [("rep1", 403), ("manager1", 403), ("gm", 403), ("admin", 200)])
def test_who_may_read_the_log(client, team, who, status):
    client.force_login(getattr(team, who))
    assert client.get(LOG).status_code == status


def test_anonymous_visitors_are_sent_to_sign_in(client, team):
    response = client.get(LOG)
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")


def test_the_log_is_listed_in_settings_for_administrators(client, team):
    client.force_login(team.admin)
    assert 'href="/accounts/sign-in-log/"' in client.get("/settings/").content.decode()
    client.force_login(team.manager1)
    assert 'href="/accounts/sign-in-log/"' not in client.get("/settings/").content.decode()


def test_filters_by_user_result_and_date(client, team):
    sign_in_record(result="failed", user=team.rep1)
    sign_in_record(result="signed_in", user=team.rep1, method="password")
    sign_in_record(result="signed_in", user=team.rep2, method="password")
    old = sign_in_record(result="signed_in", user=team.rep1, method="password")
    SignInEvent.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=40))
    sign_in_record(result="failed", username="ghost")
    client.force_login(team.admin)
    SignInEvent.objects.filter(user=team.admin).delete()  # the force_login above

    def shown(query):
        return [(e.result, e.username) for e in client.get(LOG + query).context["events"]]

    assert shown(f"?user={team.rep1.pk}") == [("signed_in", "rep1"), ("signed_in", "rep1"), ("failed", "rep1")]
    assert shown("?result=failed") == [("failed", "ghost"), ("failed", "rep1")]
    since = (timezone.localdate() - timedelta(days=1)).isoformat()
    assert shown(f"?user={team.rep1.pk}&since={since}") == [("signed_in", "rep1"), ("failed", "rep1")]
    until = (timezone.localdate() - timedelta(days=30)).isoformat()
    assert shown(f"?until={until}") == [("signed_in", "rep1")]
    page = client.get(LOG + "?since=0001-01-01&result=nonsense")
    assert page.status_code == 200 and "Enter a date between the years 1900 and 2999." in page.content.decode()


def test_the_log_pages_on_in_fifty_with_a_fixed_number_of_queries(client, team, django_assert_max_num_queries):
    SignInEvent.objects.bulk_create(
        [SignInEvent(result="failed", username=f"u{i}", user=team.rep1 if i % 2 else None) for i in range(120)]
    )
    client.force_login(team.admin)
    with django_assert_max_num_queries(8):
        first = client.get(LOG)
    events = first.context["events"]
    assert len(events) == 50 and first.context["older"] == events[-1].pk
    assert "rep1" in first.content.decode()
    with django_assert_max_num_queries(8):
        second = client.get(LOG + f"?before={first.context['older']}")
    assert [e.pk for e in second.context["events"]] == list(
        SignInEvent.objects.filter(pk__lt=events[-1].pk).order_by("-id").values_list("pk", flat=True)[:50]
    )
    third = client.get(LOG + f"?before={second.context['older']}")
    assert third.context["older"] is None and len(third.context["events"]) == 21  # 120 + the admin's sign-in


def test_the_log_escapes_what_was_typed(client, team):
    sign_in_record(result="failed", username="<script>alert(1)</script>")
    client.force_login(team.admin)
    html = client.get(LOG).content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# ---- one's own ----


def test_a_person_sees_their_own_recent_sign_ins_only(client, team):
    _login(client, "rep1")
    sign_in_record(result="failed", user=team.rep2)
    page = client.get("/accounts/security/")
    events = page.context["events"]
    assert [(e.result, e.user_id) for e in events] == [("signed_in", team.rep1.pk)]
    assert "203.0.113.7" in page.content.decode()


def test_a_daily_job_forgets_lines_older_than_a_year(team, settings):
    from kehu.core.schedule import discover

    settings.KEHU_SIGN_IN_LOG_DAYS = 365
    keep = sign_in_record(result="signed_in", user=team.rep1)
    old = sign_in_record(result="signed_in", user=team.rep1)
    SignInEvent.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=366))
    job = discover()["kehu.users.tasks.sign_in_log_prune"]
    assert job.every == timedelta(days=1)
    assert job.task.call() == 1
    assert list(SignInEvent.objects.values_list("pk", flat=True)) == [keep.pk]
