"""The audit log in the reader's words: record types and fields by their names, choice values as
labels, ids as names, times in the company's time zone, exports described in a sentence."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kehu.core.models import AuditAction, AuditEntry
from kehu.customers.selectors import CustomerFilters
from kehu.customers.services import customer_update
from kehu.integrations.exports import export_customers_now
from kehu.leads.services import lead_assign, lead_create, lead_transition
from kehu.sales.tests.factories import make_opportunity
from kehu.webhooks.services import webhook_subscription_create, webhook_subscription_update

pytestmark = pytest.mark.django_db

# What must never reach a reader of the log.
CODES = (
    "customers.customer",
    "sales.opportunity",
    "leads.lead",
    "webhooks.webhooksubscription",
    "activities.activity",
    '"format"',
    "{'",
    "True",
    "False",
    "+00:00",
    "lead.created",
    "opportunity.won",
    "prospect",
    "contacted",
    "<code>",
)


def table(client, user, language="zh-hans", **query) -> str:
    user.language = language
    user.save()
    client.force_login(user)
    page = client.get(reverse("users:audit-log"), query).content.decode()
    return page.split('id="audit-table"')[1].split("</table>")[0]


@pytest.fixture
def trail(team, customer_of, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    customer = customer_of(team.rep1, name="无锡恒通机械有限公司", region="江苏")
    customer_update(customer=customer, actor=team.manager1, expected_version=customer.version, tier="key")
    make_opportunity(customer, team.rep1, name="数控机床 2 台", amount="1234567.5", at="赢单", reason="交期")
    lead = lead_create(actor=team.manager1, company_name="宁波恒达机电有限公司", phone="13900000001")
    lead_assign(lead=lead, actor=team.manager1, owner=team.rep2)  # stores the owner's id
    lead_transition(lead=lead, actor=team.rep2, to_status="contacted")
    export_customers_now(
        actor=team.manager1,
        filters=CustomerFilters(region="江苏", tier="key", owner=team.rep1.pk, q="恒通"),
        fmt="csv",
    )
    sub = webhook_subscription_create(actor=team.admin, url="https://example.org/hook", events=["lead.created"])
    webhook_subscription_update(
        subscription=sub, actor=team.admin, events=["lead.created", "opportunity.won"], is_active=False
    )
    AuditEntry.objects.create(
        actor=team.rep1,
        action=AuditAction.UPDATE,
        target_type="activities.activity",
        target_id=1,
        target_repr="拜访无锡恒通",
        changes={"checked_in_at": [None, "2026-03-01 02:30:00.123456+00:00"]},
    )
    return team


def test_every_entry_reads_in_chinese(client, trail):
    text = table(client, trail.gm)
    assert "客户等级</span>：可能成为客户 → 重点客户" in text
    assert "阶段</span>：初步接洽 → 赢单" in text
    assert "1,234,567.50" in text  # the amount, grouped
    assert "状态</span>：新建 → 已联系" in text
    assert f"负责人</span>：— → {trail.rep2}" in text  # stored as an id, shown as the person
    assert "导出客户列表（CSV，1 行，筛选：" in text
    for part in ("经营属地 = 江苏", "客户等级 = 重点客户", f"负责人 = {trail.rep1}", "搜索 = 恒通"):
        assert part in text, part
    assert "线索已创建 → 线索已创建、商机赢单" in text
    assert "启用</span>：启用 → 停用" in text
    assert "2026-03-01 10:30" in text  # 02:30 UTC in Shanghai
    for kind in ("商机", "线索", "客户", "Webhook 订阅", "活动"):
        assert f'<div class="small text-secondary">{kind}</div>' in text, kind
    for code in CODES:
        assert code not in text, code


def test_the_same_entries_read_in_english(client, trail):
    text = table(client, trail.gm, language="en")
    assert "Tier</span>: Prospect → Key" in text
    assert "Exported the customer list (CSV, 1 row, filters: " in text
    assert "Events</span>: Lead created → Lead created, Opportunity won" in text
    assert "Active</span>: On → Off" in text
    for code in CODES:
        assert code not in text, code


def test_record_types_to_filter_by_are_named(client, trail):
    trail.gm.language = "zh-hans"
    trail.gm.save()
    client.force_login(trail.gm)
    page = client.get(reverse("users:audit-log")).content.decode()
    menu = page.split('name="target_type"')[1].split("</select>")[0]
    for value, label in (("sales.opportunity", "商机"), ("leads.lead", "线索"), ("customers.customer", "客户")):
        assert f'<option value="{value}">{label}</option>' in menu
    only_leads = table(client, trail.gm, target_type="leads.lead")
    assert "宁波恒达机电有限公司" in only_leads and "数控机床 2 台" not in only_leads


def test_a_page_of_entries_reads_names_in_a_fixed_number_of_queries(client, team, customer_of):
    def fill(n):
        for i in range(n):
            lead = lead_create(actor=team.manager1, company_name=f"测试线索{i}", phone=f"1390000{i:04d}")
            lead_assign(lead=lead, actor=team.manager1, owner=team.rep1 if i % 2 else team.rep2)
        export_customers_now(actor=team.manager1, filters=CustomerFilters(owner=team.rep1.pk), fmt="xlsx")

    counts = []
    for n in (2, 20):
        fill(n)
        client.force_login(team.admin)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("users:audit-log")).status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts


def test_the_customer_page_trail_reads_in_words(client, team, customer_of):
    customer = customer_of(team.rep1, name="无锡恒通机械有限公司")
    customer_update(customer=customer, actor=team.manager1, expected_version=customer.version, tier="key")
    team.gm.language = "zh-hans"
    team.gm.save()
    client.force_login(team.gm)
    page = client.get(reverse("workspace:customer-detail", args=[customer.pk])).content.decode()
    trail = page.split('<h3 class="card-title">审计日志</h3>')[1]
    assert "可能成为客户 → 重点客户" in trail and "<code>tier</code>" not in trail and "prospect" not in trail
