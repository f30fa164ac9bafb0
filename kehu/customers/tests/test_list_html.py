"""The customer list's rows written in Python (kehu.customers.list_html): every value escaped, the
warning badges, masked phones and the owner as the page showed them, in the reader's language."""

from datetime import UTC, datetime

from django.utils import translation

from kehu.customers.list_html import customer_rows
from kehu.customers.models import Customer
from kehu.users.models import User

NO_WARNINGS = {"overdue": set(), "over_limit": set(), "in_service": set(), "complaining": set()}


def customer(pk, **fields) -> Customer:
    sensitive = fields.pop("sensitive", True)
    made = Customer(pk=pk, updated_at=datetime(2026, 3, 1, 17, 30, tzinfo=UTC), **fields)
    made.sensitive = sensitive
    return made


def test_a_row_with_every_value_escaped_and_every_badge():
    owner = User(username="wang", last_name="王", first_name="<i>芳</i>")
    row = customer(
        7,
        name="明远 <script>alert(1)</script>",
        tier="key",
        region="浙江 & 江苏",
        city="<杭州>",
        industry="machinery",
        phone="0571-8812<3456",
        owner=owner,
    )
    html = customer_rows([row], overdue={7}, over_limit={7}, in_service={7}, complaining={7})
    assert html == (
        '<tr><td><a href="/customers/7/">明远 &lt;script&gt;alert(1)&lt;/script&gt;</a>'
        ' <span class="badge bg-red-lt text-nowrap">overdue</span>'
        ' <span class="badge bg-orange-lt text-nowrap">over credit limit</span>'
        ' <span class="badge bg-yellow-lt text-nowrap">open ticket</span>'
        ' <span class="badge bg-pink-lt text-nowrap">open complaint</span></td>'
        '<td><span class="badge tier-key">Key</span></td>'
        '<td class="hide-sm">浙江 &amp; 江苏 &lt;杭州&gt;</td>'
        '<td class="hide-sm">Machinery &amp; equipment</td>'
        '<td class="text-nowrap">0571-8812&lt;3456</td>'
        '<td class="hide-sm">王&lt;i&gt;芳&lt;/i&gt;</td>'
        # 17:30 UTC on 1 March is 01:30 on 2 March in Asia/Shanghai, the site's time zone.
        '<td class="hide-sm">2026-03-02</td></tr>\n    '
    )


def test_a_masked_phone_no_owner_and_only_the_rows_badges():
    first = customer(1, name="甲", tier="prospect", phone="13812345678", sensitive=False)
    second = customer(2, name="乙", tier="ordinary", phone="", owner=User(username="li"))
    html = customer_rows([first, second], **{**NO_WARNINGS, "overdue": {2}, "complaining": {3}})
    rows = html.split("</tr>")
    assert '<td class="text-nowrap"><span class="masked">138****5678</span></td>' in rows[0]
    assert '<td class="hide-sm">—</td>' in rows[0] and "badge bg-" not in rows[0]
    assert '<a href="/customers/2/">乙</a> <span class="badge bg-red-lt text-nowrap">overdue</span></td>' in rows[1]
    assert '<td class="hide-sm">li</td>' in rows[1] and "bg-pink-lt" not in html
    assert html.index("甲") < html.index("乙") and html.count("<tr>") == 2


def test_the_readers_language():
    row = customer(5, name="丙", tier="key", industry="machinery", phone="1")
    with translation.override("zh-hans"):
        html = customer_rows([row], **{**NO_WARNINGS, "over_limit": {5}})
        empty = customer_rows([], **NO_WARNINGS)
    assert ">超信用额度</span>" in html and ">重点客户</span>" in html and ">机械设备</td>" in html
    assert empty == '<tr><td colspan="7" class="text-secondary">没有符合条件的客户。</td></tr>'
    assert customer_rows([], **NO_WARNINGS) == (
        '<tr><td colspan="7" class="text-secondary">No customers match.</td></tr>'
    )
