"""Complaints (投诉) in the demo: a complaint specialist (complaint1), a quality and a production
department, and 25 complaints registered over the last months in every state — some steps done late,
some open steps overdue, rejected and withdrawn ones — written through the services with moments in
the past, as the complaint desk did them. Small and fixed whatever the number of customers; skipped
when the staff, customers or products are missing or complaints exist already."""

from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from kehu.catalog.models import Specification
from kehu.customers.models import Customer
from kehu.demo.generator import DEMO_PASSWORD
from kehu.support import complaint_services as services
from kehu.support.models_complaints import Complaint, ComplaintState
from kehu.users.models import Department, User
from kehu.users.roles import Role
from kehu.users.services import department_create

C = ComplaintState
# (days ago, category, severity, the customer's words, how far it got, cause, responsibility, satisfaction)
COMPLAINTS = [
    (170, "quality", "major", "新购车床主轴异响，加工表面有振纹", C.CLOSED, "manufacturing", "ours", 4),
    (160, "delivery", "minor", "交货比合同约定晚了两周，影响我方排产", C.CLOSED, "order_handling", "ours", 3),
    (150, "packaging", "major", "到货时木箱破损，防护罩变形", C.CLOSED, "transport", "transport", 4),
    (140, "quality", "critical", "液压站压力不稳，设备频繁停机", C.CLOSED, "material", "supplier", 2),
    (120, "quality", "minor", "冷却泵噪音偏大", C.CLOSED, "none_found", "not_established", 5),
    (110, "service", "minor", "售后工程师上门迟到，态度一般", C.CLOSED, "service", "ours", 3),
    (100, "documents", "minor", "发票抬头开错，需重开", C.REJECTED, "", "", None),
    (95, "quality", "major", "刀塔换刀卡滞，客户认为是设计问题", C.FOLLOW_UP, "design", "ours", None),
    (80, "quality", "major", "数控系统偶发报警 E-21", C.FOLLOW_UP, "manufacturing", "ours", None),
    (70, "delivery", "major", "发货数量少一台，装箱单与实物不符", C.FEEDBACK, "order_handling", "ours", None),
    (60, "quality", "critical", "导轨磨损过快，使用半年精度下降", C.FEEDBACK, "misuse", "misuse", None),
    (55, "packaging", "minor", "油漆剥落、外观划伤", C.FEEDBACK, "packaging", "ours", None),
    (45, "quality", "major", "电机过热保护频繁动作", C.ACTION, "material", "supplier", None),
    (40, "quality", "major", "尾座锁紧不可靠", C.ACTION, "manufacturing", "ours", None),
    (35, "other", "minor", "说明书没有中文版", C.ACTION, "other", "ours", None),
    (30, "quality", "critical", "主轴温升过高，连续加工两小时后停机", C.INVESTIGATING, "", "", None),
    (25, "delivery", "major", "到货后缺少随机附件", C.INVESTIGATING, "", "", None),
    (21, "quality", "major", "润滑泵不出油", C.INVESTIGATING, "", "", None),
    (18, "quality", "minor", "防护门限位开关失灵", C.NOTICE_ISSUED, "", "", None),
    (14, "service", "minor", "电话报修后两天无人回复", C.NOTICE_ISSUED, "", "", None),
    (10, "quality", "major", "工件尺寸超差，怀疑丝杠间隙", C.NOTICE_ISSUED, "", "", None),
    (8, "quality", "major", "对刀仪读数漂移", C.WITHDRAWN, "", "", None),
    (5, "packaging", "minor", "托盘受潮发霉", C.REGISTERED, "", "", None),
    (3, "quality", "critical", "控制柜冒烟，客户要求立即处理", C.REGISTERED, "", "", None),
    (1, "delivery", "minor", "物流信息长时间不更新", C.REGISTERED, "", "", None),
]
ORDER = [C.REGISTERED, C.NOTICE_ISSUED, C.INVESTIGATING, C.ACTION, C.FEEDBACK, C.FOLLOW_UP, C.CLOSED]
DEPARTMENTS = ("质量部", "生产部")


def _specialist() -> User | None:
    found = User.objects.filter(username="complaint1").first()
    if found is not None:
        return found
    service = User.objects.filter(username="service1").first()
    if service is None:
        return None
    return User.objects.create(
        username="complaint1",
        password=make_password(DEMO_PASSWORD),
        email="complaint1@example.com",
        last_name="郑",
        first_name="晓梅",
        role=Role.COMPLAINT_SPECIALIST,
        department=service.department,
        manager=service,
        date_joined=service.date_joined,
    )


def _departments() -> list[Department]:
    parent = Department.objects.filter(parent__isnull=True).order_by("pk").first()
    found = []
    for name in DEPARTMENTS:
        found.append(
            Department.objects.filter(name=name).first() or department_create(name=name, parent=parent, actor=None)
        )
    return found


@transaction.atomic
def seed(*, now: datetime | None = None) -> int:
    """Load the demo's complaints; returns how many were made."""
    if Complaint.objects.exists():
        return 0
    specialist = _specialist()
    customers = list(Customer.objects.filter(deleted_at__isnull=True).order_by("pk")[:8])
    specs = list(Specification.objects.select_related("product").order_by("pk")[:6])
    if specialist is None or not customers:
        return 0
    now = now or timezone.now()
    quality, production = _departments()
    made = 0
    for index, (ago, category, severity, words, reached, cause, responsibility, satisfaction) in enumerate(COMPLAINTS):
        registered = now - timedelta(days=ago, hours=index % 5)
        spec = specs[index % len(specs)] if specs else None
        complaint = services.complaint_register(
            actor=specialist,
            customer=customers[index % len(customers)],
            customer_words=words,
            category=category,
            severity=severity,
            specification=spec,
            quantity=Decimal(1 + index % 3),
            shipped_on=(registered - timedelta(days=20 + index)).date(),
            order_number=f"SO{registered.year}-{1200 + index:05d}",
            now=registered,
        )
        made += 1
        if reached in (C.REJECTED, C.WITHDRAWN):
            reason = "非本公司销售的产品" if reached == C.REJECTED else "客户自行解决，撤回投诉"
            services.complaint_transition(
                complaint=complaint, actor=specialist, to=reached, note=reason, now=registered + timedelta(days=1)
            )
            continue
        steps = ORDER.index(reached)
        # The steps done spread evenly from the registration to a few days ago (the last one begun
        # 0–3 days back, so some open steps are due, some overdue; the older cases took longer).
        last = now - timedelta(days=index % 4, hours=2)
        pace = (last - registered) / steps if steps else timedelta(0)
        moment = registered
        data = {
            "notice": {
                "department": production if category == "delivery" else quality,
                "notice_text": "请调查原因并提出纠正预防措施",
            },
            "investigation": {
                "cause": cause,
                "responsibility": responsibility,
                "findings": "经现场检查与复现确认：" + words,
            },
            "action": {
                "corrective_action": "现场更换不良件并复检合格",
                "preventive_action": "修订检验规程，增加出厂前检测项",
            },
            "feedback": {"feedback_text": "已电话告知客户调查结果及处理措施"},
            "follow_up": {"satisfaction": satisfaction, "follow_up_comment": "客户认可处理结果"},
        }
        for target in ORDER[1 : steps + 1]:
            moment = min(moment + pace, last)
            if target == C.INVESTIGATING:
                complaint = services.complaint_transition(
                    complaint=complaint, actor=specialist, to=C.INVESTIGATING, now=moment
                )
                continue
            kind = {
                C.NOTICE_ISSUED: "notice",
                C.ACTION: "investigation",
                C.FEEDBACK: "action",
                C.FOLLOW_UP: "feedback",
                C.CLOSED: "follow_up",
            }[target]
            if kind == "feedback":
                data[kind]["feedback_on"] = timezone.localtime(moment).date()
            complaint = services.complaint_step_complete(
                complaint=complaint, actor=specialist, kind=kind, data=data[kind], now=moment
            )
    # The open steps already past their day are told, as the hourly scan does.
    services.complaint_overdue_scan(now=now)
    return made
