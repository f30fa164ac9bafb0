"""Leads and opportunities in the demo: a few open deals per rep at every stage, some won and lost,
and leads from the web form, trade shows and referrals, so the board, the forecast and the lead
list are not empty. Written through the services (a few dozen rows), so timelines and scores are real."""

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from kehu.customers.models import Customer, Industry
from kehu.leads.models import DisqualifyReason, LeadSource, SizeBand
from kehu.leads.services import lead_create, lead_disqualify, lead_qualify, lead_respond
from kehu.sales.forecast import forecast_refresh
from kehu.sales.models import Opportunity, Stage, StageChange, StageKind, TargetLevel, TargetMetric
from kehu.sales.services import default_pipeline, opportunity_create, opportunity_move, target_set
from kehu.users.models import User

DEALS = ["数控机床", "激光切割机", "液压站改造", "自动化产线", "备件年度框架", "空压机组", "输送线", "检测设备"]
LEADS = [
    ("常州恒远精密部件有限公司", "周敏", "江苏", LeadSource.WEB_INQUIRY, "想了解五轴加工中心的报价和交期。"),
    ("嘉兴永盛纺织机械有限公司", "陈浩", "浙江", LeadSource.TRADE_SHOW, "展会上留的名片，对输送线感兴趣。"),
    ("合肥新启能源设备有限公司", "刘洋", "安徽", LeadSource.REFERRAL, "老客户介绍，计划明年扩产。"),
    ("东莞瑞丰塑胶制品有限公司", "黄丽", "广东", LeadSource.WEB_INQUIRY, "注塑车间需要空压机组节能改造方案。"),
    ("宁波海锐五金工具有限公司", "王强", "浙江", LeadSource.TRADE_SHOW, "询问激光切割机试切服务。"),
    ("苏州博达电子科技有限公司", "赵婷", "江苏", LeadSource.MANUAL, "电话来访，想看检测设备样机。"),
    ("佛山宏业陶瓷机械有限公司", "李军", "广东", LeadSource.WEB_INQUIRY, "液压站漏油，问能否上门维修并改造。"),
    ("上海申联物流装备有限公司", "孙磊", "上海", LeadSource.REFERRAL, "需要自动化分拣线的整体方案。"),
    ("温州鼎盛阀门有限公司", "吴芳", "浙江", LeadSource.TRADE_SHOW, "了解备件年度框架协议。"),
    ("厦门华通包装有限公司", "郑伟", "福建", LeadSource.WEB_INQUIRY, "只是随便看看。"),
]


@transaction.atomic
def load(users: dict[str, User], seed: int = 7) -> None:
    rng = random.Random(seed)
    pipeline = default_pipeline()
    stages = list(Stage.objects.filter(pipeline=pipeline).order_by("order"))
    open_stages = [s for s in stages if s.kind == StageKind.OPEN]
    won = next(s for s in stages if s.kind == StageKind.WON)
    lost = next(s for s in stages if s.kind == StageKind.LOST)
    today = timezone.localdate()
    for username in ("rep1", "rep2", "rep3"):
        rep = users[username]
        for customer in Customer.objects.filter(owner=rep, deleted_at__isnull=True).order_by("-updated_at")[:12]:
            deal = opportunity_create(
                customer=customer,
                actor=rep,
                name=f"{rng.choice(DEALS)} {rng.randint(1, 20)} 台",
                amount=Decimal(rng.randrange(50, 2000) * 1000),
                expected_close_on=today + timedelta(days=rng.randint(-10, 75)),
            )
            end = rng.random()
            if end < 0.35:
                opportunity_move(opportunity=deal, stage=won, actor=rep, reason="方案和交期都满足客户要求")
                _closed_earlier(deal, today - timedelta(days=rng.randint(0, 300)))
            elif end < 0.45:
                opportunity_move(opportunity=deal, stage=lost, actor=rep, reason="价格高于竞争对手")
            else:
                target = rng.choice(open_stages)
                if target != deal.stage:
                    opportunity_move(opportunity=deal, stage=target, actor=rep)
    industries = [value for value, _label in Industry.choices if value]
    sizes = [value for value, _label in SizeBand.choices if value]
    # Who hands each lead out: the rep's manager, or marketing for a lead nobody has yet.
    owners = [("rep1", "manager1"), ("rep2", "manager1"), ("rep3", "manager2"), (None, "marketing1")]
    for index, (company, contact, region, source, message) in enumerate(LEADS):
        owner_name, actor_name = owners[index % len(owners)]
        owner = users[owner_name] if owner_name else None
        lead = lead_create(
            actor=users[actor_name],
            owner=owner,
            company_name=company,
            contact_name=contact,
            phone=f"1{rng.randint(3, 9)}{rng.randint(100000000, 999999999)}",
            region=region,
            industry=rng.choice(industries),
            size_band=rng.choice(sizes),
            source=source,
            message=message,
        )
        if owner is None:
            continue
        if index % 3 == 1:
            lead_respond(lead=lead, actor=owner, note="已电话联系，约下周拜访")
        elif index % 3 == 2:
            lead_respond(lead=lead, actor=owner, note="已联系")
            lead_qualify(lead=lead, actor=owner)
        if message == "只是随便看看。":
            lead_disqualify(lead=lead, actor=owner, reason=DisqualifyReason.NO_NEED)
    _targets(users, today.year)
    forecast_refresh()


def _closed_earlier(deal: Opportunity, day: date) -> None:
    """A deal won months ago, so the forecast has a year of history to show."""
    at = timezone.make_aware(datetime.combine(day, time(15, 0)))
    Opportunity.objects.filter(pk=deal.pk).update(closed_at=at, stage_entered_at=at)
    StageChange.objects.filter(opportunity=deal, to_stage=deal.stage).update(at=at)


def _targets(users: dict[str, User], year: int) -> None:
    """Monthly sales and collection targets (业绩目标) for the company, the sales departments and each rep."""
    gm = users["gm"]
    for month in range(1, 13):
        first = date(year, month, 1)
        for metric, scale in ((TargetMetric.SALES, 1), (TargetMetric.COLLECTIONS, Decimal("0.8"))):
            target_set(actor=gm, level=TargetLevel.COMPANY, month=first, amount=3_000_000 * scale, metric=metric)
            for manager in ("manager1", "manager2"):
                department = users[manager].department
                amount = (1_800_000 if manager == "manager1" else 1_200_000) * scale
                target_set(
                    actor=gm,
                    level=TargetLevel.DEPARTMENT,
                    month=first,
                    amount=amount,
                    metric=metric,
                    department=department,
                )
        for rep in ("rep1", "rep2", "rep3"):
            target_set(actor=gm, level=TargetLevel.REP, month=first, amount=900_000, user=users[rep])
