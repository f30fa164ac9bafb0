"""Fixtures of the complaint tests: a complaint specialist, a quality department with its head, a
customer representative, rep1's and rep3's customers, two catalog products, and a clock in Shanghai."""

from datetime import datetime
from zoneinfo import ZoneInfo

from kehu.catalog.models import Product, Specification
from kehu.support import complaint_services as services
from kehu.users.models import User
from kehu.users.roles import Role
from kehu.users.services import department_create

SH = ZoneInfo("Asia/Shanghai")


def at(day: int, month: int, hour: int = 10, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SH)


def make_user(username, role, department, manager=None):
    user = User(username=username, email=f"{username}@example.com", role=role, department=department, manager=manager)
    user.set_password("kehu-test-pw")
    user.save()
    return user


class ComplaintDesk:
    def __init__(self, team, customer_of):
        self.team = team
        self.quality = department_create(name="质量部", parent=team.hq, actor=None)
        self.production = department_create(name="生产部", parent=team.hq, actor=None)
        self.specialist = make_user("complaint1", Role.COMPLAINT_SPECIALIST, team.service_dept, team.service1)
        self.inspector = make_user("quality1", Role.SERVICE_QUALITY, self.quality)
        self.quality.head = self.inspector
        self.quality.save(update_fields=["head"])
        self.csr = make_user("csr1", Role.CUSTOMER_REP, team.service_dept, team.service1)
        self.mine = customer_of(team.rep1, name="宁波精工机床有限公司")
        self.theirs = customer_of(team.rep3, name="广州南方塑料制品厂")
        self.lathe = Product.objects.create(code="CK6140", name="数控车床", unit="台")
        self.lathe_a = Specification.objects.create(product=self.lathe, code="CK6140-A", name="1000mm", position=0)
        self.pump = Product.objects.create(code="BP-20", name="冷却泵", unit="台")
        self.pump_1 = Specification.objects.create(product=self.pump, code="BP-20-1", name="20L", position=0)

    def register(self, customer=None, *, actor=None, now=None, **fields):
        fields.setdefault("customer_words", "主轴异响，加工精度不够")
        fields.setdefault("category", "quality")
        return services.complaint_register(
            actor=actor or self.specialist, customer=customer or self.mine, now=now or at(25, 9, 10), **fields
        )
