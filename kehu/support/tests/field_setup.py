"""Fixtures of the dispatch and visit tests: a lathe in a machine-tool category with a cost, a
customer in 浙江 宁波 with a contact and a unit of it, a repair ticket, and five engineers with a
fixed history (the clock: Fri 25 Sep 2026 10:00 in Shanghai)."""

from datetime import date, timedelta
from decimal import Decimal

from kehu.catalog.models import Category, Product
from kehu.support import services, visit_services
from kehu.support.models import InstalledUnit, ServiceVisit, TicketState, VisitState
from kehu.support.tests.tickets_setup import Desk, at
from kehu.support.visit_services import SkillLine
from kehu.users.models import User
from kehu.users.roles import Role

NOW = at(25, 9, 10)


def category(name, parent=None):
    made = Category.objects.create(name=name, parent=parent)
    made.path = (parent.path if parent else "") + f"{made.pk:04d}/"
    made.save(update_fields=["path"])
    return made


class Field(Desk):
    """Desk's people and customers, plus the machine tools, a unit and a ticket about it."""

    spec_id = 0  # the lathe's first specification (CK6140-A), set when made

    def __init__(self, team, customer_of):
        super().__init__(team, customer_of)
        from kehu.quotes.tests.factories import Book

        self.book = Book()
        self.machines = category("机床")
        self.lathes = category("数控机床", self.machines)
        self.lathe = self.book.lathe
        Product.objects.filter(pk=self.lathe.pk).update(category=self.lathes, cost=Decimal("1234.5678"))
        self.lathe.refresh_from_db()
        Field.spec_id = self.book.lathe_a.pk
        self.customer = customer_of(team.rep1, name="宁波海天精工股份有限公司", region="浙江", city="宁波")
        self.unit = InstalledUnit.objects.create(
            customer=self.customer, product=self.lathe, specification=self.book.lathe_a, serial_number="SN-001"
        )
        self.ticket = self.open(self.customer, subject="主轴异响", unit=self.unit, now=at(24, 9, 9))

    def make_engineer(self, username, **profile):
        user = User.objects.filter(username=username).first() or self._user(
            username, Role.SERVICE_ENGINEER, self.team.service_dept
        )
        if profile:
            visit_services.engineer_profile_save(engineer=user, actor=self.team.service1, **profile)
        return user

    def history_visit(self, engineer, *, fixed, days_ago, ticket=None, subject="历史维修"):
        """A finished visit `days_ago` days before NOW (a closed ticket of its own unless given)."""
        if ticket is None:
            ticket = self.open(self.customer, subject=subject, now=NOW - timedelta(days=days_ago + 1))
            services.ticket_transition(
                ticket=ticket, actor=self.team.service1, to=TicketState.CANCELLED, now=NOW - timedelta(days=days_ago)
            )
        return ServiceVisit.objects.create(
            ticket=ticket,
            engineer=engineer,
            state=VisitState.DONE,
            fixed=fixed,
            work_done="维修",
            finished_at=NOW - timedelta(days=days_ago),
        )

    def five(self):
        """Five engineers with a fixed history (see test_dispatch_ranking)."""
        lathe, lathes, machines = self.lathe.pk, self.lathes.pk, self.machines.pk
        busy = self.make_engineer(
            "zhang",
            regions=[("浙江", "")],
            skills=[SkillLine(product_id=lathe, level=3, certificate_number="CNC-0031", valid_until=date(2027, 5, 31))],
        )
        local = self.make_engineer("li", regions=[("浙江", "宁波")], skills=[SkillLine(category_id=lathes, level=2)])
        expired = self.make_engineer(
            "wang",
            regions=[("浙江", "宁波"), ("江苏", "")],
            skills=[SkillLine(product_id=lathe, level=4, certificate_number="CNC-0007", valid_until=date(2025, 3, 31))],
        )
        far = self.make_engineer(
            "zhao",
            regions=[("广东", "")],
            skills=[SkillLine(category_id=machines, level=5, certificate_number="MT-5")],
        )
        away = self.make_engineer(
            "chen",
            on_leave=True,
            leave_until=date(2026, 10, 8),
            regions=[("浙江", "宁波")],
            skills=[SkillLine(product_id=lathe, level=5, certificate_number="CNC-0001", valid_until=date(2028, 1, 1))],
        )
        # zhang: three open tickets, a visit planned for this afternoon; fixed 2 of 3 first visits
        # (and one fix 200 days ago, outside the window).
        for subject in ("甲", "乙", "丙"):
            ticket = self.open(self.customer, subject=subject, now=at(24, 9, 10))
            services.ticket_assign(ticket=ticket, actor=self.team.service1, engineer=busy, now=at(24, 9, 11))
        ServiceVisit.objects.create(ticket=ticket, engineer=busy, planned_for=at(25, 9, 14))
        ServiceVisit.objects.create(ticket=ticket, engineer=busy, planned_for=at(28, 9, 9))  # not today
        self.history_visit(busy, fixed=True, days_ago=10)
        self.history_visit(busy, fixed=True, days_ago=40)
        self.history_visit(busy, fixed=False, days_ago=100)
        self.history_visit(busy, fixed=True, days_ago=200)
        # wang came first and did not fix it; zhang fixed it on the second visit (wang's first visit counts).
        shared = self.history_visit(expired, fixed=False, days_ago=30)
        self.history_visit(busy, fixed=True, days_ago=29, ticket=shared.ticket)
        self.history_visit(local, fixed=True, days_ago=5)
        return {"zhang": busy, "li": local, "wang": expired, "zhao": far, "chen": away}


def whole_site_records(users: dict, ticket_id: int) -> dict:
    """For the whole-site and API fuzzing tests: a finished visit to the ticket by an engineer (the
    demo's engineer1, or one made here), a photo row, and a live confirmation link's token."""
    from django.utils import timezone

    from kehu.support.models import Ticket, VisitPhoto

    engineer = users.get("engineer1") or User.objects.filter(username="engineer1").first()
    if engineer is None:
        engineer = User(username="engineer1", email="engineer1@example.com", role=Role.SERVICE_ENGINEER)
        engineer.set_password("kehu-test-pw")
        engineer.save()
    ticket = Ticket.objects.get(pk=ticket_id)
    visit = ServiceVisit.objects.create(
        ticket=ticket,
        engineer=engineer,
        state=VisitState.DONE,
        work_done="更换编码器",
        fixed=True,
        finished_at=timezone.now(),
        checked_in_at=timezone.now(),
    )
    photo = VisitPhoto.objects.create(visit=visit, image="service/visits/missing.jpg")
    token, _url = visit_services.confirmation_link_create(
        visit=visit, actor=users["service1"], base_url="http://testserver/"
    )
    return {"service_visit": visit.pk, "engineer": engineer.pk, "visit_photo": photo.pk, "visit_confirm_token": token}
