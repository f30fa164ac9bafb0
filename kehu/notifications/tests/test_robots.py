"""Team robots against a loopback receiver that checks each platform's signature, keyword and size
as the platform does and answers as it does: signed posts delivered, about 20 posts a minute per
robot with the rest merged into digest posts later, long digests split, failures retried with
backoff and never lost."""

import json
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from kehu.core import events
from kehu.notifications import chat, delivery, robots, services
from kehu.notifications.models import PostStatus, RobotItem, RobotPost

pytestmark = pytest.mark.django_db


@pytest.fixture
def tell(django_capture_on_commit_callbacks):
    """Deliver one event to the recipients' robots at a chosen moment (the robots' clock)."""

    def go(recipients, *, now, summary="苏州华星精密机械 won: 120,000 CNY", kind="test_deal_won", actor=None):
        event = events.build(kind, notify=recipients, summary=summary, link="/sales/opportunities/7/", actor=actor)
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            delivery.deliver([event], now=now)

    return go


@pytest.mark.parametrize("platform", ["wecom", "dingtalk", "feishu"])
def test_a_post_reaches_the_group_as_a_markdown_card_linking_back(team, receiver, robot_of, tell, platform, settings):
    settings.KEHU_BASE_URL = "https://crm.example.com"
    secret = "" if platform == "wecom" else "SECf3a9c2b7d1e04a6b8c5d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0"
    robot = robot_of(platform, team.east, secret=secret)
    tell([team.rep1], now=timezone.now(), actor=team.rep1)
    (message,) = receiver.received
    assert receiver.refused == []
    body = message["body"]
    if platform == "feishu":
        assert body["msg_type"] == "interactive"
        assert body["card"]["header"]["title"]["content"] == "Test deal won"
        assert body["card"]["elements"][0]["content"].startswith("苏州华星精密机械 won: 120,000 CNY")
        assert body["card"]["elements"][1]["actions"][0]["url"] == "https://crm.example.com/sales/opportunities/7/"
        assert {"timestamp", "sign"} <= set(body)
    else:
        assert body["msgtype"] == "markdown"
        text = receiver.texts()[0]
        assert text.startswith("### Test deal won\n\n苏州华星精密机械 won: 120,000 CNY\n\n> rep1 · ")
        assert text.endswith("[Open in Kehu](https://crm.example.com/sales/opportunities/7/)")
    post = RobotPost.objects.get(robot=robot)
    assert (post.status, post.attempts, post.item_count, post.last_error) == (PostStatus.SENT, 1, 1, "")


@pytest.mark.parametrize(
    ("platform", "error"),
    [
        ("dingtalk", "310000 sign not match, more: [...]"),
        ("feishu", "19021 sign match fail or timestamp is not within one hour from current time"),
    ],
)
def test_a_wrong_secret_is_refused_by_the_platform_and_retried_later(team, receiver, robot_of, tell, platform, error):
    robot = robot_of(platform, team.east, secret="SECright")
    robot.secret = "SECwrong"
    robot.save()
    now = timezone.now()
    tell([team.rep1], now=now)
    post = RobotPost.objects.get()
    assert (post.status, post.attempts, post.last_error) == (PostStatus.PENDING, 1, error)
    assert post.next_attempt_at == now + timedelta(minutes=1)
    assert receiver.received == []


def test_the_signatures_follow_each_platforms_documented_example():
    # DingTalk: HMAC-SHA256 keyed with the secret over "timestamp\nsecret"; Feishu: keyed with
    # "timestamp\nsecret" over nothing. Figures computed independently with openssl.
    assert chat.dingtalk_sign("this is secret", 1577836800000) == "fFV9t5lBS7KH4+5B0JjR99ab+AJkXFauQXycgTkS/tc="
    assert chat.feishu_sign("this is secret", 1577836800) == "mrvWG34HKV6PqBObvxHSEHK+ExNfDb38Dqx7z7qYW68="


@pytest.mark.parametrize("platform", ["dingtalk", "feishu"])
def test_the_keyword_the_chat_app_asks_for_is_in_every_message(team, receiver, robot_of, tell, platform):
    robot_of(platform, team.east, keyword="客户通知")
    tell([team.rep1], now=timezone.now())
    tell([team.rep2], now=timezone.now())
    assert (len(receiver.received), receiver.refused) == (2, [])
    assert all("【客户通知】" in json.dumps(m["body"], ensure_ascii=False) for m in receiver.received)


def test_without_the_keyword_the_platform_refuses_and_the_log_says_why(team, receiver, robot_of, tell):
    robot = robot_of("dingtalk", team.east, keyword="客户通知")
    robot.keyword = ""
    robot.save()
    tell([team.rep1], now=timezone.now())
    post = RobotPost.objects.get()
    assert (post.status, post.last_error) == (PostStatus.PENDING, "310000 keywords not in content")


def test_fifty_events_in_a_minute_make_at_most_twenty_posts_in_it_and_digests_later(team, receiver, robot_of, tell):
    robot = robot_of("wecom", team.east)
    start = timezone.now().replace(microsecond=0)
    for i in range(50):
        tell([team.rep1], now=start + timedelta(seconds=i), summary=f"deal {i:02d}")
    first_minute = RobotPost.objects.filter(last_attempt_at__lt=start + timedelta(minutes=1))
    assert first_minute.count() == 20
    assert len(receiver.received) == 20
    assert RobotItem.objects.filter(post__isnull=True).count() == 30
    # A minute later the backlog goes out merged, within the rate.
    later = start + timedelta(seconds=80)
    assert robots.robots_flush_due(now=later) >= 1
    window = RobotPost.objects.filter(last_attempt_at__gt=later - timedelta(minutes=1), last_attempt_at__lte=later)
    assert window.count() <= 20
    digests = RobotPost.objects.filter(item_count__gt=1)
    assert digests.count() >= 1 and {p.status for p in digests} == {PostStatus.SENT}
    assert RobotItem.objects.filter(post__isnull=True).count() == 0
    assert sum(RobotPost.objects.values_list("item_count", flat=True)) == 50
    text = "\n".join(receiver.texts())
    assert all(f"deal {i:02d}" in text for i in range(50))
    assert receiver.texts()[20].startswith("### 30 events in your team")
    assert RobotPost.objects.filter(robot=robot).exclude(status=PostStatus.SENT).count() == 0


def test_a_burst_in_one_transaction_is_merged_at_once(team, receiver, robot_of, django_capture_on_commit_callbacks):
    robot_of("dingtalk", team.east, secret="SECx")
    batch = [events.build("test_deal_won", notify=[team.rep1], summary=f"customer {i}") for i in range(60)]
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        events.record_many(batch)
    (post,) = RobotPost.objects.all()
    assert (post.status, post.item_count) == (PostStatus.SENT, 60)
    assert receiver.received[0]["body"]["markdown"]["title"] == "60 events in your team"


def test_a_long_digest_is_split_to_the_platforms_size_limit(
    team, receiver, robot_of, tell, django_capture_on_commit_callbacks
):
    robot = robot_of("wecom", team.east)
    long = "华" * 290
    batch = [events.build("test_deal_won", notify=[team.rep1], summary=f"No{i:03d}x{long}") for i in range(40)]
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        events.record_many(batch)
    posts = list(RobotPost.objects.filter(robot=robot).order_by("id"))
    assert len(posts) > 1
    assert all(len(p.text.encode()) <= 4096 for p in posts)
    assert {p.status for p in posts} == {PostStatus.SENT} and receiver.refused == []
    assert sum(p.item_count for p in posts) == 40
    assert posts[0].title == f"40 events in your team (1/{len(posts)})"
    text = "".join(receiver.texts())
    assert all(f"No{i:03d}x" in text for i in range(40))
    for post in posts:  # each part's items are the ones its text carries
        assert post.items.count() == post.item_count
        assert all(item.summary[:6] in post.text for item in post.items.all())


def test_one_item_longer_than_the_limit_is_shortened(team, robot_of):
    robot = robot_of("wecom", team.east)
    item = RobotItem(robot=robot, kind="test_deal_won", summary="长" * 300, link="/x/", actor_name="张" * 150)
    (message,) = robots.compose(robot, [item])
    assert len(message.text.encode()) <= 4096


def test_a_failed_post_is_retried_with_backoff_until_delivered(team, receiver, robot_of, tell):
    robot_of("feishu", team.east, secret="SECs")
    receiver.fail_next = 2
    now = timezone.now()
    tell([team.rep1], now=now)
    post = RobotPost.objects.get()
    assert (post.status, post.attempts, post.last_response_code) == (PostStatus.PENDING, 1, 502)
    assert robots.robots_flush_due(now=now + timedelta(seconds=59)) == 0  # not due yet
    assert robots.robots_flush_due(now=now + timedelta(minutes=1)) == 1
    post.refresh_from_db()
    assert (post.status, post.attempts, post.next_attempt_at) == (PostStatus.PENDING, 2, now + timedelta(minutes=3))
    robots.robots_flush_due(now=now + timedelta(minutes=3))
    post.refresh_from_db()
    assert (post.status, post.attempts, post.last_error) == (PostStatus.SENT, 3, "")
    assert len(receiver.received) == 1


def test_the_platforms_too_fast_answer_waits_a_minute_and_does_not_count_as_failing(team, receiver, robot_of, tell):
    robot_of("wecom", team.east)
    receiver.limited_next = 1
    now = timezone.now()
    tell([team.rep1], now=now)
    post = RobotPost.objects.get()
    assert (post.status, post.last_error, post.next_attempt_at) == (
        PostStatus.PENDING,
        "45009 api freq out of limit",
        now + timedelta(minutes=1),
    )


def test_a_post_given_up_stays_in_the_log_and_is_sent_again_on_request(team, receiver, robot_of, tell):
    robot_of("dingtalk", team.east)
    receiver.fail_next = robots.MAX_ATTEMPTS
    now = timezone.now()
    tell([team.rep1], now=now)
    for minute in range(1, 300):
        robots.robots_flush_due(now=now + timedelta(minutes=minute))
    post = RobotPost.objects.get()
    assert (post.status, post.attempts, post.next_attempt_at) == (PostStatus.FAILED, robots.MAX_ATTEMPTS, None)
    assert post.may_retry
    services.robot_post_retry(post=post, actor=team.admin)
    post.refresh_from_db()
    assert (post.status, post.attempts) == (PostStatus.SENT, robots.MAX_ATTEMPTS + 1)


def test_an_unreachable_robot_is_recorded_with_the_error(team, robot_of, tell):
    robot = robot_of("wecom", team.east)
    robot.webhook_url = "http://127.0.0.1:9/wecom?key=x"  # the discard port: nobody listens
    robot.save()
    tell([team.rep1], now=timezone.now())
    post = RobotPost.objects.get()
    assert post.status == PostStatus.PENDING and post.last_response_code is None and post.last_error


def test_the_test_message_is_posted_at_once_and_logged(team, receiver, robot_of):
    robot = robot_of("feishu", team.east, secret="SECt", keyword="Kehu")
    post = services.robot_send_test(robot=robot, actor=team.admin)
    assert (post.status, post.is_test) == (PostStatus.SENT, True)
    assert receiver.received[0]["body"]["card"]["header"]["title"]["content"] == "Test message from Kehu"


def test_markup_in_a_summary_cannot_make_links_or_headings(team, robot_of):
    robot = robot_of("dingtalk", team.east)
    item = RobotItem(robot=robot, kind="test_deal_won", summary="[click](http://evil.example) *x* <b>\n# h", link="/x/")
    (message,) = robots.compose(robot, [item])
    assert "[click](" not in message.text and "<b>" not in message.text and "\n# h" not in message.text
