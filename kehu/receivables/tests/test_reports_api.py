"""The reports in the API: ageing, statements, the credit check and the settings, for anonymous, a
rep, a manager and finance; errors in the user's language, denied writes change nothing."""

import subprocess

import pytest
from django.utils import timezone

from kehu.receivables.models import ReceivablesSettings
from kehu.receivables.tests.reports_fixtures import _credit_answers, customer, days_ago, order, payment, plan, refresh  # noqa: F401

pytestmark = pytest.mark.django_db
BASE = "/api/v1/receivables"
SETTINGS = {
    "credit_stage": "invoice",
    "hold_over_limit": True,
    "hold_overdue_days": 60,
    "payments_need_approval": True,
    "remind_days_before_due": 7,
}


@pytest.fixture
def money(team):
    today = timezone.localdate()
    east = customer(team.rep1, "华东欠款客户")
    o = order(east, "5000", on=days_ago(100, today))
    plan(east, "3000", days_ago(61, today), order_=o)
    plan(east, "2000", days_ago(-20, today), order_=o)
    payment(east, "800", days_ago(2, today))
    south = customer(team.rep3, "华南欠款客户")
    o2 = order(south, "700", on=days_ago(10, today))
    plan(south, "700", days_ago(181, today), order_=o2)
    refresh([east.pk, south.pk], today)
    return east, south


def test_anonymous_gets_401(api_client, money):
    east, _ = money
    anonymous = api_client()
    for path in ("/ageing", "/ageing/customers", f"/statements/{east.pk}", "/credit-settings"):
        assert anonymous.get(BASE + path).status_code == 401
    assert anonymous.post(BASE + "/credit-check", {"customer_id": east.pk, "amount": "1"}).status_code == 401


def test_ageing_permissions_and_figures(api_client, team, finance, money):
    assert api_client(team.rep1).get(BASE + "/ageing").status_code == 403
    body = api_client(finance).get(BASE + "/ageing?level=rep").json()
    rows = {r["label"]: r for r in body["rows"]}
    assert rows[team.rep1.display_name]["buckets"]["d61_90"] == "3000.00"
    assert rows[team.rep3.display_name]["buckets"]["d181"] == "700.00"
    assert body["total"]["owed"] == "5700.00"
    manager = api_client(team.manager2).get(BASE + "/ageing/customers").json()
    assert [r["label"] for r in manager["items"]] == ["华南欠款客户"]
    assert manager["count"] == 1 and manager["has_next"] is False
    page = api_client(finance).get(BASE + "/ageing/customers?limit=1").json()
    assert [r["label"] for r in page["items"]] == ["华东欠款客户"] and page["has_next"] is True


def test_denied_in_the_users_language(api_client, team):
    team.rep1.language = "zh-hans"
    team.rep1.save()
    response = api_client(team.rep1).get(BASE + "/ageing")
    assert response.status_code == 403
    assert response.json()["detail"] != "You do not have permission to do this."


def test_statement_json_pdf_xlsx(api_client, team, money):
    east, south = money
    rep = api_client(team.rep1)
    body = rep.get(f"{BASE}/statements/{east.pk}").json()
    # the order (100 days ago) is before the default period: in the opening balance
    assert (body["opening"], body["closing"], body["owed"]) == ("5000.00", "4200.00", "5000.00")
    assert [line["kind"] for line in body["lines"]] == ["payment"]
    pdf = rep.get(f"{BASE}/statements/{east.pk}/pdf")
    assert pdf["Content-Type"] == "application/pdf"
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf.content, capture_output=True, check=True).stdout.decode()
    assert "华东欠款客户" in text and "4,200.00" in text
    assert rep.get(f"{BASE}/statements/{east.pk}/xlsx")["Content-Type"].startswith("application/vnd.openxml")
    assert rep.get(f"{BASE}/statements/{south.pk}").status_code == 404
    bad = rep.get(f"{BASE}/statements/{east.pk}?first=2026-05-02&last=2026-05-01")
    assert bad.status_code == 400 and "first" in bad.json()["errors"]


def test_credit_check(api_client, team, finance, money):
    east, south = money
    body = api_client(team.rep1).post(BASE + "/credit-check", {"customer_id": east.pk, "amount": "46000"}).json()
    # the payment is not allocated yet: the order's 5000 is all exposure
    assert body["held"] is True and body["exposure"] == "5000.00" and body["limit"] == "50000.00"
    assert body["reasons"][0] == "The exposure 5,000.00 plus 46,000.00 is over the credit limit 50,000.00."
    assert body["checked_at_stage"] is True
    # overdue beyond 30 days holds whatever the amount
    body = api_client(finance).post(BASE + "/credit-check", {"customer_id": east.pk, "amount": "0"}).json()
    assert body["held"] is True and body["overdue"] == "3000.00"
    assert (
        api_client(team.rep1).post(BASE + "/credit-check", {"customer_id": south.pk, "amount": "1"}).status_code == 404
    )
    bad = api_client(team.rep1).post(BASE + "/credit-check", {"customer_id": east.pk, "amount": "-1"})
    assert bad.status_code in (400, 422)


def test_settings_get_put(api_client, team, finance):
    for user in (team.rep1, team.manager1):
        assert api_client(user).get(BASE + "/credit-settings").status_code == 403
        assert api_client(user).put(BASE + "/credit-settings", SETTINGS).status_code == 403
    assert ReceivablesSettings.current().credit_stage == "order"
    response = api_client(finance).put(BASE + "/credit-settings", SETTINGS)
    assert response.status_code == 200 and response.json() == SETTINGS
    assert api_client(team.admin).get(BASE + "/credit-settings").json() == SETTINGS
    bad = api_client(finance).put(BASE + "/credit-settings", {**SETTINGS, "credit_stage": "never"})
    assert bad.status_code in (400, 422)
    assert ReceivablesSettings.current().credit_stage == "invoice"
