"""Fixtures of the ticket pages' and API's tests: a repair category with its policy, service people
(a dispatcher, two engineers, after-sales staff who may not dispatch), rep1's and rep3's customers, and a clock."""

from datetime import datetime
from zoneinfo import ZoneInfo

from kehu.support import services
from kehu.support.models import Priority, SlaPolicy, TicketCategory
from kehu.users.models import User
from kehu.users.roles import Role

SH = ZoneInfo("Asia/Shanghai")


def at(day: int, month: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SH)


class Desk:
    def __init__(self, team, customer_of):
        self.team = team
        self.repairs = TicketCategory.objects.create(name="维修")
        self.advice = TicketCategory.objects.create(name="咨询")
        for priority in Priority.values:
            SlaPolicy.objects.create(
                category=None, priority=priority, first_response_minutes=60, resolution_minutes=960
            )
        SlaPolicy.objects.create(
            category=self.repairs, priority=Priority.NORMAL, first_response_minutes=120, resolution_minutes=480
        )
        self.engineer = self._user("engineer1", Role.SERVICE_ENGINEER, team.service_dept)
        self.engineer2 = self._user("engineer2", Role.SERVICE_ENGINEER, team.service_dept)
        self.csr = self._user("aftersales1", Role.AFTER_SALES, team.service_dept)
        self.mine = customer_of(team.rep1, name="宁波精工机床有限公司")
        self.theirs = customer_of(team.rep3, name="广州南方塑料制品厂")

    @staticmethod
    def _user(username, role, department):
        user = User(username=username, email=f"{username}@example.com", role=role, department=department)
        user.set_password("kehu-test-pw")
        user.save()
        return user

    def open(self, customer=None, *, actor=None, now=None, **fields):
        fields.setdefault("subject", "主轴异响")
        return services.ticket_open(
            actor=actor or self.team.service1, customer=customer or self.mine, now=now or at(25, 9, 16), **fields
        )
