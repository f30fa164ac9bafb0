"""Who may use which classification page: anonymous / unrelated rep / owner / managers / others.
A denied write changes nothing; an allowed one takes effect."""

from types import SimpleNamespace

import pytest
from django.utils import timezone

from kehu.classification import services
from kehu.classification.models import (
    ClassificationSettings,
    CreditRecord,
    CustomerRevenue,
    DealerEvaluation,
    KeyAccountEvaluation,
    TierSuggestion,
)
from kehu.customers.models import Customer
from kehu.customers.tests.permissions import LOGIN, act_as, assert_status, build_world, db_state, matrix, writes

YEAR = timezone.localdate().year


@pytest.fixture
def world(team):
    w = build_world(team)
    Customer.objects.filter(pk=w.customer.pk).update(tier="key")
    services.revenue_record(customer=w.customer, actor=team.rep1, year=YEAR, revenue=1000, potential=0)
    services.suggestions_refresh(year=YEAR)  # one ranked customer: key share rounds to none → demote
    w.customer.refresh_from_db()
    return SimpleNamespace(**vars(w), suggestion=TierSuggestion.objects.get())


def state() -> dict:
    def rows(model):
        return list(model.objects.order_by("pk").values())

    return {
        **db_state(),
        "suggestions": rows(TierSuggestion),
        "revenues": rows(CustomerRevenue),
        "key": rows(KeyAccountEvaluation),
        "dealer": rows(DealerEvaluation),
        "credit": rows(CreditRecord),
        "settings": rows(ClassificationSettings),
    }


def form_url(kind):
    return lambda w: f"/classification/customers/{w.customer.pk}/{kind}/"


KEY = {
    "evaluated_on": "2026-11-20",
    "attractiveness": "high",
    "potential_volume": "2000000",
    "potential_margin": "18.5",
    "relationship_state": "good",
    "relationship_level": "accountable",
    "notes": "年采购额稳定增长",
}
DEALER = {
    "evaluated_on": "2026-11-20",
    "enthusiasm": "4",
    "capability": "3",
    "credit": "5",
    "social": "4",
    "credit_notes": "回款及时",
}
SETTINGS = {
    "key_share": "15",
    "ordinary_share": "30",
    "potential_weight": "0.5",
    "reject_cooldown_days": "90",
    "key_time_target": "60",
    "credit_limit_prospect": "0",
    "credit_limit_ordinary": "50000",
    "credit_limit_key": "500000",
}

VIEWS = {
    "suggestions": ("get", lambda w: "/classification/", None, None),
    "accept": (
        "post",
        lambda w: f"/classification/suggestions/{w.suggestion.pk}/accept/",
        lambda w: {"reason": "同意"},
        lambda w: Customer.objects.get(pk=w.customer.pk).tier == "prospect",
    ),
    "reject": (
        "post",
        lambda w: f"/classification/suggestions/{w.suggestion.pk}/reject/",
        lambda w: {"reason": "不同意"},
        lambda w: TierSuggestion.objects.get(pk=w.suggestion.pk).status == "rejected",
    ),
    "settings-get": ("get", lambda w: "/classification/settings/", None, None),
    "settings": (
        "post",
        lambda w: "/classification/settings/",
        lambda w: SETTINGS,
        lambda w: ClassificationSettings.load().key_share == 15,
    ),
    "run": (
        "post",
        lambda w: "/classification/run/",
        lambda w: {},
        lambda w: TierSuggestion.objects.count() == 1,
    ),
    "key-get": ("get", form_url("key-evaluation"), None, None),
    "key": ("post", form_url("key-evaluation"), lambda w: KEY, lambda w: KeyAccountEvaluation.objects.count() == 1),
    "dealer": (
        "post",
        form_url("dealer-evaluation"),
        lambda w: DEALER,
        lambda w: DealerEvaluation.objects.count() == 1,
    ),
    "revenue": (
        "post",
        form_url("revenue"),
        lambda w: {"year": YEAR, "revenue": "5000", "potential": "100"},
        lambda w: CustomerRevenue.objects.get().revenue == 5000,
    ),
    "credit-get": ("get", form_url("credit"), None, None),
    "credit": (
        "post",
        form_url("credit"),
        lambda w: {"rating": "AA", "limit": "300000", "investigated_on": "2026-11-20", "investigation": "工商信息正常"},
        lambda w: CreditRecord.objects.get().limit == 300000,
    ),
    "time": ("get", lambda w: "/classification/time/", None, None),
}
NOT_MANAGERS = {"anonymous": LOGIN, "rep1": 403, "rep3": 403, "marketing1": 403, "service1": 403}
DECIDE = {**NOT_MANAGERS, "manager2": 404, "manager1": 302, "gm": 302}
SETTINGS_WHO = {**NOT_MANAGERS, "manager1": 403, "manager2": 403, "gm": 302, "admin": 302}
EVALUATE = {"anonymous": LOGIN, "rep3": 404, "manager2": 404, "marketing1": 403, "service1": 403}
EXPECTED = {
    "suggestions": {**NOT_MANAGERS, "manager1": 200, "manager2": 200, "gm": 200},
    "accept": DECIDE,
    "reject": DECIDE,
    "settings-get": {**SETTINGS_WHO, "gm": 200, "admin": 200},
    "settings": SETTINGS_WHO,
    "run": SETTINGS_WHO,
    "key-get": {**EVALUATE, "rep1": 200, "manager1": 200, "gm": 200},
    "key": {**EVALUATE, "rep1": 302, "manager1": 302, "gm": 302},
    "dealer": {**EVALUATE, "rep1": 302, "manager1": 302, "gm": 302},
    "revenue": {**EVALUATE, "rep1": 302, "manager1": 302, "gm": 302},
    "credit-get": {**EVALUATE, "rep1": 403, "manager1": 200, "gm": 200},
    "credit": {**EVALUATE, "rep1": 403, "manager1": 302, "gm": 302},
    "time": {**NOT_MANAGERS, "manager1": 200, "manager2": 200, "gm": 200},
}


@pytest.mark.parametrize(("view", "actor", "expected"), matrix(EXPECTED))
def test_classification_view_answers_by_role(client, world, view, actor, expected):
    method, url, data, _effect = VIEWS[view]
    act_as(client, world.team, actor)
    response = getattr(client, method)(url(world), data(world) if data else None)
    assert_status(response, expected)


DENIED, ALLOWED = writes(EXPECTED, VIEWS)


@pytest.mark.parametrize(("view", "actor", "expected"), DENIED)
def test_denied_classification_write_changes_nothing(client, world, view, actor, expected):
    _method, url, data, _effect = VIEWS[view]
    act_as(client, world.team, actor)
    before = state()
    assert_status(client.post(url(world), data(world)), expected)
    assert state() == before


@pytest.mark.parametrize(("view", "actor"), ALLOWED)
def test_allowed_classification_write_takes_effect(client, world, view, actor):
    _method, url, data, effect = VIEWS[view]
    act_as(client, world.team, actor)
    response = client.post(url(world), data(world))
    assert response.status_code == 302
    assert effect(world)


@pytest.mark.parametrize(("actor", "sees"), [("manager1", True), ("gm", True), ("manager2", False)])
def test_the_suggestion_list_shows_only_customers_in_scope(client, world, actor, sees):
    act_as(client, world.team, actor)
    assert (world.customer.name in client.get("/classification/").content.decode()) is sees


def test_bulk_decides_only_suggestions_in_scope(client, world):
    act_as(client, world.team, "manager2")
    before = state()
    data = {"ids": [world.suggestion.pk], "action": "accept", "reason": "越权"}
    assert client.post("/classification/suggestions/bulk/", data).status_code == 302
    assert state() == before
    act_as(client, world.team, "manager1")
    assert client.post("/classification/suggestions/bulk/", data).status_code == 302
    assert Customer.objects.get(pk=world.customer.pk).tier == "prospect"


@pytest.mark.parametrize("actor", ["anonymous", "rep1", "marketing1"])
def test_bulk_is_refused_to_non_deciders(client, world, actor):
    act_as(client, world.team, actor)
    before = state()
    response = client.post(
        "/classification/suggestions/bulk/", {"ids": [world.suggestion.pk], "action": "accept", "reason": "x"}
    )
    assert_status(response, LOGIN if actor == "anonymous" else 403)
    assert state() == before


def test_a_decision_without_reason_changes_nothing(client, world):
    act_as(client, world.team, "manager1")
    before = state()
    response = client.post(f"/classification/suggestions/{world.suggestion.pk}/accept/", {"reason": " "})
    assert response.status_code == 302
    assert state() == before


def test_the_360_page_shows_the_latest_evaluations(client, world):
    team = world.team
    services.key_evaluation_create(
        customer=world.customer,
        actor=team.rep1,
        evaluated_on="2025-01-01",
        attractiveness="low",
        potential_volume=1,
        potential_margin=1,
        relationship_state="declining",
        relationship_level="reactive",
    )
    services.key_evaluation_create(
        customer=world.customer,
        actor=team.rep1,
        evaluated_on="2026-11-01",
        attractiveness="high",
        potential_volume=1,
        potential_margin=1,
        relationship_state="firm",
        relationship_level="partnership",
    )
    services.credit_set(customer=world.customer, actor=team.manager1, rating="AA", limit=300000)
    act_as(client, team, "rep1")
    page = client.get(f"/customers/{world.customer.pk}/").content.decode()
    page = page.split('id="classification"')[1].split('id="contacts"')[0]
    assert "Very firm" in page and "Partnership" in page and "Declining" not in page
    assert "¥300,000.00" in page
    assert "Suggested: Prospect" in page


def test_pages_speak_chinese(client, world, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    act_as(client, world.team, "gm")
    client.cookies["django_language"] = "zh-hans"
    assert "分级建议" in client.get("/classification/").content.decode()
    assert "销售时间分配" in client.get("/classification/time/").content.decode()
    page = client.get(f"/customers/{world.customer.pk}/").content.decode()
    assert "重点客户评价" in page and "建议调整为" in page


def test_htmx_decision_swaps_the_row(client, world):
    act_as(client, world.team, "manager1")
    url = f"/classification/suggestions/{world.suggestion.pk}/reject/"
    missing = client.post(url, {"reason": ""}, headers={"HX-Request": "true"})
    assert missing.status_code == 200
    body = missing.content.decode()
    assert body.startswith(f'<tr id="suggestion-{world.suggestion.pk}">') and "Give a reason" in body
    done = client.post(url, {"reason": "暂不调整"}, headers={"HX-Request": "true"}).content.decode()
    assert "Rejected" in done and "暂不调整" in done and "<form" not in done
    assert TierSuggestion.objects.get(pk=world.suggestion.pk).status == "rejected"
