from datetime import date
from decimal import Decimal as D  # noqa: N817

import pytest

from kehu.receivables import services
from kehu.receivables.models import Payment, PaymentPlan, PaymentState, PlanState

BASE = "/api/v1/receivables"


@pytest.fixture
def setup(team, customer_of, order_of, contract_of, clock):
    clock(date(2026, 5, 10))
    c = customer_of(team.rep1)
    contract = contract_of(c, amount="10000.00")
    order = order_of(c, total="10000.00", contract=contract)
    return c, contract, order


def test_plans_from_terms_record_allocate_reverse(api_client, team, setup):
    c, contract, order = setup
    api = api_client(team.rep1)
    response = api.post(
        f"{BASE}/plans",
        {
            "order_id": order.pk,
            "instalments": [
                {"percent": "30", "basis": "fixed", "due_on": "2026-04-01"},
                {"percent": "60", "basis": "delivery", "days_after": 30},
                {"percent": "10", "basis": "invoice", "days_after": 90},
            ],
        },
    )
    assert response.status_code == 201, response.content
    plans = response.json()
    assert [(p["amount"], p["due_on"], p["state"]) for p in plans] == [
        ("3000.00", "2026-04-01", "overdue"),
        ("6000.00", None, "not_due"),
        ("1000.00", None, "not_due"),
    ]
    listed = api.get(f"{BASE}/plans?state=overdue").json()
    assert listed["count"] == 1 and listed["items"][0]["outstanding"] == "3000.00"
    paid = api.post(
        f"{BASE}/payments",
        {"customer_id": c.pk, "amount": "3500.00", "reference": "BK-1", "auto_allocate": False},
    )
    assert paid.status_code == 201, paid.content
    payment = paid.json()
    assert (payment["allocated_amount"], payment["unallocated"], payment["allocations"]) == ("0.00", "3500.00", [])
    allocated = api.post(f"{BASE}/payments/{payment['id']}/allocate", {})
    assert allocated.status_code == 200
    assert [(a["plan_id"], a["amount"]) for a in allocated.json()["allocations"]] == [
        (plans[0]["id"], "3000.00"),
        (plans[1]["id"], "500.00"),
    ]
    reversed_ = api.post(f"{BASE}/payments/{payment['id']}/reverse", {"reason": "退票"})
    assert reversed_.status_code == 201
    assert reversed_.json()["reverses_id"] == payment["id"]
    assert api.get(f"{BASE}/payments/{payment['id']}").json()["state"] == "reversed"
    assert api.get(f"{BASE}/plans/{plans[0]['id']}").json()["received_amount"] == "0.00"
    again = api.post(f"{BASE}/payments/{payment['id']}/reverse", {"reason": "again"})
    assert again.status_code == 400


def test_errors_in_the_users_language(api_client, team, setup):
    c, contract, order = setup
    api = api_client(team.rep1)
    api.headers["Accept-Language"] = "zh-hans"
    response = api.post(
        f"{BASE}/plans",
        {
            "order_id": order.pk,
            "instalments": [{"percent": "50", "due_on": "2026-06-01"}, {"percent": "40", "due_on": "2026-07-01"}],
        },
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"__all__": ["各期比例合计为 90%，不是 100%。"]}
    assert PaymentPlan.objects.count() == 0


@pytest.mark.parametrize("who", ["anonymous", "other_rep", "owner", "manager", "finance"])
def test_permissions(api_client, team, setup, finance, who):
    c, contract, order = setup
    plan = services.plans_from_terms(actor=team.rep1, order=order, terms=[{"percent": "100", "due_on": "2026-06-01"}])[
        0
    ]
    payment = services.payment_record(actor=team.rep1, customer=c, amount="100.00")
    user = {
        "anonymous": None,
        "other_rep": team.rep3,
        "owner": team.rep1,
        "manager": team.manager1,
        "finance": finance,
    }[who]
    api = api_client(user)
    allowed = who in ("owner", "manager", "finance")
    read = api.get(f"{BASE}/plans/{plan.pk}")
    assert read.status_code == (200 if allowed else 401 if who == "anonymous" else 404)
    listed = api.get(f"{BASE}/payments")
    if who == "anonymous":
        assert listed.status_code == 401
    else:
        assert listed.json()["count"] == (1 if allowed else 0)
    record = api.post(f"{BASE}/payments", {"customer_id": c.pk, "amount": "1.00"})
    assert record.status_code == (201 if allowed else 401 if who == "anonymous" else 400)
    void = api.post(f"{BASE}/plans/{plan.pk}/void", {})
    reverse = api.post(f"{BASE}/payments/{payment.pk}/reverse", {"reason": "x"})
    if allowed:
        assert void.status_code == 400  # something was received on it
        assert reverse.status_code == 201
    else:
        assert void.status_code in (401, 404) and reverse.status_code in (401, 404)
        plan.refresh_from_db()
        payment.refresh_from_db()
        assert (plan.state, payment.state) == (PlanState.PARTLY_PAID, PaymentState.CONFIRMED)
        assert Payment.objects.count() == 1
        assert plan.received_amount == D("100.00")


def test_a_stale_version_or_a_void_plan_answers_409(api_client, team, setup):
    c, contract, order = setup
    api = api_client(team.rep1)
    terms = [{"percent": "100", "basis": "fixed", "due_on": "2026-06-01"}]
    plan = api.post(f"{BASE}/plans", {"order_id": order.pk, "instalments": terms}).json()[0]
    saved = api.patch(f"{BASE}/plans/{plan['id']}", {"version": plan["version"], "notes": "分两次付"})
    assert saved.status_code == 200, saved.content
    stale = api.patch(f"{BASE}/plans/{plan['id']}", {"version": plan["version"], "notes": "一次付清"})
    assert stale.status_code == 409
    assert stale.json() == {
        "detail": "Someone changed this plan in the meantime: reload it and try again.",
        "errors": {},
    }
    assert PaymentPlan.objects.get(pk=plan["id"]).notes == "分两次付"
    assert api.post(f"{BASE}/plans/{plan['id']}/void", {"reason": "订单取消"}).status_code == 200
    void = api.patch(f"{BASE}/plans/{plan['id']}", {"notes": "一次付清"})
    assert void.status_code == 409
    assert void.json() == {"detail": "A void plan cannot be changed.", "errors": {}}
