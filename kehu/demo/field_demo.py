"""Dispatch and on-site visits in the demo: three service engineers (engineer1–3, password as the
other demo users) with skills, certificates and regions taken from the installed base — one
certified and busy, one local without a certificate, one on leave with an expired certificate — past
visits on the demo tickets so their first-time-fix rates differ, and engineer1's visits for today
and tomorrow (planned through the dispatch service). Small and fixed; skipped when the staff, the
tickets or the units are missing, or when engineers exist already."""

from datetime import datetime, time, timedelta

from django.contrib.auth.hashers import make_password
from django.utils import timezone

from kehu.demo.generator import DEMO_PASSWORD
from kehu.support import visit_services
from kehu.support.models import InstalledUnit, ServiceVisit, Ticket, VisitState
from kehu.support.visit_services import SkillLine
from kehu.users.models import User
from kehu.users.roles import Role

ENGINEERS = [("engineer1", "周", "海峰"), ("engineer2", "吴", "建国"), ("engineer3", "郑", "磊")]
# (ticket subject in support_demo, engineer, fixed, days ago): each ticket's first visit.
HISTORY = [
    ("刀塔卡滞", "engineer1", True, 1),
    ("备件(编码器)到货后更换", "engineer1", False, 1),
    ("液压站漏油", "engineer1", False, 0),
    ("安装培训", "engineer2", True, 2),
    ("等待客户提供故障视频", "engineer3", False, 1),
]
# (ticket subject, hour today (or tomorrow when above 24)) for engineer1.
TODAY = [("控制柜报警 E-21", 10), ("冷却泵不出水", 14), ("新机安装预约", 24 + 9)]


def seed(*, now: datetime | None = None) -> dict:
    made = {"engineers": 0, "visits": 0}
    manager = User.objects.filter(username="service1").first()
    if manager is None or User.objects.filter(role=Role.SERVICE_ENGINEER).exists():
        return made
    now = now or timezone.now()
    today = timezone.localdate(now)
    units = list(InstalledUnit.objects.select_related("product__category", "customer").order_by("pk")[:30])
    if not units:
        return made
    password = make_password(DEMO_PASSWORD)
    people = {}
    for username, last, first in ENGINEERS:
        people[username] = User.objects.create(
            username=username,
            password=password,
            email=f"{username}@example.com",
            last_name=last,
            first_name=first,
            role=Role.SERVICE_ENGINEER,
            department=manager.department,
            manager=manager,
        )
        made["engineers"] += 1
    product = units[0].product
    products = list(dict.fromkeys(u.product for u in units))[:4]
    category = next((u.product.category for u in units if u.product.category_id), None)
    places = []
    for unit in units:
        place = (unit.customer.region, unit.customer.city)
        if place[0] and place not in places:
            places.append(place)
    provinces = list(dict.fromkeys(p for p, _c in places)) or ["浙江"]
    visit_services.engineer_profile_save(
        engineer=people["engineer1"],
        actor=manager,
        hourly_rate=120,
        regions=[(p, "") for p in provinces[:4]],
        skills=[
            *(
                SkillLine(
                    product_id=p.pk,
                    level=3,
                    certificate_number=f"FW-2024-{31 + i:04d}",
                    valid_until=today.replace(year=today.year + 1),
                )
                for i, p in enumerate(products)
            ),
            *([SkillLine(category_id=category.pk, level=2, certificate_number="FW-2023-0102")] if category else []),
        ],
    )
    visit_services.engineer_profile_save(
        engineer=people["engineer2"],
        actor=manager,
        hourly_rate=90,
        regions=places[:6] or [("浙江", "宁波")],
        skills=[SkillLine(product_id=p.pk, level=2) for p in products],
    )
    visit_services.engineer_profile_save(
        engineer=people["engineer3"],
        actor=manager,
        on_leave=True,
        leave_until=today + timedelta(days=5),
        hourly_rate=100,
        regions=[(provinces[-1], "")],
        skills=[
            SkillLine(
                product_id=product.pk,
                level=4,
                certificate_number="FW-2021-0007",
                valid_until=today - timedelta(days=40),
            )
        ],
    )
    tickets = {t.subject: t for t in Ticket.objects.filter(deleted_at__isnull=True).order_by("pk")}
    for subject, username, fixed, days_ago in HISTORY:
        ticket = tickets.get(subject)
        if ticket is None:
            continue
        finished = max(ticket.created_at + timedelta(hours=2), now - timedelta(days=days_ago, hours=3))
        finished = min(finished, now)
        ServiceVisit.objects.create(
            ticket=ticket,
            engineer=people[username],
            state=VisitState.DONE,
            planned_for=finished - timedelta(hours=2),
            checked_in_at=finished - timedelta(minutes=90),
            finished_at=finished,
            work_done="更换刀塔定位销，试车正常" if fixed else "现场检查，需更换备件后再来",
            fixed=fixed,
            minutes_spent=90,
            travel_km=35,
            travel_cost=70,
            labour_cost=180 if username == "engineer1" else 135,
            satisfaction=5 if fixed else 4,
            created_at=finished - timedelta(days=1),
            updated_at=finished,
        )
        made["visits"] += 1
    for subject, hour in TODAY:
        ticket = tickets.get(subject)
        if ticket is None or not ticket.is_open:
            continue
        day = today + timedelta(days=hour // 24)
        moment = timezone.make_aware(datetime.combine(day, time(hour % 24, 0)))
        visit_services.visit_plan(
            ticket=ticket, engineer=people["engineer1"], actor=manager, planned_for=moment, now=now
        )
        made["visits"] += 1
    return made
