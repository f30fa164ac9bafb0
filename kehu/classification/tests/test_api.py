"""The classification API: same permissions as the pages, 404 outside scope, 4xx bodies, no 500."""

import pytest
from django.utils import timezone

from kehu.classification import services
from kehu.classification.events import ClassificationEvent
from kehu.classification.models import CreditRecord, DealerEvaluation, KeyAccountEvaluation, TierSuggestion
from kehu.customers.models import Customer, TimelineEntry

YEAR = timezone.localdate().year
BASE = "/api/v1/classification"


@pytest.fixture
def world(team, customer_of):
    customer = customer_of(team.rep1, name="宁波东海塑料制品有限公司", tier="key")
    services.revenue_record(customer=customer, actor=team.rep1, year=YEAR, revenue=800, potential=0)
    services.suggestions_refresh(year=YEAR)
    return customer, TierSuggestion.objects.get()


KEY = {
    "attractiveness": "medium",
    "potential_volume": "1500000.00",
    "potential_margin": "22.5",
    "relationship_state": "developing",
    "relationship_level": "proactive",
}
DEALER = {"enthusiasm": 5, "capability": 4, "credit": 3, "social": 2, "social_notes": "与当地商会关系一般"}


def test_anonymous_gets_401(client, world):
    for path in ("/suggestions", "/evaluations/key-account", "/credit", "/time-report", "/revenue"):
        assert client.get(BASE + path).status_code == 401


@pytest.mark.parametrize(("who", "status", "count"), [("rep1", 403, None), ("manager1", 200, 1), ("manager2", 200, 0)])
def test_suggestion_list_by_role(team, world, api_client, who, status, count):
    response = api_client(getattr(team, who)).get(f"{BASE}/suggestions")
    assert response.status_code == status
    if count is not None:
        body = response.json()
        assert body["count"] == count
        if count:
            item = body["items"][0]
            assert (item["current_tier"], item["proposed_tier"], item["is_promotion"]) == ("key", "prospect", False)
            assert item["customer_name"] == "宁波东海塑料制品有限公司"


@pytest.mark.parametrize(("who", "status"), [("rep1", 403), ("manager2", 404), ("rep3", 403), ("marketing1", 403)])
def test_denied_decisions_change_nothing(team, world, api_client, who, status):
    customer, suggestion = world
    for action in ("accept", "reject"):
        response = api_client(getattr(team, who)).post(
            f"{BASE}/suggestions/{suggestion.pk}/{action}", {"reason": "越权"}
        )
        assert response.status_code == status
        assert "detail" in response.json()
    assert Customer.objects.get(pk=customer.pk).tier == "key"
    assert TierSuggestion.objects.get().status == "open"


def test_accept_through_the_api(team, world, api_client):
    customer, suggestion = world
    client = api_client(team.manager1)
    assert client.post(f"{BASE}/suggestions/{suggestion.pk}/accept", {"reason": ""}).status_code == 422
    response = client.post(f"{BASE}/suggestions/{suggestion.pk}/accept", {"reason": "业务下滑"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "accepted"
    assert Customer.objects.get(pk=customer.pk).tier == "prospect"
    again = client.post(f"{BASE}/suggestions/{suggestion.pk}/accept", {"reason": "再次"})
    assert again.status_code == 400
    assert again.json()["errors"]["__all__"]


def test_reject_through_the_api(team, world, api_client):
    customer, suggestion = world
    response = api_client(team.gm).post(f"{BASE}/suggestions/{suggestion.pk}/reject", {"reason": "保留重点客户"})
    assert response.json()["status"] == "rejected"
    assert Customer.objects.get(pk=customer.pk).tier == "key"


def test_unknown_suggestion_is_404(team, world, api_client):
    assert api_client(team.gm).post(f"{BASE}/suggestions/999999/accept", {"reason": "x"}).status_code == 404


def test_key_evaluation_create_and_list(team, world, api_client):
    customer, _ = world
    client = api_client(team.rep1)
    response = client.post(f"{BASE}/evaluations/key-account", {"customer_id": customer.pk, **KEY})
    assert response.status_code == 201, response.content
    assert response.json()["potential_volume"] == "1500000.00"
    assert (
        TimelineEntry.objects.filter(customer=customer, kind=ClassificationEvent.EVALUATED).count() == 2
    )  # revenue + this
    listed = client.get(f"{BASE}/evaluations/key-account?customer_id={customer.pk}").json()
    assert listed["count"] == 1 and listed["items"][0]["relationship_level"] == "proactive"
    assert api_client(team.rep3).get(f"{BASE}/evaluations/key-account").json()["count"] == 0
    assert api_client(team.rep3).get(f"{BASE}/evaluations/key-account?customer_id={customer.pk}").status_code == 404


@pytest.mark.parametrize(
    "change",
    [
        {"potential_volume": "-1"},
        {"potential_margin": "100.01"},
        {"potential_margin": "-5"},
        {"attractiveness": "huge"},
        {"relationship_level": "friends"},
        {"potential_volume": "NaN"},
        {"potential_volume": "1e30"},
    ],
)
def test_key_evaluation_bad_values_are_refused(team, world, api_client, change):
    customer, _ = world
    response = api_client(team.rep1).post(
        f"{BASE}/evaluations/key-account", {"customer_id": customer.pk, **KEY, **change}
    )
    assert response.status_code in (400, 422), response.content
    assert "detail" in response.json()
    assert not KeyAccountEvaluation.objects.exists()


@pytest.mark.parametrize("field", ["enthusiasm", "capability", "credit", "social"])
@pytest.mark.parametrize("value", [0, 6, -1])
def test_dealer_scores_must_be_1_to_5(team, world, api_client, field, value):
    customer, _ = world
    response = api_client(team.rep1).post(
        f"{BASE}/evaluations/dealer", {"customer_id": customer.pk, **DEALER, field: value}
    )
    assert response.status_code == 422
    assert not DealerEvaluation.objects.exists()


def test_dealer_evaluation_create(team, world, api_client):
    customer, _ = world
    response = api_client(team.rep1).post(f"{BASE}/evaluations/dealer", {"customer_id": customer.pk, **DEALER})
    assert response.status_code == 201
    assert response.json()["total"] == 14


@pytest.mark.parametrize(("who", "status"), [("rep1", 403), ("rep3", 404), ("manager2", 404), ("manager1", 201)])
def test_credit_set_by_role(team, world, api_client, who, status):
    customer, _ = world
    response = api_client(getattr(team, who)).post(
        f"{BASE}/credit", {"customer_id": customer.pk, "rating": "A", "limit": "120000.50"}
    )
    assert response.status_code == status
    assert CreditRecord.objects.count() == (1 if status == 201 else 0)
    if status == 201:
        assert response.json()["limit"] == "120000.50" and response.json()["currency"] == "CNY"
        entry = TimelineEntry.objects.get(customer=customer, kind=ClassificationEvent.CREDIT_CHANGED)
        assert entry.payload == {"changes": {"rating": [None, "A"], "limit": [None, "120000.50"]}}


@pytest.mark.parametrize(
    "change", [{"limit": "-0.01"}, {"rating": "D"}, {"limit": "abc"}, {"investigated_on": "1000-01-01"}]
)
def test_bad_credit_is_refused(team, world, api_client, change):
    customer, _ = world
    response = api_client(team.manager1).post(
        f"{BASE}/credit", {"customer_id": customer.pk, "rating": "A", "limit": "1000", **change}
    )
    assert response.status_code == 422
    assert not CreditRecord.objects.exists()


def test_revenue_record_and_list(team, world, api_client):
    customer, _ = world
    client = api_client(team.rep1)
    response = client.post(
        f"{BASE}/revenue", {"customer_id": customer.pk, "year": YEAR, "revenue": "900", "potential": "10"}
    )
    assert response.status_code == 200
    assert client.get(f"{BASE}/revenue").json()["items"][0]["revenue"] == "900.00"
    assert (
        client.post(
            f"{BASE}/revenue", {"customer_id": customer.pk, "year": YEAR, "revenue": "-1", "potential": "0"}
        ).status_code
        == 422
    )


@pytest.mark.parametrize(("who", "status"), [("rep1", 403), ("marketing1", 403), ("manager1", 200), ("gm", 200)])
def test_time_report_by_role(team, world, api_client, who, status):
    assert api_client(getattr(team, who)).get(f"{BASE}/time-report").status_code == status


def test_time_report_refuses_reversed_periods(team, world, api_client):
    response = api_client(team.gm).get(f"{BASE}/time-report?start=2026-02-01&end=2026-01-01")
    assert response.status_code == 400
    assert api_client(team.gm).get(f"{BASE}/time-report?start=not-a-date").status_code == 422
