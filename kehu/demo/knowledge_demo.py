"""The knowledge base in the demo: twenty articles in Chinese and English on machine-tool and hydraulic
faults and the misuse behind many service calls (most public, a few internal, one draft), in four
categories; a few visitors' answers and deflections; two self-service requests waiting to be matched.
Written through the services by the service manager; skipped when the articles are there already."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from kehu.support import kb_services
from kehu.support.models import (
    Article,
    ArticleCategory,
    ArticleFeedback,
    ArticleState,
    Deflection,
    PortalRequest,
    PortalRequestState,
)

CATEGORIES = [
    ("液压系统", "Hydraulics"),
    ("主轴与传动", "Spindle and drives"),
    ("电气与报警", "Electrics and alarms"),
    ("使用与保养", "Use and care"),
]

# (category index, public, zh title, zh text, en title, en text, keywords)
ARTICLES = [
    (
        0,
        True,
        "液压站漏油怎么办",
        "先停机泄压，再查漏点。\n- 检查油管接头是否松动\n- 查看密封圈是否老化\n- 油位低于下限时补充同牌号液压油\n仍然漏油请提交服务请求并附照片。",
        "Hydraulic unit leaking oil",
        "Stop the machine and release the pressure, then find the leak.\n- Check the hose fittings\n- Look for worn seals\n- Top up with the same oil if below the mark\nStill leaking? Send a service request with a photo.",
        "漏油 渗油 leak oil",
    ),
    (
        0,
        True,
        "液压系统压力不足",
        "1. 检查油位和滤芯\n2. 确认溢流阀设定值（出厂 6.5 MPa）\n3. 听泵有无异响，油温是否过高",
        "Hydraulic pressure too low",
        "1. Check the oil level and the filter\n2. Check the relief valve setting (6.5 MPa from the factory)\n3. Listen to the pump; check the oil temperature",
        "压力 溢流阀 pressure",
    ),
    (
        0,
        True,
        "液压油温过高报警",
        "夏季车间温度高时常见。清洁冷却器散热片，检查冷却风扇；油温超过 60℃ 请停机。",
        "Hydraulic oil temperature alarm",
        "Common in hot workshops in summer. Clean the cooler fins and check the fan; stop the machine above 60 °C.",
        "油温 冷却器 temperature",
    ),
    (
        0,
        True,
        "液压油多久更换一次",
        "正常使用每 4000 小时或一年更换一次，滤芯每半年更换。混用不同牌号的油会损坏密封。",
        "How often to change hydraulic oil",
        "Every 4000 hours or once a year; filters every six months. Mixing brands damages the seals.",
        "换油 保养 oil change",
    ),
    (
        1,
        True,
        "主轴异响",
        "主轴转动时有异常声音：\n- 检查主轴润滑是否正常\n- 降低转速观察声音变化\n- 刀柄是否清洁、拉紧\n轴承损坏需工程师上门。",
        "Spindle noise",
        "The spindle makes an unusual noise:\n- Check the spindle lubrication\n- Lower the speed and listen\n- Clean and clamp the tool holder\nA damaged bearing needs an engineer.",
        "异响 噪音 轴承 noise bearing",
    ),
    (
        1,
        True,
        "主轴发热",
        "连续高速运行后主轴温升超过 25℃ 属异常。检查冷却机、润滑油量；不要在预热前直接高速运行。",
        "Spindle running hot",
        "A rise above 25 °C after long high-speed runs is not normal. Check the chiller and the lubrication; always warm up before high speed.",
        "发热 温升 预热 hot warm-up",
    ),
    (
        1,
        True,
        "刀塔卡滞不转位",
        "多为切屑卡入或气压不足。清理刀塔周围切屑，确认气压 ≥ 0.5 MPa 后回零。",
        "Turret stuck, will not index",
        "Usually chips or low air pressure. Clear the chips around the turret, check air ≥ 0.5 MPa, then home it.",
        "刀塔 转位 turret",
    ),
    (
        1,
        True,
        "丝杠反向间隙补偿",
        "加工尺寸时大时小，可能需要重新测量反向间隙并修改补偿参数。参数修改请在工程师指导下进行。",
        "Ballscrew backlash compensation",
        "Sizes that vary may need the backlash measured again and the compensation changed, with an engineer's help.",
        "间隙 精度 backlash accuracy",
    ),
    (
        2,
        True,
        "伺服报警 401",
        "通电后出现 401：检查编码器电缆插头是否松动，断电 1 分钟后重启驱动器。",
        "Servo alarm 401 after power-on",
        "Check the encoder cable plug, switch off for one minute and restart the drive.",
        "伺服 编码器 报警 servo encoder alarm",
    ),
    (
        2,
        True,
        "急停无法复位",
        "确认所有急停按钮已旋起、防护门已关闭，再按复位键。安全回路故障请联系服务。",
        "Emergency stop will not reset",
        "Release every emergency stop button, close the guard doors, then press reset. Call service for safety circuit faults.",
        "急停 复位 emergency reset",
    ),
    (
        2,
        True,
        "控制柜报警 E-21",
        "E-21 表示柜内温度过高：清洁空调滤网，确认柜门关闭，环境温度不超过 40℃。",
        "Cabinet alarm E-21",
        "E-21 means the cabinet is too hot: clean the air-conditioner filter, close the door, keep the room below 40 °C.",
        "E-21 控制柜 cabinet",
    ),
    (
        2,
        True,
        "操作面板显示英文",
        "在“系统-语言”中选择简体中文，重启后生效。",
        "Control panel shows the wrong language",
        "Choose the language under System → Language; it applies after a restart.",
        "语言 中文 language",
    ),
    (
        3,
        True,
        "开机前的日常点检",
        "- 油位、气压、润滑\n- 导轨清洁\n- 防护门联锁\n- 空运行 5 分钟预热",
        "Daily checks before starting",
        "- Oil level, air pressure, lubrication\n- Clean guideways\n- Guard door interlock\n- Five minutes' warm-up run",
        "点检 日常 daily check",
    ),
    (
        3,
        True,
        "导轨润滑不足报警",
        "补充指定导轨油（不可用液压油代替），检查润滑泵滤网。",
        "Guideway lubrication alarm",
        "Top up with the specified way oil (never hydraulic oil) and check the pump filter.",
        "导轨 润滑 way oil",
    ),
    (
        3,
        True,
        "冷却液发臭怎么处理",
        "冷却液应每半年更换；周末停机时保持循环或撇除浮油。",
        "Coolant smells bad",
        "Change the coolant every six months; keep it circulating or skim the oil at weekends.",
        "冷却液 发臭 coolant",
    ),
    (
        3,
        True,
        "超负荷切削的后果",
        "超过机床额定切削量会损坏主轴和导轨，不属于保修范围。请按说明书的切削参数加工。",
        "What overloading the machine does",
        "Cutting beyond the rated load damages the spindle and guideways and is not covered by the warranty.",
        "超负荷 保修 misuse warranty",
    ),
    (
        3,
        True,
        "停机长假前的保养",
        "春节停机前：清洁机床、导轨涂防锈油、关闭总电源和气源，节后先空运行。",
        "Care before a long shutdown",
        "Before the Spring Festival: clean, oil the guideways against rust, switch off power and air; run idle first after the holiday.",
        "停机 春节 防锈 shutdown",
    ),
    (
        1,
        False,
        "内部：主轴大修工时标准",
        "主轴轴承更换标准工时 8 小时，需两人；带动平衡仪。",
        "Internal: spindle overhaul hours",
        "Bearing replacement: 8 hours, two people; bring the balancer.",
        "工时 大修 overhaul",
    ),
    (
        2,
        False,
        "内部：伺服驱动器更换步骤",
        "备份参数 → 更换 → 恢复参数 → 回零 → 试切。",
        "Internal: replacing a servo drive",
        "Back up parameters → replace → restore → home → test cut.",
        "驱动器 更换 drive",
    ),
    (
        0,
        True,
        "液压卡盘夹不紧",
        "检查卡盘压力设定与油缸是否内泄；爪面清洁。",
        "Hydraulic chuck does not clamp",
        "Check the chuck pressure setting and cylinder leakage; clean the jaws.",
        "卡盘 夹紧 chuck",
    ),
]
DRAFT = ("液压阀块更换（草稿）", "待补充图片。")


def seed(manager) -> dict:
    made = {"articles": 0, "answers": 0, "deflections": 0, "requests": 0}
    if manager is None or Article.objects.exists():
        return made
    with transaction.atomic():
        categories = [
            ArticleCategory.objects.get_or_create(name=zh, defaults={"name_en": en, "position": i})[0]
            for i, (zh, en) in enumerate(CATEGORIES)
        ]
        articles = []
        for cat, public, title_zh, body_zh, title_en, body_en, keywords in ARTICLES:
            article = kb_services.article_create(
                actor=manager,
                category=categories[cat],
                is_public=public,
                title_zh=title_zh,
                body_zh=body_zh,
                title_en=title_en,
                body_en=body_en,
                keywords=keywords,
            )
            articles.append(kb_services.article_transition(article=article, actor=manager, to=ArticleState.PUBLISHED))
        kb_services.article_create(actor=manager, category=categories[0], title_zh=DRAFT[0], body_zh=DRAFT[1])
        made["articles"] = len(ARTICLES) + 1
        # Visitors' answers: the leak and spindle articles help most.
        now = timezone.now()
        for i, (index, helpful) in enumerate(
            [(0, True), (0, True), (0, False), (4, True), (4, True), (8, True), (6, False)]
        ):
            ArticleFeedback.objects.create(
                article=articles[index], session_key=f"demo-{i}", helpful=helpful, at=now - timedelta(hours=i * 5)
            )
            made["answers"] += 1
        for i, index in enumerate([0, 0, 4, 8, 13]):
            Deflection.objects.create(article=articles[index], session_key=f"demo-{i}", at=now - timedelta(hours=i * 7))
            made["deflections"] += 1
        for name, email, subject in [
            ("赵工", "zhao.gong@example.net", "新买的加工中心主轴发热"),
            ("Mr. Chen", "chen@example.org", "Servo alarm 401 every morning"),
        ]:
            PortalRequest.objects.create(
                state=PortalRequestState.UNMATCHED, name=name, email=email, subject=subject, language="zh-hans"
            )
            made["requests"] += 1
    return made
