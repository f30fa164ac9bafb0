"""The services' own rules: who may change what, what a robot needs, the periodic jobs."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kehu.core import schedule
from kehu.core.models import AuditEntry
from kehu.notifications import services
from kehu.notifications.models import Preference, Robot

pytestmark = pytest.mark.django_db


def robot_fields(team, **extra):
    return {
        "name": "华东群",
        "platform": "dingtalk",
        "department": team.east,
        "webhook_url": "https://oapi.dingtalk.com/robot/send?access_token=abc",
        "secret": "SECabc",
        "keyword": "客户",
        "kinds": ["test_deal_won"],
        **extra,
    }


@pytest.mark.parametrize("actor", ["rep1", "manager1", "gm", "service1"])
def test_only_administrators_manage_robots(team, actor):
    with pytest.raises(PermissionDenied):
        services.robot_create(actor=getattr(team, actor), **robot_fields(team))
    assert Robot.objects.count() == 0


def test_a_robot_is_created_and_audited_with_its_secret_masked(team):
    robot = services.robot_create(actor=team.admin, **robot_fields(team, kinds=["test_task_due", "test_deal_won"]))
    assert robot.kinds == ["test_deal_won", "test_task_due"]
    services.robot_update(robot=robot, actor=team.admin, secret="SECnew", name="改名")
    entry = AuditEntry.objects.filter(target_type="notifications.robot").order_by("id").last()
    assert entry.changes == {"name": ["华东群", "改名"], "secret": ["***", "***"]}
    robot.refresh_from_db()
    assert robot.secret == "SECnew"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"name": "  "}, "name", "Give the robot a name."),
        ({"platform": "slack"}, "platform", "Choose WeCom, DingTalk or Feishu."),
        ({"webhook_url": "javascript:alert(1)"}, "webhook_url", "Only http:// and https:// addresses are accepted."),
        ({"webhook_url": ""}, "webhook_url", "Paste the robot's webhook address from the chat app."),
        ({"department": None}, "department", "Choose the team whose events the robot posts."),
        ({"kinds": []}, "kinds", "Choose one or more of the known kinds of events."),
        ({"kinds": ["test_quiet"]}, "kinds", "Choose one or more of the known kinds of events."),
        ({"platform": "wecom"}, "secret", "WeCom robots are not signed; leave the secret empty."),
        ({"keyword": "a\x00b"}, "keyword", None),
    ],
)
def test_a_robot_needs_what_its_chat_app_needs(team, change, field, message):
    with pytest.raises(ValidationError) as caught:
        services.robot_create(actor=team.admin, **robot_fields(team, **change))
    errors = caught.value.message_dict
    assert field in errors
    if message:
        assert errors[field] == [message]
    assert Robot.objects.count() == 0


def test_nobody_sets_another_persons_choices(team):
    with pytest.raises(PermissionDenied):
        services.preferences_set(user=team.rep1, actor=team.admin, choices={"test_deal_won": {"email": True}})
    assert Preference.objects.count() == 0


def test_channels_must_be_true_or_false(team):
    with pytest.raises(ValidationError):
        services.preferences_set(user=team.rep1, actor=team.rep1, choices={"test_deal_won": {"email": "yes"}})
    with pytest.raises(ValidationError):
        services.preferences_set(user=team.rep1, actor=team.rep1, choices={"test_deal_won": {"sms": True}})


def test_the_robots_and_the_digest_are_periodic_jobs():
    jobs = schedule.discover()
    assert jobs["kehu.notifications.tasks.flush_robots"].every.total_seconds() == 60
    assert jobs["kehu.notifications.tasks.send_digests"].every.total_seconds() == 900
