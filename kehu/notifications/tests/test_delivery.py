"""From events to people: in-app rows, e-mails in each person's language, the daily digest and team
robots' items, by each person's choices; in bulk, after the commit, never to the actor."""

from datetime import datetime, timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from kehu.core import events
from kehu.core.models import MailStatus, OutboxMail
from kehu.notifications import delivery
from kehu.notifications.models import DigestItem, Notification, Preference, RobotItem, RobotPost
from kehu.users.models import User
from kehu.users.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def record(django_capture_on_commit_callbacks):
    """Record an event the way services do, in a transaction, and run what follows its commit."""

    def go(kind="test_deal_won", **fields):
        fields.setdefault("summary", "苏州华星 won: 120,000 CNY")
        fields.setdefault("link", "/sales/opportunities/7/")
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            return events.record(kind, **fields)

    return go


def test_each_recipient_but_the_actor_gets_one_unread_notification(team, record):
    record(actor=team.rep1, notify=[team.rep1, team.manager1, team.rep2, team.manager1])
    rows = Notification.objects.order_by("recipient_id")
    assert [(n.recipient, n.kind, n.summary, n.link, n.actor, n.read_at) for n in rows] == [
        (team.manager1, "test_deal_won", "苏州华星 won: 120,000 CNY", "/sales/opportunities/7/", team.rep1, None),
        (team.rep2, "test_deal_won", "苏州华星 won: 120,000 CNY", "/sales/opportunities/7/", team.rep1, None),
    ]


def test_by_default_in_app_only_no_mail_and_no_digest(team, record):
    record(actor=None, notify=[team.rep1])
    assert (Notification.objects.count(), OutboxMail.objects.count(), DigestItem.objects.count()) == (1, 0, 0)


def test_a_kind_people_are_not_told_of_and_an_event_without_recipients_tell_nobody(team, record):
    record("test_quiet", notify=[team.rep1])
    record(notify=[])
    assert Notification.objects.count() == 0


def test_a_rolled_back_change_tells_nobody(team, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        events.record("test_deal_won", notify=[team.rep1], summary="x")
        raise RuntimeError("the write failed")
    assert Notification.objects.count() == 0


def test_an_inactive_person_is_not_told(team, record):
    User.objects.filter(pk=team.rep2.pk).update(is_active=False)
    record(notify=[team.rep1, team.rep2])
    assert list(Notification.objects.values_list("recipient_id", flat=True)) == [team.rep1.pk]


def test_email_goes_through_the_outbox_in_each_recipients_language(team, record, smtp):
    User.objects.filter(pk=team.rep1.pk).update(language="zh-hans")
    User.objects.filter(pk=team.rep2.pk).update(language="en")
    for user in (team.rep1, team.rep2, team.manager1):
        Preference.objects.create(user=user, kind="test_deal_won", in_app=False, email=True)
    record(actor=team.manager1, notify=[team.rep1, team.rep2, team.manager1])
    assert Notification.objects.count() == 0
    mails = {m.to: m for m in OutboxMail.objects.all()}
    assert sorted(mails) == ["rep1@example.com", "rep2@example.com"]
    assert {m.status for m in mails.values()} == {MailStatus.SENT}
    received = {str(m["To"]): m for m in smtp.messages}
    assert str(received["rep2@example.com"]["Subject"]) == "Kehu: Test deal won · 苏州华星 won: 120,000 CNY"
    body = received["rep2@example.com"].get_content()
    assert "Open in Kehu: http://127.0.0.1:8000/sales/opportunities/7/" in body
    assert "http://127.0.0.1:8000/notifications/preferences/" in body
    assert str(received["rep1@example.com"]["Subject"]) == "Kehu：测试：赢单 · 苏州华星 won: 120,000 CNY"
    assert "在 Kehu 中打开： http://127.0.0.1:8000/sales/opportunities/7/" in received["rep1@example.com"].get_content()
    assert mails["rep1@example.com"].language == "zh-hans"


def test_mail_links_use_the_configured_base_url(team, record, settings):
    settings.KEHU_BASE_URL = "https://crm.example.com"
    Preference.objects.create(user=team.rep1, kind="test_deal_won", email=True)
    record(notify=[team.rep1])
    assert "https://crm.example.com/sales/opportunities/7/" in OutboxMail.objects.get().body


def test_the_daily_digest_sends_one_mail_per_person_per_day(team, record, smtp, django_capture_on_commit_callbacks):
    Preference.objects.create(user=team.rep1, kind="test_deal_won", in_app=False, digest=True)
    Preference.objects.create(user=team.rep1, kind="test_task_due", in_app=True, digest=True)
    record(notify=[team.rep1], summary="first")
    record("test_task_due", notify=[team.rep1], summary="second", link="/activities/tasks/")
    assert (Notification.objects.count(), DigestItem.objects.filter(sent_at=None).count()) == (1, 2)
    tz = timezone.get_current_timezone()
    morning = timezone.now().astimezone(tz).replace(hour=7, minute=59) + timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert delivery.digests_send_due(now=morning) == 0  # before 08:00
        assert delivery.digests_send_due(now=morning + timedelta(minutes=1)) == 1
    (mail,) = smtp.messages
    assert str(mail["Subject"]) == "Kehu: your daily digest, 2 events"
    content = mail.get_content()
    assert "- Test deal won: first" in content and "- Test task due: second" in content
    assert "http://127.0.0.1:8000/activities/tasks/" in content
    # Later the same day, something new waits for tomorrow's digest.
    record(notify=[team.rep1], summary="third")
    with django_capture_on_commit_callbacks(execute=True):
        assert delivery.digests_send_due(now=morning + timedelta(hours=3)) == 0
        assert delivery.digests_send_due(now=morning + timedelta(days=1, minutes=1)) == 1
    assert len(smtp.messages) == 2 and "third" in smtp.messages[1].get_content()
    assert DigestItem.objects.filter(sent_at=None).count() == 0


def test_robots_of_the_recipients_departments_and_those_above_get_the_event(team, robot_of, record):
    east = robot_of("wecom", team.east)
    sales = robot_of("dingtalk", team.sales)
    south = robot_of("feishu", team.south)
    other_kind = robot_of("wecom", team.east, kinds=["test_task_due"])
    off = robot_of("wecom", team.hq, is_active=False)
    record(actor=team.rep1, notify=[team.rep1])  # a robot posts the team's news, the actor's own too
    assert sorted(RobotItem.objects.values_list("robot_id", flat=True)) == sorted([east.pk, sales.pk])
    assert RobotPost.objects.filter(robot__in=[south, other_kind, off]).count() == 0
    assert set(RobotPost.objects.values_list("status", flat=True)) == {"sent"}


def test_a_recycle_warning_two_thousand_owners_takes_a_fixed_number_of_queries(
    team, robot_of, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    now = timezone.now()
    User.objects.bulk_create(
        [
            User(username=f"owner{i}", email=f"owner{i}@example.com", role=Role.SALES_REP, department=team.east)
            for i in range(2000)
        ]
    )
    owners = list(User.objects.filter(username__startswith="owner").values_list("id", flat=True))
    Preference.objects.bulk_create(
        [Preference(user_id=uid, kind="test_deal_won", in_app=True, digest=True) for uid in owners[:500]]
    )
    robot_of("wecom", team.east)
    batch = [events.build("test_deal_won", notify=owners, summary="Customers return to the pool tomorrow")]
    with django_assert_max_num_queries(14), django_capture_on_commit_callbacks(execute=False):
        counts = delivery.deliver(batch, now=now)
    assert counts == {"in_app": 2000, "email": 0, "digest": 500, "robot": 1}
    assert Notification.objects.count() == 2000


def test_notify_tells_people_without_a_domain_event(team, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        delivery.notify(
            "test_task_due", recipients=[team.rep1, team.rep2.pk], actor=team.rep2, summary="Call back", link="/x/"
        )
    assert list(Notification.objects.values_list("recipient_id", "summary", "link")) == [
        (team.rep1.pk, "Call back", "/x/")
    ]


def test_notify_refuses_an_unknown_kind(team):
    with pytest.raises(ValueError, match="Unknown event kind"):
        delivery.notify("no_such_kind", recipients=[team.rep1])


def test_robot_items_wait_with_the_time_of_the_event(team, robot_of, record):
    robot_of("wecom", team.east)
    at = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.get_current_timezone())
    record(notify=[team.rep1], occurred_at=at)
    assert RobotItem.objects.get().created_at == at


def test_a_kind_its_app_mails_itself_gets_no_second_mail_even_when_chosen(team, record):
    Preference.objects.create(user=team.rep2, kind="test_mailed", in_app=True, email=True, digest=False)
    record("test_mailed", notify=[team.rep2])
    assert (Notification.objects.count(), OutboxMail.objects.count()) == (1, 0)
    from kehu.notifications.services import preferences_of

    row = next(r for r in preferences_of(team.rep2) if r["kind"] == "test_mailed")
    assert row["mailed"] is True
