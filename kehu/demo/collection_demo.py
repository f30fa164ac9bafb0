"""Demo data of the information-collection workflow (CUS-3) and the map (CUS-8): the routing
table, a few public holidays, information forms in every state (some overdue), and a handful of
customers whose address still lacks coordinates. Small and fixed whatever the customer count."""

from datetime import date, timedelta

from django.utils import timezone

from kehu.collection.models import CalendarDay, InfoForm, InfoFormStatus
from kehu.collection.services import infoform_create, infoform_transition, region_route_set
from kehu.customers.models import Customer
from kehu.users.models import User

S = InfoFormStatus
ROUTES = [
    ("江苏", "rep1"),
    ("上海", "rep1"),
    ("安徽", "rep1"),
    ("浙江", "rep2"),
    ("山东", "rep2"),
    ("广东", "rep3"),
    ("福建", "rep3"),
]
# name, region, city, source, collector, target status, days ago collected, overdue?
NEW_FORMS = [
    ("苏州启明智能装备有限公司", "江苏", "苏州", "trade_show", "rep1", S.DRAFT, 1, False),
    ("昆山恒通精密模具有限公司", "江苏", "苏州", "trade_show", "rep1", S.DRAFT, 6, True),
    ("杭州云帆数控科技有限公司", "浙江", "杭州", "internet", "rep2", S.FILED, 1, False),
    ("宁波海瑞液压件有限公司", "浙江", "宁波", "association", "rep2", S.FILED, 5, True),
    ("佛山德润五金制品有限公司", "广东", "佛山", "store_list", "rep3", S.FILED, 2, False),
    ("东莞鸿运塑胶电子有限公司", "广东", "东莞", "referral", "rep3", S.RETURNED, 3, False),
    ("合肥天工机电设备有限公司", "安徽", "合肥", "trade_press", "rep1", S.RETURNED, 7, True),
]
NO_COORDINATES = 12


def _holidays(year: int) -> list[tuple[date, str]]:
    return [
        (date(year, 1, 1), "元旦"),
        (date(year, 5, 1), "劳动节"),
        (date(year, 10, 1), "国庆节"),
        (date(year, 10, 2), "国庆节"),
        (date(year, 10, 3), "国庆节"),
    ]


def load(users: dict[str, User]) -> None:
    today = timezone.localdate()
    for year in (today.year, today.year + 1):
        for day, name in _holidays(year):
            CalendarDay.objects.get_or_create(day=day, defaults={"is_working_day": False, "name": name})
    admin = users["admin"]
    for region, login in ROUTES:
        region_route_set(actor=admin, region=region, rep=users[login])
    managers = {"rep1": users["manager1"], "rep2": users["manager1"], "rep3": users["manager2"]}
    archivist = users["marketing1"]

    def make(name, region, city, source, login, days_ago, customer=None):
        return infoform_create(
            actor=users[login],
            name=name,
            region=region,
            city=city,
            source=source,
            collected_on=today - timedelta(days=days_ago),
            customer=customer,
            contact_name="王经理",
            content="展会上交换名片，对五轴加工中心感兴趣，计划明年上半年采购。",
        )

    for name, region, city, source, login, status, days_ago, overdue in NEW_FORMS:
        form = make(name, region, city, source, login, days_ago)
        if status != S.DRAFT:
            form = infoform_transition(form=form, actor=users[login], to=S.FILED)
        if status == S.RETURNED:
            form = infoform_transition(
                form=form, actor=managers[login], to=S.RETURNED, reason="请补充联系人电话和主营产品"
            )
        if overdue:
            # As if this step had started earlier: its deadline has passed.
            InfoForm.objects.filter(pk=form.pk).update(due_on=today - timedelta(days=2))
    # Forms about existing customers, approved and archived (no new customers: the demo's count stays).
    for login, status in [("rep1", S.APPROVED), ("rep2", S.APPROVED), ("rep3", S.ARCHIVED), ("rep1", S.ARCHIVED)]:
        customer = Customer.objects.filter(owner=users[login], deleted_at__isnull=True).order_by("-id").first()
        if customer is None:
            continue
        form = make(customer.name, customer.region or "江苏", customer.city, "referral", login, 1, customer)
        form = infoform_transition(form=form, actor=users[login], to=S.FILED)
        form = infoform_transition(form=form, actor=managers[login], to=S.APPROVED)
        if status == S.ARCHIVED:
            infoform_transition(form=form, actor=archivist, to=S.ARCHIVED)
        elif login == "rep2":
            InfoForm.objects.filter(pk=form.pk).update(due_on=today - timedelta(days=1))
    # A few addresses not yet placed on the map, for the list of customers without coordinates.
    ids = list(Customer.objects.order_by("id").values_list("id", flat=True)[: NO_COORDINATES * 7 : 7])
    Customer.objects.filter(pk__in=ids).update(latitude=None, longitude=None)
