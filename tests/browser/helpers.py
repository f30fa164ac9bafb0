"""Helpers shared by the browser tests."""

PASSWORD = "Kehu-Browser-2026!"


def sign_in(page, base_url, username, password=PASSWORD):
    """Sign in through the login form (works with and without JavaScript)."""
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.press("#id_password", "Enter")
    assert "/accounts/login/" not in page.url, f"sign-in as {username} failed"


def no_horizontal_overflow(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


# Demo-like data: a sales department in East China with realistic customers.
CUSTOMERS = """
    杭州华星精密机械有限公司 浙江 杭州 machinery key active trade_show industrial 0571-88123456
    苏州锦程电子科技有限公司 江苏 苏州 electronics ordinary active internet industrial 0512-65871234
    宁波东港化工股份有限公司 浙江 宁波 chemicals ordinary potential association industrial 0574-87651200
    无锡恒力汽车零部件有限公司 江苏 无锡 automotive key active referral industrial 0510-82345678
    上海申达国际物流有限公司 上海 上海 logistics prospect potential trade_press industrial 021-64387720
    常州天润纺织有限公司 江苏 常州 textiles ordinary dormant trade_show industrial 0519-86612345
    嘉兴新锐建材有限公司 浙江 嘉兴 building prospect potential internet industrial 0573-82213456
    南通海瑞制药有限公司 江苏 南通 pharma ordinary active association industrial 0513-85567890
    合肥中科智能装备有限公司 安徽 合肥 machinery prospect potential trade_show industrial 0551-65123478
    温州宏达五金贸易商行 浙江 温州 retail ordinary active referral dealer 0577-88990011
"""  # name, region, city, industry, tier, status, source, segment, phone


def map_point(page, customer_id):
    """Where the customer map draws this customer's point, in pixels within the chart (asked of
    the chart itself); None when it is not on the map."""
    return page.evaluate(
        """(id) => {
        const chart = echarts.getInstanceByDom(document.getElementById('customer-map'));
        const option = chart.getOption();
        for (let i = 0; i < option.series.length; i++) {
          const item = option.series[i].data.find(d => d.id === id);
          if (item) { return chart.convertToPixel({seriesIndex: i}, item.value); }
        }
        return null;
    }""",
        customer_id,
    )


def seed_sales_team():
    """A sales manager with two reps, ten customers, and one customer with a full 360° history.

    Returns (manager, rep, featured customer). Everyone's password is PASSWORD.
    """
    from datetime import timedelta

    from django.utils import timezone

    from kehu.activities.services import activity_log
    from kehu.customers.events import CustomerEvent
    from kehu.customers.models import Customer, TimelineEntry
    from kehu.customers.services import contact_create, customer_create, fact_create
    from kehu.users.models import User
    from kehu.users.roles import Role
    from kehu.users.services import department_create

    hq = department_create(name="总公司", parent=None, actor=None)
    sales = department_create(name="华东销售部", parent=hq, actor=None)

    def user(username, last, first, role, manager=None):
        u = User(
            username=username,
            last_name=last,
            first_name=first,
            email=f"{username}@example.com",
            role=role,
            department=sales,
            manager=manager,
        )
        u.set_password(PASSWORD)
        u.save()
        return u

    manager = user("lina", "李", "娜", Role.SALES_MANAGER)
    rep = user("zhangwei", "张", "伟", Role.SALES_REP, manager)
    rep2 = user("wangfang", "王", "芳", Role.SALES_REP, manager)

    now = timezone.localtime()
    customers = []
    for i, row in enumerate(CUSTOMERS.strip().splitlines()):
        name, region, city, industry, tier, status, source, segment, phone = row.split()
        owner = rep if i % 3 != 2 else rep2
        customers.append(
            customer_create(
                actor=owner,
                owner=owner,
                name=name,
                region=region,
                city=city,
                industry=industry,
                tier=tier,
                status=status,
                source=source,
                segment=segment,
                phone=phone,
            )
        )
    featured = customers[0]
    featured.address = "浙江省杭州市余杭区良渚街道好运街 88 号"
    featured.email = "purchase@hzhuaxing.example.cn"
    featured.notes = "数控机床老客户，2026 年计划新增两条五轴加工产线。"
    featured.save(update_fields=["address", "email", "notes"])

    wang = contact_create(
        customer=featured,
        actor=rep,
        name="王建国",
        gender="m",
        position="采购部经理",
        buying_role="decision_maker",
        mobile="13857112345",
        office_phone="0571-88123457",
        email="wangjg@hzhuaxing.example.cn",
        is_primary=True,
        hobbies="钓鱼、围棋",
    )
    contact_create(
        customer=featured,
        actor=rep,
        name="刘芳",
        gender="f",
        position="技术总监",
        buying_role="influencer",
        mobile="13967154321",
    )
    contact_create(
        customer=featured,
        actor=rep,
        name="陈志强",
        gender="m",
        position="设备科科长",
        buying_role="user",
        mobile="13706818899",
    )
    annual_report = fact_create(
        customer=featured,
        actor=rep,
        level=1,
        title="2025 年营业收入约 3.2 亿元，同比增长 18%",
        source="企业年报",
        obtained_on=(now - timedelta(days=20)).date(),
    )
    budget = fact_create(
        customer=featured,
        actor=rep,
        level=3,
        title="明年设备预算约 1200 万元，倾向国产五轴机型",
        source="王建国口述",
        obtained_on=(now - timedelta(days=3)).date(),
    )

    def log(kind, days_ago, subject, content="", minutes=None, contact=None, due_in=None, hour=10):
        when = (now - timedelta(days=days_ago)).replace(hour=hour, minute=30, second=0, microsecond=0)
        activity_log(
            customer=featured,
            actor=rep,
            kind=kind,
            subject=subject,
            content=content,
            occurred_at=when,
            duration_minutes=minutes,
            contact=contact,
            due_on=(now + timedelta(days=due_in)).date() if due_in is not None else None,
        )

    log("visit", 12, "首次上门拜访采购部", "介绍五轴加工中心 VMC-850 系列，客户对精度和交期较关注。", 90, wang, hour=9)
    log("call", 8, "电话确认技术参数", "刘总监要求提供主轴转速和定位精度的检测报告。", 20)
    log(
        "meeting",
        4,
        "技术交流会：刘总监一行来厂参观",
        "参观装配车间和检测中心，现场试切铝合金壳体件，效果满意。",
        180,
        hour=14,
    )
    log("note", 2, "客户明年扩产计划", "计划新增两条产线，预计采购 8–10 台加工中心，二季度招标。")
    log("commitment", 1, "承诺提供报价单及试切方案", "包含三年维保和操作培训。", due_in=5, contact=wang, hour=16)
    # Spread the history out as if it had been built up over a month.
    for i, customer in enumerate(customers[1:], start=1):
        Customer.objects.filter(pk=customer.pk).update(updated_at=now - timedelta(days=i, hours=3 * i))
    TimelineEntry.objects.filter(customer=featured, kind=CustomerEvent.CUSTOMER_CREATED).update(
        occurred_at=now - timedelta(days=30)
    )
    TimelineEntry.objects.filter(customer=featured, kind=CustomerEvent.CONTACT_ADDED).update(
        occurred_at=now - timedelta(days=29)
    )
    for fact in (annual_report, budget):
        TimelineEntry.objects.filter(customer=featured, kind=CustomerEvent.FACT_ADDED, subject_id=fact.pk).update(
            occurred_at=now.replace(hour=11, minute=0) - (now.date() - fact.obtained_on)
        )
    return manager, rep, featured


def watch_page(page):
    """What injected code would leave: dialogs, console errors, and requests for the address `x` (an
    `<img src=x>` whose handler ran or whose tag was rendered)."""
    seen = {"dialogs": [], "errors": [], "requests": []}
    page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
    page.on(
        "console",
        lambda m: (
            seen["errors"].append(m.text)
            if m.type == "error" and not m.location.get("url", "").endswith("/favicon.ico")
            else None
        ),
    )
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.on("request", lambda r: seen["requests"].append(r.url) if r.url.rstrip("/").endswith("/x") else None)
    return seen
