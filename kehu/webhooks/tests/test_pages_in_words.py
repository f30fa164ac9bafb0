"""Webhook settings speak the reader's language: events are check boxes with their names, a
subscription is 启用 or 停用 (not a customer's 合作中), the log names events rather than codes."""

import re

import pytest
from django.urls import reverse

from kehu.webhooks import services
from kehu.webhooks.models import WebhookDelivery, WebhookSubscription

pytestmark = pytest.mark.django_db

EVENTS = {
    "lead.created": "线索已创建",
    "lead.converted": "线索已转化",
    "opportunity.won": "商机赢单",
    "opportunity.lost": "商机输单",
}


@pytest.fixture
def admin_zh(client, team):
    team.admin.language = "zh-hans"
    team.admin.save()
    client.force_login(team.admin)
    return team.admin


def test_the_form_has_a_labelled_check_box_per_event(client, admin_zh):
    page = client.get(reverse("webhooks:subscription-list")).content.decode()
    form = page.split('<form method="post" novalidate>', 1)[1].split("</form>")[0]
    for code, label in EVENTS.items():
        box = re.search(
            rf'<input class="form-check-input" type="checkbox" name="events" value="{re.escape(code)}"', form
        )
        assert box, code
        assert f'<span class="form-check-label">{label}</span>' in form
    assert '<legend class="form-label required">事件</legend>' in form
    assert "启用" in form and "合作中" not in page


def test_checked_boxes_make_the_subscription_and_a_missing_choice_keeps_them(client, admin_zh):
    url = reverse("webhooks:subscription-list")
    refused = client.post(url, {"url": "https://example.org/hook", "events": [], "is_active": "on"})
    assert refused.status_code == 200 and "form-check-input is-invalid" in refused.content.decode()
    assert not WebhookSubscription.objects.exists()
    response = client.post(
        url, {"url": "https://example.org/hook", "events": ["opportunity.won", "lead.created"], "is_active": "on"}
    )
    assert response.status_code == 302
    sub = WebhookSubscription.objects.get()
    assert sub.events == ["lead.created", "opportunity.won"] and sub.is_active
    edit = client.get(reverse("webhooks:subscription-edit", args=[sub.pk])).content.decode()
    assert re.search(r'value="opportunity\.won" id="[^"]+" checked>', edit)
    assert not re.search(r'value="lead\.converted" id="[^"]+" checked>', edit)


def test_the_list_and_the_log_say_on_off_and_name_the_events(client, team, admin_zh):
    on = services.webhook_subscription_create(
        actor=team.admin, url="https://example.org/a", events=["lead.created", "opportunity.lost"]
    )
    services.webhook_subscription_create(
        actor=team.admin, url="https://example.org/b", events=["lead.converted"], is_active=False
    )
    WebhookDelivery.objects.create(subscription=on, event="opportunity.lost", payload={})
    page = client.get(reverse("webhooks:subscription-list")).content.decode()
    rows = page.split('id="subscriptions"')[1].split("</table>")[0]
    assert "<th>状态</th>" in rows
    assert "线索已创建" in rows and "商机输单" in rows and "线索已转化" in rows
    assert ">启用</span>" in rows and ">停用</span>" in rows
    for code in (*EVENTS, "合作中", ">是<", ">否<"):
        assert code not in rows, code
    log = client.get(reverse("webhooks:delivery-list")).content.decode().split('id="deliveries"')[1]
    assert "<td>商机输单</td>" in log and "opportunity.lost" not in log
