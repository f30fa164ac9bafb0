"""Demo data of returns and quality (SRV-3, SRV-5): an after-sales specialist and a quality
specialist, returns in different states on delivered demo order lines, a month of inspections,
improvement actions (one overdue) and yesterday's daily quality-anomaly report."""

import random
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.utils import timezone

from kehu.approvals.services import open_request, request_act
from kehu.catalog.models import Product
from kehu.orders.models import BOOKED_STATES, OrderLine
from kehu.support import quality_report, quality_services, rma_services
from kehu.support.models import DefectType, QualitySettings, ReturnRequest
from kehu.users.models import User
from kehu.users.roles import Role

DEFECTS = ["划伤", "裂纹", "尺寸超差", "装配不良", "包装破损"]
RETURNS = [
    # reason, remedy, how far it goes
    ("主轴异响，客户要求维修", "repair", "closed"),
    ("运输途中外包装破损", "repackage", "received"),
    ("型号发错，要求换货", "replace", "remedied"),
    ("性能不达标，要求退款", "refund", "approved"),
    ("控制面板偶发黑屏", "repair", "pending"),
    ("客户误操作导致损坏", "repair", "rejected"),
    ("导轨生锈", "replace", "draft"),
]


def _person(username, role, last, first, manager) -> User:
    found = User.objects.filter(username=username).first()
    if found is not None:
        return found
    return User.objects.create(
        username=username,
        password=make_password("kehu-demo"),
        email=f"{username}@example.com",
        last_name=last,
        first_name=first,
        role=role,
        department=manager.department,
        manager=manager,
    )


def _approve(rma, *, decide="approve"):
    request = open_request("support.rma", rma.pk)
    while request is not None and request.state == "pending":
        task = request.tasks.filter(state="pending").select_related("approver").first()
        if task is None:
            break
        request_act(
            request=request, actor=task.approver, action=decide, comment="客户使用不当" if decide == "reject" else ""
        )
        request.refresh_from_db()
    rma.refresh_from_db()
    return rma


def seed(*, now=None) -> dict:
    made = {"returns": 0, "inspections": 0, "actions": 0, "reports": 0}
    manager = User.objects.filter(username="service1").first()
    if manager is None or ReturnRequest.objects.exists():
        return made
    aftersales = _person("aftersales1", Role.AFTER_SALES, "钱", "进", manager)
    quality = _person("quality1", Role.SERVICE_QUALITY, "郑", "洁", manager)
    settings = QualitySettings.load()
    settings.recipients = "quality1@example.com\nservice1@example.com"
    settings.save()
    today = timezone.localdate(now)
    lines = list(
        OrderLine.objects.filter(
            order__state__in=BOOKED_STATES, delivered_quantity__gte=2, order__deleted_at__isnull=True
        )
        .select_related("order")
        .order_by("-ordered_on", "pk")[: len(RETURNS)]
    )
    for (reason, remedy, goal), line in zip(RETURNS, lines, strict=False):
        rma = rma_services.rma_create(actor=aftersales, order_line=line, quantity=1, reason=reason, remedy=remedy)
        made["returns"] += 1
        if goal == "draft":
            continue
        rma = rma_services.rma_submit(rma=rma, actor=aftersales)
        if goal == "pending":
            continue
        rma = _approve(rma, decide="reject" if goal == "rejected" else "approve")
        if goal in ("rejected", "approved") or rma.state != "approved":
            continue
        rma = rma_services.rma_receive(
            rma=rma, actor=aftersales, received_quantity=1, received_on=today - timedelta(days=3), freight_cost="80"
        )
        if goal == "received":
            continue
        rma = rma_services.rma_inspect(
            rma=rma, actor=aftersales, finding="检测确认：" + reason[:20], responsibility="company"
        )
        rma = rma_services.rma_remedy(
            rma=rma,
            actor=aftersales,
            note="已处理",
            replacement_shipped_on=today - timedelta(days=1) if remedy == "replace" else None,
            labour_cost="260" if remedy == "repair" else "0",
            parts_cost="150" if remedy == "repair" else "0",
            replacement_cost=str(line.unit_price.quantize(Decimal("0.01"))) if remedy == "replace" else "0",
        )
        if goal == "closed":
            rma_services.rma_close(rma=rma, actor=aftersales)
    types = [DefectType.objects.get_or_create(name=name)[0] for name in DEFECTS]
    products = list(Product.objects.filter(status="active", deleted_at__isnull=True).order_by("pk")[:3])
    rng = random.Random(13)
    for days_ago in range(30, 0, -1):
        day = today - timedelta(days=days_ago)
        for index, product in enumerate(products):
            lot = rng.choice([50, 100, 200])
            defects = [(t, rng.choice([0, 0, 0, 1, 2])) for t in types]
            if days_ago == 1 and index == 0:
                defects[1] = (types[1], 6)  # yesterday's anomaly
            quality_services.inspection_record(
                actor=quality, inspected_on=day, product=product, inspected_quantity=lot,
                defects=defects, batch=f"{day:%y%m%d}-{index + 1}",
            )  # fmt: skip
            made["inspections"] += 1
    for text, owner, due, state in [
        ("包装箱增加防潮内衬", aftersales, today - timedelta(days=4), "open"),
        ("主轴装配工序增加跑合检验", quality, today + timedelta(days=10), "open"),
        ("更新面板固件并通知客户", manager, today - timedelta(days=12), "done"),
        ("发货前核对型号清单", aftersales, today - timedelta(days=20), "verified"),
    ]:
        action = quality_services.action_create(actor=quality, description=text, owner=owner, due_on=due, source="rma")
        if state in ("done", "verified"):
            action = quality_services.action_transition(action=action, actor=quality, to="done")
        if state == "verified":
            quality_services.action_transition(action=action, actor=quality, to="verified")
        made["actions"] += 1
    quality_report.report_generate(day=today - timedelta(days=1), mail=False)
    made["reports"] = 1
    return made
