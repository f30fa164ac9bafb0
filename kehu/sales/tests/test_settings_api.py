"""The set-up in the API: pipelines, stages and targets (SAL-2, SAL-11), per role."""

from datetime import date

import pytest

from kehu.sales.models import Opportunity, Pipeline, Stage, Target
from kehu.sales.services import target_set
from kehu.sales.tests.factories import make_opportunity, stage

BASE = "/api/v1/sales"


@pytest.fixture
def deal(team, customer_of):
    return make_opportunity(customer_of(team.rep1), team.rep1, name="华星 数控机床", amount="500000")


def direct():
    return Pipeline.objects.get(code="direct")


def _state():
    return (
        list(Pipeline.objects.order_by("pk").values()),
        list(Stage.objects.order_by("pk").values()),
        list(Opportunity.objects.order_by("pk").values()),
    )


def _writes(pipeline, spare, used):
    return [
        ("patch", f"{BASE}/pipelines/{pipeline.pk}", {"name": "直销2"}),
        ("patch", f"{BASE}/stages/{spare.pk}", {"name": "样品", "probability": 33}),
        ("delete", f"{BASE}/stages/{spare.pk}", None),
        (
            "post",
            f"{BASE}/pipelines/{pipeline.pk}/stages/order",
            {"stage_ids": list(reversed([s.pk for s in pipeline.stages.all()]))},
        ),
        ("post", f"{BASE}/stages/{used.pk}/move-deals", {"to_stage_id": spare.pk}),
    ]


@pytest.mark.parametrize(("who", "status"), [("anonymous", 401), ("rep1", 403), ("manager1", 403)])
def test_set_up_writes_are_refused_and_change_nothing(api_client, team, deal, who, status):
    spare = Stage.objects.create(pipeline=direct(), name="样品测试", order=9)
    api = api_client(None if who == "anonymous" else getattr(team, who))
    before = _state()
    for method, url, body in _writes(direct(), spare, deal.stage):
        response = getattr(api, method)(url, body) if body is not None else getattr(api, method)(url)
        assert response.status_code == status, (url, response.content)
        assert "detail" in response.json()
    assert _state() == before


@pytest.mark.parametrize("who", ["admin", "gm"])
def test_set_up_writes_by_those_allowed(api_client, team, deal, who):
    spare = Stage.objects.create(pipeline=direct(), name="样品测试", order=9)
    api = api_client(getattr(team, who))
    response = api.patch(f"{BASE}/pipelines/{direct().pk}", {"name": "直销2"})
    assert response.status_code == 200 and response.json()["name"] == "直销2" and response.json()["is_active"]
    response = api.patch(f"{BASE}/stages/{spare.pk}", {"name": "样品", "probability": 33, "is_active": True})
    assert response.status_code == 200 and response.json()["probability"] == 33
    order = list(reversed([s.pk for s in direct().stages.order_by("order")]))
    response = api.post(f"{BASE}/pipelines/{direct().pk}/stages/order", {"stage_ids": order})
    assert response.status_code == 200 and [s["id"] for s in response.json()["stages"]] == order
    response = api.post(f"{BASE}/stages/{deal.stage_id}/move-deals", {"to_stage_id": spare.pk})
    assert response.status_code == 200 and response.json() == {"moved": 1}
    deal.refresh_from_db()
    assert deal.stage_id == spare.pk and deal.stage_changes.count() == 2


def test_delete_stage_answers_409_with_the_counts_when_in_use(api_client, team, deal):
    api = api_client(team.admin)
    response = api.delete(f"{BASE}/stages/{deal.stage_id}")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "stage_in_use" and body["usage"] == {"live": 1, "deleted": 0, "history": 1}
    assert "Deactivate it instead" in body["detail"]
    response = api.patch(f"{BASE}/stages/{deal.stage_id}", {"kind": "won"})
    assert response.status_code == 409 and response.json()["code"] == "stage_in_use"
    spare = api.post(f"{BASE}/pipelines/{direct().pk}/stages", {"name": "样品测试"}).json()
    assert spare["order"] == 7 and spare["is_active"] is True and spare["pipeline_id"] == direct().pk
    assert api.delete(f"{BASE}/stages/{spare['id']}").status_code == 204
    assert api.delete(f"{BASE}/stages/{spare['id']}").status_code == 404


def test_set_up_errors_are_4xx_with_a_body(api_client, team, deal):
    api = api_client(team.admin)
    cases = [
        (api.patch(f"{BASE}/stages/{stage('输单').pk}", {"kind": "open"}), 400, "lost stage"),
        (api.patch(f"{BASE}/pipelines/{direct().pk}", {"is_active": False}), 400, "cannot be deactivated"),
        (api.patch(f"{BASE}/pipelines/{direct().pk}", {"name": "经销"}), 400, "exists"),
        (api.post(f"{BASE}/pipelines/{direct().pk}/stages/order", {"stage_ids": [1]}), 400, "once"),
        (api.post(f"{BASE}/stages/{deal.stage_id}/move-deals", {"to_stage_id": stage("输单").pk}), 400, "Say why"),
        (api.post(f"{BASE}/stages/{deal.stage_id}/move-deals", {"to_stage_id": 999999}), 400, "stage"),
        (api.patch(f"{BASE}/stages/999999", {"name": "x"}), 404, "Not found"),
        (api.patch(f"{BASE}/pipelines/999999", {"name": "x"}), 404, "Not found"),
        (api.patch(f"{BASE}/stages/{deal.stage_id}", {"probability": 101}), 422, ""),
        (api.post(f"{BASE}/pipelines", {"name": "项目", "code": "project", "is_default": True}), 400, "no stages"),
    ]
    for response, status, text in cases:
        assert response.status_code == status, response.content
        assert text in str(response.json())
    assert direct().name == "直销" and direct().is_active


def test_pipelines_list_shows_inactive_ones_with_the_flag(api_client, team):
    api_client(team.admin).patch(f"{BASE}/pipelines/{Pipeline.objects.get(code='dealer').pk}", {"is_active": False})
    body = api_client(team.rep1).get(f"{BASE}/pipelines").json()
    assert {p["code"]: p["is_active"] for p in body} == {"direct": True, "dealer": False}


# ---- targets (业绩目标) ----


@pytest.mark.parametrize(("who", "status"), [("anonymous", 401), ("rep1", 403), ("marketing1", 403)])
def test_targets_refused(api_client, team, who, status):
    target = target_set(actor=team.gm, level="company", month=date(2026, 5, 1), amount=100)
    api = api_client(None if who == "anonymous" else getattr(team, who))
    assert api.get(f"{BASE}/targets").status_code == status
    body = {"level": "company", "month": "2026-05-01", "amount": "5"}
    assert api.put(f"{BASE}/targets", body).status_code == status
    assert api.delete(f"{BASE}/targets/{target.pk}").status_code == status
    assert list(Target.objects.values_list("amount", flat=True)) == [100]


def test_targets_set_list_and_delete(api_client, team):
    api = api_client(team.gm)
    put = api.put
    response = put(f"{BASE}/targets", {"level": "company", "month": "2026-05-17", "amount": "1000000.00"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["month"] == "2026-05-01" and body["amount"] == "1000000.00" and body["currency"] == "CNY"
    again = put(f"{BASE}/targets", {"level": "company", "month": "2026-05-01", "amount": "1200000"}).json()
    assert again["id"] == body["id"] and again["amount"] == "1200000.00"
    rep = {"level": "rep", "metric": "collections", "month": "2026-06-01", "user_id": team.rep1.pk, "amount": "5"}
    assert put(f"{BASE}/targets", rep).status_code == 200
    dept = {"level": "department", "month": "2027-01-01", "department_id": team.east.pk, "amount": "7"}
    assert put(f"{BASE}/targets", dept).status_code == 200
    page = api.get(f"{BASE}/targets?year=2026").json()
    assert [t["level"] for t in page["items"]] == ["company", "rep"] and page["count"] == 2
    assert [t["user_id"] for t in api.get(f"{BASE}/targets?level=rep").json()["items"]] == [team.rep1.pk]
    assert api.get(f"{BASE}/targets?metric=collections&month=6").json()["count"] == 1
    page = api.get(f"{BASE}/targets?limit=1&offset=1").json()
    assert page["count"] == 3 and [t["level"] for t in page["items"]] == ["rep"]
    assert api.get(f"{BASE}/targets?month=13").status_code == 422
    assert api.delete(f"{BASE}/targets/{body['id']}").status_code == 204
    assert not Target.objects.filter(month=date(2026, 5, 1)).exists()
    assert api.delete(f"{BASE}/targets/{body['id']}").status_code == 404


def test_target_errors(api_client, team):
    put = api_client(team.manager1).put
    cases = [
        ({"level": "rep", "month": "2026-05-01", "amount": "5"}, 400),
        ({"level": "rep", "month": "2026-05-01", "amount": "5", "user_id": 999999}, 400),
        ({"level": "rep", "month": "2026-05-01", "amount": "5", "user_id": team.rep3.pk}, 403),
        ({"level": "department", "month": "2026-05-01", "amount": "5"}, 400),
        ({"level": "department", "month": "2026-05-01", "amount": "5", "department_id": 999999}, 400),
        ({"level": "company", "month": "2026-05-01", "amount": "-5"}, 422),
        ({"level": "team", "month": "2026-05-01", "amount": "5"}, 422),
    ]
    for body, status in cases:
        response = put(f"{BASE}/targets", body)
        assert response.status_code == status, (body, response.content)
        assert response.json()["detail"]
    assert not Target.objects.exists()


def _put(api, **fields):
    return api.put(f"{BASE}/targets", {"month": "2026-05-01", "amount": "5", **fields})


@pytest.mark.parametrize("who", ["gm", "admin"])
def test_the_company_wide_roles_set_and_remove_every_target(api_client, team, who):
    api = api_client(getattr(team, who))
    made = [
        _put(api, level="company"),
        _put(api, level="department", department_id=team.south.pk),
        _put(api, level="department", department_id=team.east.pk),
        _put(api, level="rep", user_id=team.rep3.pk),
    ]
    assert [r.status_code for r in made] == [200, 200, 200, 200]
    assert api.get(f"{BASE}/targets").json()["count"] == 4
    assert [api.delete(f"{BASE}/targets/{r.json()['id']}").status_code for r in made] == [204, 204, 204, 204]
    assert not Target.objects.exists()


def test_a_sales_manager_sets_targets_of_their_department_and_team_only(api_client, team):
    api = api_client(team.manager1)
    assert _put(api, level="department", department_id=team.east.pk).status_code == 200
    assert _put(api, level="rep", user_id=team.rep2.pk).status_code == 200
    refused = [
        _put(api, level="company"),
        _put(api, level="department", department_id=team.south.pk),
        _put(api, level="department", department_id=team.sales.pk),  # the level above 华东
        _put(api, level="rep", user_id=team.rep3.pk),
    ]
    assert [r.status_code for r in refused] == [403, 403, 403, 403]
    assert refused[0].json() == {"detail": "You may not do this."}
    assert Target.objects.count() == 2


def test_a_sales_manager_neither_sees_nor_removes_other_departments_targets(api_client, team):
    others = [
        target_set(actor=team.gm, level="company", month=date(2026, 5, 1), amount=1),
        target_set(actor=team.manager2, level="department", department=team.south, month=date(2026, 5, 1), amount=2),
        target_set(actor=team.manager2, level="rep", user=team.rep3, month=date(2026, 5, 1), amount=3),
    ]
    own = target_set(actor=team.manager1, level="rep", user=team.rep1, month=date(2026, 5, 1), amount=4)
    api = api_client(team.manager1)
    assert [t["id"] for t in api.get(f"{BASE}/targets").json()["items"]] == [own.pk]
    assert [api.delete(f"{BASE}/targets/{t.pk}").status_code for t in others] == [404, 404, 404]
    assert Target.objects.count() == 4
    # manager2 sees 华南's, not 华东's; the general manager sees all four.
    assert {t["id"] for t in api_client(team.manager2).get(f"{BASE}/targets").json()["items"]} == {
        others[1].pk,
        others[2].pk,
    }
    assert api_client(team.gm).get(f"{BASE}/targets").json()["count"] == 4
