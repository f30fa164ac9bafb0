"""Escalation at an SLA breach reaches the service manager's work-chat robot: the scan's event goes
through the notification layer to the robot of the manager's team, whose webhook (a real HTTP
server on loopback standing in for WeCom / DingTalk) receives a message naming the ticket, the
customer and how late it is."""

import pytest

from kehu.notifications.models import Notification, PostStatus, RobotPost
from kehu.notifications.tests.conftest import Receiver
from kehu.support import services
from kehu.support.models import Priority
from kehu.support.tests.tickets_setup import Desk, at

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(team, customer_of):
    return Desk(team, customer_of)


@pytest.fixture
def receiver():
    r = Receiver()
    try:
        yield r
    finally:
        r.stop()


def _robot(receiver, department, platform="wecom", token="service-team"):
    from kehu.notifications.models import Robot

    return Robot.objects.create(
        name="客服群",
        platform=platform,
        department=department,
        webhook_url=receiver.url(platform, token),
        kinds=["ticket_sla_breached"],
    )


def _breach(desk, capture, owner):
    ticket = desk.open(category=desk.repairs, priority=Priority.NORMAL, owner=owner)  # Fri 16:00
    with capture(execute=True):
        counts = services.sla_scan(now=at(28, 9, 10))  # the first response was due Mon 09:00
    assert counts["breached"] == 1
    return ticket


@pytest.mark.parametrize("platform", ["wecom", "dingtalk"])
def test_a_breach_reaches_the_service_managers_robot_naming_ticket_customer_and_lateness(
    desk, receiver, platform, django_capture_on_commit_callbacks
):
    team = desk.team
    desk.csr.manager = team.service1
    desk.csr.save(update_fields=["manager"])
    _robot(receiver, team.service_dept, platform)
    ticket = _breach(desk, django_capture_on_commit_callbacks, desk.csr)
    (text,) = receiver.texts()
    assert f"{ticket.number} 主轴异响 · 宁波精工机床有限公司 · 1 h late (working time)" in text
    assert f"/service/tickets/{ticket.pk}/" in text
    assert RobotPost.objects.get().status == PostStatus.SENT
    told = sorted(Notification.objects.filter(kind="ticket_sla_breached").values_list("recipient__username", flat=True))
    assert told == ["aftersales1", "service1"]


def test_a_breach_on_a_ticket_whose_owner_has_no_manager_goes_to_the_service_managers(
    desk, receiver, django_capture_on_commit_callbacks
):
    _robot(receiver, desk.team.service_dept)
    _breach(desk, django_capture_on_commit_callbacks, None)
    told = sorted(Notification.objects.filter(kind="ticket_sla_breached").values_list("recipient__username", flat=True))
    assert told == ["service1"]
    assert len(receiver.texts()) == 1


def test_a_robot_of_another_team_hears_nothing(desk, receiver, django_capture_on_commit_callbacks):
    desk.csr.manager = desk.team.service1
    desk.csr.save(update_fields=["manager"])
    _robot(receiver, desk.team.south)
    _breach(desk, django_capture_on_commit_callbacks, desk.csr)
    assert (receiver.received, RobotPost.objects.count()) == ([], 0)
