"""After-sales service in the demo: the ticket categories (安装调试, 维修, 咨询, 投诉转办), SLA policies
in working time (a stricter one for urgent repairs), units registered from confirmed demo orders and
one entered by hand, and fifteen tickets in every kind of state — some past their SLA, some due
soon, some paused while waiting — owned by the service manager and a customer representative.
Written through the services with moments in the past, like people did over the last days; small
and fixed whatever the number of customers; skipped when the staff or customers are missing."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from kehu.customers.models import Customer
from kehu.demo import complaints_demo, field_demo, knowledge_demo, mail_demo, returns_demo
from kehu.orders.models import BOOKED_STATES, Order, OrderLine
from kehu.support import services
from kehu.support import setup_services as setup
from kehu.support.models import InstalledUnit, SlaPolicy, TicketCategory
from kehu.support.workhours import WorkCalendar
from kehu.users.models import User

CATEGORIES = ["安装调试", "维修", "咨询", "投诉转办"]
# priority: (first response, resolution) in working minutes
DEFAULTS = {"urgent": (30, 240), "high": (60, 480), "normal": (120, 960), "low": (240, 2400)}
STRICT_REPAIR = (15, 120)  # 维修 · urgent
ORDERS = 3
UNITS_PER_LINE = 2
MACHINE_UNITS = ("台", "套")

# (subject, category, priority, owner, working minutes ago, [(state, real minutes after opening)])
TICKETS = [
    ("主轴异响，无法正常加工", "维修", "urgent", "service1", 300, []),  # past both targets
    ("液压站漏油", "维修", "high", "service2", 600, [("in_progress", 40)]),  # resolution breached
    ("设备调试后精度不达标", "安装调试", "urgent", "service1", 200, [("in_progress", 20)]),  # due in ~40 min
    ("控制柜报警 E-21", "维修", "normal", "service2", 920, [("assigned", 60)]),  # due soon
    ("新机安装预约", "安装调试", "normal", "service1", 90, [("assigned", 30)]),
    ("询问保养周期", "咨询", "low", "service2", 30, []),
    ("操作面板中文显示问题", "咨询", "normal", "service2", 150, [("in_progress", 15)]),
    ("等待客户提供故障视频", "维修", "high", "service1", 300, [("waiting_customer", 50)]),  # paused
    ("备件(编码器)到货后更换", "维修", "high", "service2", 420, [("in_progress", 30), ("waiting_parts", 90)]),
    ("客户投诉交货延误转办", "投诉转办", "high", "service1", 240, [("waiting_customer", 45)]),
    ("刀塔卡滞", "维修", "urgent", "service1", 1500, [("in_progress", 20), ("resolved", 200)]),
    ("安装培训", "安装调试", "normal", "service2", 2000, [("in_progress", 60), ("resolved", 600), ("closed", 900)]),
    ("咨询发票抬头修改", "咨询", "low", "service2", 800, [("cancelled", 120)]),
    ("冷却泵不出水", "维修", "normal", "service1", 60, []),
    ("导轨润滑不足报警", "维修", "low", "service2", 480, [("in_progress", 120)]),
]


def _working_minutes_ago(calendar: WorkCalendar, now: datetime, minutes: int) -> datetime:
    """The moment from which `minutes` of working time have passed by `now` (stepping back 5 minutes)."""
    moment = now
    for _step in range(60 * 24 * 30 // 5):  # at most a month back
        if calendar.seconds_between(moment, now) >= minutes * 60:
            return moment
        moment -= timedelta(minutes=5)
    return moment


def _customer_rep() -> User | None:
    return User.objects.filter(username="service2").first()


@transaction.atomic
def seed(*, now: datetime | None = None) -> dict:
    """Load the demo's service data; returns what was made."""
    made = {"categories": 0, "policies": 0, "units": 0, "tickets": 0}
    manager = User.objects.filter(username="service1").first()
    if manager is None:
        return made
    owners = {"service1": manager, "service2": _customer_rep() or manager}
    categories = {}
    for name in CATEGORIES:
        categories[name] = TicketCategory.objects.filter(name=name).first() or setup.category_create(
            actor=manager, name=name
        )
        made["categories"] += 1
    if not SlaPolicy.objects.exists():
        for priority, (first, resolution) in DEFAULTS.items():
            setup.policy_save(
                actor=manager,
                category=None,
                priority=priority,
                first_response_minutes=first,
                resolution_minutes=resolution,
            )
        setup.policy_save(
            actor=manager,
            category=categories["维修"],
            priority="urgent",
            first_response_minutes=STRICT_REPAIR[0],
            resolution_minutes=STRICT_REPAIR[1],
        )
        made["policies"] = len(DEFAULTS) + 1
    made["knowledge"] = knowledge_demo.seed(manager)  # the knowledge base, answers, deflections, requests
    made["units"] = _units(manager)
    customers = list(
        Customer.objects.filter(deleted_at__isnull=True, installed_units__isnull=False).distinct().order_by("pk")[:6]
    ) or list(Customer.objects.filter(deleted_at__isnull=True).order_by("pk")[:6])
    if not customers:
        return made
    now = now or timezone.now()
    calendar = WorkCalendar.load()
    units_of: dict[int, list[InstalledUnit]] = {}
    for unit in InstalledUnit.objects.filter(customer__in=customers).order_by("pk"):
        units_of.setdefault(unit.customer_id, []).append(unit)
    for index, (subject, category, priority, owner, ago, moves) in enumerate(TICKETS):
        customer = customers[index % len(customers)]
        opened = _working_minutes_ago(calendar, now, ago)
        units = units_of.get(customer.pk) or [None]
        ticket = services.ticket_open(
            actor=owners[owner],
            owner=owners[owner],
            customer=customer,
            subject=subject,
            priority=priority,
            category=categories[category],
            unit=units[index % len(units)] if category in ("维修", "安装调试") else None,
            now=opened,
        )
        for state, after in moves:
            services.ticket_transition(
                ticket=ticket, actor=owners[owner], to=state, now=min(opened + timedelta(minutes=after), now)
            )
        made["tickets"] += 1
    made["mails"] = mail_demo.seed(customers=customers, owner=owners["service2"])
    # The clocks as of now: the breached ones are escalated and the close ones warned, as the scan does.
    services.sla_scan(now=now)
    made.update(field_demo.seed(now=now))  # engineers, their past visits and today's
    made["complaints"] = complaints_demo.seed(now=now)  # complaints (投诉) in every state, by complaint1
    made.update(returns_demo.seed(now=now))  # returns, inspections, improvement actions, a daily report
    return made


def _units(actor: User) -> int:
    """Units from the newest confirmed or completed demo orders (two per line at most), and one unit
    entered by hand for a customer who bought before Kehu."""
    if InstalledUnit.objects.exists():
        return 0
    made = 0
    orders = list(
        Order.objects.filter(state__in=BOOKED_STATES, deleted_at__isnull=True).order_by("-ordered_on", "-pk")[:ORDERS]
    )
    for order in orders:
        lines = []
        order_lines = list(OrderLine.objects.filter(order=order).select_related("specification").order_by("position"))
        # Machines (台 / 套) make an installed base; hoses, oil and services do not, unless nothing else was bought.
        order_lines = [line for line in order_lines if line.unit in MACHINE_UNITS] or order_lines
        for line in order_lines:
            count = min(setup.units_open_on_line(line, 0), UNITS_PER_LINE)
            serials = [f"{line.specification.code}-{order.number[-4:]}{n:02d}" for n in range(1, count + 1)]
            if serials:
                lines.append(setup.LineUnits(line, serials))
        if lines:
            made += len(
                setup.units_from_order(
                    actor=actor,
                    order=order,
                    lines=lines,
                    installed_on=min(order.ordered_on + timedelta(days=7), timezone.localdate()),
                )
            )
    line = OrderLine.objects.filter(order__in=orders).select_related("product", "specification").first()
    customer = Customer.objects.filter(deleted_at__isnull=True).exclude(pk__in=[o.customer_id for o in orders]).first()
    if line is not None and customer is not None:
        today = timezone.localdate()
        setup.unit_create(
            actor=actor,
            customer=customer,
            product=line.product,
            specification=line.specification,
            serial_number="OLD-2023-0815",
            installed_on=setup.add_months(today, -36),
            warranty_starts_on=setup.add_months(today, -36),
            warranty_ends_on=setup.add_months(today, -12),
        )
        made += 1
    return made
