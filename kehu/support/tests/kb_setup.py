"""Fixtures of the knowledge base's and the self-service page's tests: articles written and published by
the service manager (an editor), a customer with a contact known by phone and e-mail."""

from kehu.customers.services import contact_create
from kehu.support import kb_services
from kehu.support.models import ArticleCategory, ArticleState


def article(editor, *, publish=True, public=True, **fields):
    fields.setdefault("is_public", public)
    made = kb_services.article_create(actor=editor, **fields)
    if publish:
        made = kb_services.article_transition(article=made, actor=editor, to=ArticleState.PUBLISHED)
    return made


class Library:
    """Four published articles (three public, one internal) and a draft."""

    def __init__(self, editor):
        self.hydraulics = ArticleCategory.objects.create(name="液压", name_en="Hydraulics")
        self.leak = article(
            editor,
            title_zh="液压站漏油怎么办",
            body_zh="先停机。\n- 检查油管接头\n- 更换密封圈",
            title_en="Hydraulic unit leaking oil",
            body_en="Stop the machine first.\n- Check the hose fittings\n- Replace the seals",
            category=self.hydraulics,
            keywords="漏油 渗油 leak",
        )
        self.spindle = article(
            editor,
            title_zh="主轴异响",
            body_zh="主轴转动时有异常声音：检查轴承润滑。",
            keywords="噪音 轴承",
        )
        self.alarm = article(
            editor,
            title_en="Servo alarm 401 after power-on",
            body_en="Check the encoder cable and restart the drive.",
            keywords="servo encoder",
        )
        self.internal = article(editor, public=False, title_zh="内部：主轴维修工时标准", body_zh="主轴大修 8 小时。")
        self.draft = article(editor, publish=False, title_zh="草稿：冷却液更换", body_zh="冷却液每半年更换。")


def known_contact(team, customer, *, mobile="13812345678", email="li.ming@example.com"):
    return contact_create(customer=customer, actor=team.rep1, name="李明", mobile=mobile, email=email)
