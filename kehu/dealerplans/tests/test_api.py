"""/api/v1/dealer-plans/: CRUD, lines, support, states, progress, the month's summary, sales records;
permissions (anonymous / other rep / owner / manager); errors in the caller's language; query counts."""

from datetime import date
from decimal import Decimal

from kehu.dealerplans.models import DealerPlan, PlanState
from kehu.dealerplans.tests.conftest import MAY
from kehu.dealerplans.tests.factories import order

BASE = "/api/v1/dealer-plans"


def test_anonymous_gets_401(client, plan):
    assert client.get(f"{BASE}/").status_code == 401
    assert client.delete(f"{BASE}/{plan.pk}").status_code == 401
    assert DealerPlan.objects.get(pk=plan.pk).deleted_at is None


def test_create_lines_support_and_progress(api_client, team, dealer, catalog):
    api = api_client(team.rep1)
    response = api.post(f"{BASE}/", {"customer_id": dealer.pk, "month": "2026-05-17", "schedule": "中旬到货"})
    assert response.status_code == 201, response.content
    plan = response.json()
    assert (plan["month"], plan["state"], plan["owner_id"], plan["customer_name"]) == (
        "2026-05-01", "draft", team.rep1.pk, dealer.name,
    )  # fmt: skip
    line = api.put(
        f"{BASE}/{plan['id']}/lines",
        {"product_id": catalog.lathe.pk, "specification_id": catalog.lathe_a.pk, "quantity": "10", "amount": "100000"},
    )
    assert line.status_code == 200 and line.json()["quantity"] == "10.000"
    changed = api.put(
        f"{BASE}/{plan['id']}/lines",
        {"product_id": catalog.lathe.pk, "specification_id": catalog.lathe_a.pk, "quantity": "12", "amount": "120000"},
    )
    assert changed.json()["id"] == line.json()["id"]
    wrong = api.put(
        f"{BASE}/{plan['id']}/lines",
        {"product_id": catalog.oil.pk, "specification_id": catalog.lathe_a.pk, "quantity": "1"},
    )
    assert wrong.status_code == 400 and "specification" in wrong.json()["errors"]
    support = api.post(
        f"{BASE}/{plan['id']}/support", {"kind": "promotion", "description": "五一促销", "value": "5000"}
    )
    assert support.status_code == 201
    order(dealer, team.rep1, date(2026, 5, 31), [(catalog.lathe_a, 3, 9800)])
    progress = api.get(f"{BASE}/{plan['id']}/progress").json()
    assert progress["source"] == "orders"
    assert progress["lines"][0]["actual_quantity"] == "3.000"
    assert progress["lines"][0]["quantity_percent"] == "25.0"
    assert progress["target_amount"] == "120000.00"
    assert api.get(f"{BASE}/{plan['id']}").json()["target_amount"] == "120000.00"


def test_other_rep_gets_404_and_changes_nothing(api_client, team, plan, catalog):
    api = api_client(team.rep3)
    assert api.get(f"{BASE}/{plan.pk}").status_code == 404
    assert api.put(f"{BASE}/{plan.pk}/lines", {"product_id": catalog.oil.pk, "quantity": "1"}).status_code == 404
    assert api.delete(f"{BASE}/{plan.pk}").status_code == 404
    assert api.get(f"{BASE}/").json()["count"] == 0
    assert api.get(f"{BASE}/sales-records/{plan.customer_id}").status_code == 404
    plan.refresh_from_db()
    assert (plan.deleted_at, plan.target_amount) == (None, Decimal("120000.00"))


def test_owner_may_not_agree_manager_may(api_client, team, plan):
    owner = api_client(team.rep1)
    response = owner.post(f"{BASE}/{plan.pk}/transition", {"to": "agreed"})
    assert response.status_code == 403
    assert DealerPlan.objects.get(pk=plan.pk).state == PlanState.DRAFT
    manager = api_client(team.manager1)
    assert manager.post(f"{BASE}/{plan.pk}/transition", {"to": "agreed"}).json()["state"] == "agreed"
    again = manager.post(f"{BASE}/{plan.pk}/transition", {"to": "agreed"})
    assert again.status_code == 400
    # An agreed plan's targets stay as agreed.
    assert owner.patch(f"{BASE}/{plan.pk}", {"version": plan.version + 1, "schedule": "x"}).status_code == 400
    other_manager = api_client(team.manager2)
    assert other_manager.post(f"{BASE}/{plan.pk}/transition", {"to": "closed"}).status_code == 404
    assert manager.post(f"{BASE}/{plan.pk}/transition", {"to": "closed"}).json()["state"] == "closed"


def test_stale_version_is_409(api_client, team, plan):
    api = api_client(team.rep1)
    ok = api.patch(f"{BASE}/{plan.pk}", {"version": plan.version, "schedule": "第一周"})
    assert ok.status_code == 200
    stale = api.patch(f"{BASE}/{plan.pk}", {"version": plan.version, "schedule": "第二周"})
    assert stale.status_code == 409
    assert DealerPlan.objects.get(pk=plan.pk).schedule == "第一周"


def test_errors_in_the_callers_language(api_client, team, plan, dealer):
    api = api_client(team.rep1)
    api.headers["Accept-Language"] = "zh-hans"
    response = api.post(f"{BASE}/", {"customer_id": dealer.pk, "month": "2026-05-01"})
    assert response.status_code == 400
    assert "2026-05" in response.json()["errors"]["month"][0]
    assert "已有" in response.json()["errors"]["month"][0]


def test_copy_delete_restore(api_client, team, plan):
    api = api_client(team.rep1)
    copy = api.post(f"{BASE}/{plan.pk}/copy", {})
    assert copy.status_code == 201 and copy.json()["month"] == "2026-06-01"
    assert api.get(f"{BASE}/{copy.json()['id']}/lines").json()[0]["quantity"] == "10.000"
    assert api.delete(f"{BASE}/{copy.json()['id']}").status_code == 204
    assert api.get(f"{BASE}/{copy.json()['id']}").status_code == 404
    assert api.post(f"{BASE}/{copy.json()['id']}/restore").json()["month"] == "2026-06-01"


def test_month_summary_and_sales_record(api_client, team, plan, dealer, catalog):
    order(dealer, team.rep1, date(2026, 5, 4), [(catalog.oil_46, 10, 480)])
    manager = api_client(team.manager1)
    summary = manager.get(f"{BASE}/progress?month=2026-05-20").json()
    assert summary["total"]["target_amount"] == "120000.00"
    assert summary["total"]["actual_amount"] == "4800.00"
    assert summary["total"]["amount_percent"] == "4.0"
    assert [r["label"] for r in summary["regions"]] == ["浙江"]
    record = manager.get(f"{BASE}/sales-records/{dealer.pk}?year=2026&product_id={catalog.oil.pk}").json()
    may = record["months"][4]
    assert (may["quantity"], may["plan_quantity"], may["amount_percent"]) == ("10.000", "40.000", "24.0")


def test_list_and_progress_query_counts(api_client, team, plan, django_assert_max_num_queries):
    api = api_client(team.manager1)
    # token, scope, count, page
    with django_assert_max_num_queries(5):
        assert api.get(f"{BASE}/?month=2026-05-01").json()["count"] == 1
    # token, plan, lines, orders, sell-through out
    with django_assert_max_num_queries(6):
        assert api.get(f"{BASE}/{plan.pk}/progress").status_code == 200


def test_visit_through_the_api(api_client, team, plan):
    api = api_client(team.rep1)
    bad = api.post(f"{BASE}/{plan.pk}/visits", {"planned_for": "2026-07-01T09:00:00+08:00"})
    assert bad.status_code == 400
    made = api.post(f"{BASE}/{plan.pk}/visits", {"planned_for": "2026-05-12T09:00:00+08:00", "subject": "月中拜访"})
    assert made.status_code == 201 and made.json()["subject"] == "月中拜访"
    assert MAY.month == 5
