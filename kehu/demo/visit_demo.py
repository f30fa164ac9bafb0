"""Visit plans (拜访计划) in the demo, to try the check-in (签到) from a phone at once.

Each rep gets planned visits today and over this week and the next: some to customers with
coordinates, some to customers known only by their city (the distance is then measured from the
city centre). A few visits are already checked in, so the managers' list of check-ins with warnings
(far away, far from the planned day, no position) has something to show. Written through the
services, like a rep would; small and fixed whatever the number of customers.
"""

from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from kehu.activities.services import visit_check_in, visit_log_result, visit_plan
from kehu.customers.models import Customer
from kehu.users.models import User

REPS = ("rep1", "rep2", "rep3")
# (days from today, hour, purpose, subject, the customer is known only by its city)
PLANS = [
    (0, 10, "介绍新款数控机床，了解明年扩产计划", "拜访设备部", False),
    (0, 15, "送样品并确认技术参数", "送样及技术交流", True),
    (1, 9, "商谈年度框架协议价格", "价格谈判", False),
    (2, 14, "回访售后问题处理情况", "售后回访", True),
    (4, 10, "陪同技术工程师现场调试", "现场调试", False),
    (7, 10, "新产线方案汇报", "方案汇报", False),
    (8, 14, "拜访采购部新任经理", "认识新采购经理", True),
    (10, 9, "年度客户满意度回访", "满意度回访", False),
]
CITY_ONLY = 2  # customers per rep known only by their city (the map demo's gaps first)


def _at(day, hour: int):
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


def _customers(rep: User) -> tuple[list[Customer], list[Customer]]:
    """The rep's customers to visit: some with coordinates and a known city, some with only the city."""
    mine = Customer.objects.filter(owner=rep, deleted_at__isnull=True).exclude(city="").order_by("-updated_at")
    placed = list(mine.filter(latitude__isnull=False, longitude__isnull=False)[: len(PLANS) + CITY_ONLY])
    city_only = list(mine.filter(latitude__isnull=True)[:CITY_ONLY])
    if len(city_only) < CITY_ONLY:
        # Take the coordinates off some: the distance is then measured from the city centre.
        taken = placed[len(PLANS) : len(PLANS) + CITY_ONLY - len(city_only)]
        Customer.objects.filter(pk__in=[c.pk for c in taken]).update(latitude=None, longitude=None)
        for customer in taken:
            customer.latitude = customer.longitude = None
        city_only += taken
    return placed[: len(PLANS)], city_only


@transaction.atomic
def load(users: dict[str, User]) -> None:
    today = timezone.localdate()
    for login in REPS:
        rep = users.get(login)
        if rep is None:
            continue
        placed, city_only = _customers(rep)
        if not placed:
            continue
        for i, (days, hour, purpose, subject, by_city) in enumerate(PLANS):
            pool = city_only if by_city and city_only else placed
            visit_plan(
                customer=pool[i % len(pool)],
                actor=rep,
                planned_for=_at(today + timedelta(days=days), hour),
                subject=subject,
                purpose=purpose,
            )
        _checked_in_examples(rep, placed, today)


def _checked_in_examples(rep: User, placed: list[Customer], today) -> None:
    """Three logged visits whose check-ins a manager would look at, and one that is fine."""
    examples = [
        # (days from today the visit was planned, metres east of the customer, position given)
        (-4, 150, True),  # checked in four days late
        (0, 6_500, True),  # 6.5 km away from the customer
        (-1, 0, False),  # no position (the rep refused the browser's request)
        (0, 300, True),  # in order: 300 m away
    ]
    for n, (days, east_m, with_position) in enumerate(examples):
        customer = placed[(n + 3) % len(placed)]
        plan = visit_plan(
            customer=customer,
            actor=rep,
            planned_for=_at(today + timedelta(days=days), 9),
            subject="例行拜访",
            purpose="了解近期采购需求",
        )
        latitude = longitude = None
        if with_position:
            latitude = float(customer.latitude)
            # A degree of longitude is about 111 km times the cosine of the latitude (≈ 95 km in 江浙).
            longitude = float(customer.longitude) + east_m / 95_000
        visit_check_in(activity=plan, actor=rep, latitude=latitude, longitude=longitude, accuracy=20)
        visit_log_result(
            activity=plan,
            actor=rep,
            duration_minutes=45,
            content="与采购和技术负责人交流了下季度需求。",
            outcome="客户同意下月安排试样",
            next_step="寄送样品",
        )
