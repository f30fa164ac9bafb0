import time

import pytest
from django.urls import reverse

from kehu.leads.forms import inquiry_token
from kehu.leads.models import Lead, LeadSource


def _data(**extra):
    data = {
        "company_name": "杭州明远五金有限公司",
        "contact_name": "李女士",
        "phone": "13800001111",
        "email": "",
        "region": "浙江",
        "message": "想了解贵公司数控机床的报价和交货期。",
        "website": "",
        "token": inquiry_token(time.time() - 30),
    }
    data.update(extra)
    return data


def test_public_form_creates_a_lead(client, team):
    from kehu.leads.services import assignment_rule_set

    assignment_rule_set(actor=team.admin, region="浙江", user=team.rep1)
    page = client.get(reverse("leads:inquiry"))
    assert page.status_code == 200
    assert "X-Frame-Options" not in page.headers
    assert 'name="website"' in page.content.decode()
    response = client.post(reverse("leads:inquiry"), _data())
    assert response.status_code == 302 and response.url == reverse("leads:inquiry-thanks")
    assert client.get(response.url).status_code == 200
    lead = Lead.objects.get()
    assert lead.source == LeadSource.WEB_INQUIRY
    assert lead.message.startswith("想了解")
    assert lead.owner == team.rep1
    assert lead.sla_due_at is not None


def test_a_prospect_who_writes_again_lands_on_the_same_lead_and_raises_its_score(client, team):
    from kehu.leads.models import LeadEvent, LeadEventKind, LeadStatus

    client.post(reverse("leads:inquiry"), _data(email="Li@MingYuan.cn"))
    lead = Lead.objects.get()
    first_score = lead.score
    again = client.post(
        reverse("leads:inquiry"), _data(phone="", email="li@mingyuan.cn", message="上月询价至今未回复，请尽快联系。")
    )
    assert again.status_code == 302
    lead.refresh_from_db()
    assert Lead.objects.count() == 1
    event = LeadEvent.objects.get(lead=lead, kind=LeadEventKind.INQUIRED)
    assert event.summary == "上月询价至今未回复，请尽快联系。" and event.actor is None
    # Phone 6 + email 4 + contact 5 + web inquiry 8, then one conversation on record (+5).
    assert (first_score, lead.score) == (23, 28)
    # A closed lead is history: the next inquiry starts a new one.
    Lead.objects.filter(pk=lead.pk).update(status=LeadStatus.DISQUALIFIED)
    client.post(reverse("leads:inquiry"), _data())
    assert Lead.objects.count() == 2


def test_other_pages_still_refuse_framing(client, team):
    client.force_login(team.rep1)
    assert client.get(reverse("leads:lead-list")).headers.get("X-Frame-Options") == "DENY"


@pytest.mark.parametrize(
    "spam",
    [
        {"website": "http://spam.example"},
        {"token": "forged"},
        {"token": "now"},
        {"token": "old"},
    ],
    ids=["honeypot", "forged-token", "too-fast", "too-old"],
)
def test_spam_is_rejected(client, db, spam):
    ages = {"now": 0, "old": 3 * 60 * 60}
    if spam.get("token") in ages:
        spam = {"token": inquiry_token(time.time() - ages[spam["token"]])}
    response = client.post(reverse("leads:inquiry"), _data(**spam))
    assert response.status_code == 400
    assert not Lead.objects.exists()


def test_rate_limit_per_address(client, db):
    for i in range(5):
        assert (
            client.post(reverse("leads:inquiry"), _data(company_name=f"公司{i}", phone=f"1380000{i:04d}")).status_code
            == 302
        )
    response = client.post(reverse("leads:inquiry"), _data(company_name="第六"))
    assert response.status_code == 429
    assert Lead.objects.count() == 5
    other = client.post(reverse("leads:inquiry"), _data(company_name="别处"), REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 302


def test_needs_a_way_to_answer(client, db):
    response = client.post(reverse("leads:inquiry"), _data(phone="", email=""))
    assert response.status_code == 400
    assert not Lead.objects.exists()


def test_public_form_speaks_chinese(client, db):
    page = client.get(reverse("leads:inquiry"), headers={"accept-language": "zh-hans"})
    content = page.content.decode()
    assert "发送询盘" in content and "您的留言" in content
    response = client.post(reverse("leads:inquiry"), _data(website="x"), headers={"accept-language": "zh-hans"})
    assert "您的留言未能发送" in response.content.decode()
