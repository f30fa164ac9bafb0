# ruff: noqa: F811 (the fixtures are imported by name)
"""Returns, quality and economics in the API: create, read, move, permissions (anonymous, another
rep, the customer's rep, after-sales, quality), clear 4xx answers."""

from datetime import date

import pytest

from kehu.approvals.services import open_request, request_act
from kehu.support.models import DefectType, ReturnRequest
from kehu.support.tests.returns_fixtures import (  # noqa: F401
    aftersales,
    book,
    customer,
    lathe_line,
    order,
    quality,
)


def test_a_return_through_the_api(api_client, aftersales, lathe_line, team):
    api = api_client(aftersales)
    too_many = api.post(
        "/api/v1/service/rmas", {"order_line_id": lathe_line.pk, "quantity": "9", "reason": "坏", "remedy": "refund"}
    )
    assert too_many.status_code == 400
    assert too_many.json()["errors"]["quantity"] == [
        "At most 8 台 of this line can be returned: 8 delivered, 0 already on other returns."
    ]
    made = api.post(
        "/api/v1/service/rmas", {"order_line_id": lathe_line.pk, "quantity": "2", "reason": "坏", "remedy": "refund"}
    )
    assert made.status_code == 201, made.content
    body = made.json()
    assert (body["state"], body["amount"], body["transitions"]) == ("draft", "200.00", ["pending", "cancelled"])
    rid = body["id"]
    approved_early = api.post(f"/api/v1/service/rmas/{rid}/transition", {"to": "approved"})
    assert approved_early.status_code == 422
    sent = api.post(f"/api/v1/service/rmas/{rid}/transition", {"to": "pending", "version": body["version"]})
    assert sent.json()["state"] == "pending"
    request_act(request=open_request("support.rma", rid), actor=team.service1, action="approve")
    got = api.post(
        f"/api/v1/service/rmas/{rid}/transition", {"to": "received", "received_quantity": "2", "freight_cost": "12.5"}
    )
    assert got.status_code == 200 and got.json()["stock_notes"][0]["kind"] == "in"
    api.post(
        f"/api/v1/service/rmas/{rid}/transition", {"to": "inspected", "finding": "受潮", "responsibility": "carrier"}
    )
    no_amount = api.post(f"/api/v1/service/rmas/{rid}/transition", {"to": "remedied", "note": "退款"})
    assert no_amount.status_code == 400 and "refund_amount" in no_amount.json()["errors"]
    done = api.post(f"/api/v1/service/rmas/{rid}/transition", {"to": "remedied", "refund_amount": "200"})
    assert (done.json()["state"], done.json()["total_cost"]) == ("remedied", "212.50")
    listed = api.get("/api/v1/service/rmas?state=all").json()
    assert [r["number"] for r in listed["items"]] == [body["number"]]


def test_who_may(api_client, aftersales, lathe_line, team, client):
    made = (
        api_client(aftersales)
        .post(
            "/api/v1/service/rmas",
            {"order_line_id": lathe_line.pk, "quantity": "1", "reason": "坏", "remedy": "repair"},
        )
        .json()
    )
    assert client.get(f"/api/v1/service/rmas/{made['id']}").status_code == 401
    assert api_client(team.rep3).get(f"/api/v1/service/rmas/{made['id']}").status_code == 404
    rep1 = api_client(team.rep1)
    assert rep1.get(f"/api/v1/service/rmas/{made['id']}").json()["transitions"] == []
    assert rep1.post(f"/api/v1/service/rmas/{made['id']}/transition", {"to": "pending"}).status_code == 403
    assert (
        rep1.post(
            "/api/v1/service/rmas", {"order_line_id": lathe_line.pk, "quantity": "1", "reason": "x", "remedy": "repair"}
        ).status_code
        == 403
    )
    assert ReturnRequest.objects.get().state == "draft" and ReturnRequest.objects.count() == 1
    assert rep1.get("/api/v1/service/inspections").status_code == 403
    assert rep1.get("/api/v1/service/economics").status_code == 403


def test_quality_through_the_api(api_client, quality, book, team):
    api = api_client(quality)
    scratch = DefectType.objects.create(name="划伤")
    made = api.post(
        "/api/v1/service/inspections",
        {"inspected_on": "2026-11-30", "product_id": book.lathe.pk, "batch": "B1", "inspected_quantity": 40,
         "defects": [{"defect_type_id": scratch.pk, "quantity": 2}]},
    )  # fmt: skip
    assert made.status_code == 201, made.content
    assert (made.json()["defect_rate"], made.json()["defects"][0]["defect_type"]) == ("5.00", "划伤")
    assert api.get("/api/v1/service/inspections").json()["count"] == 1
    action = api.post(
        "/api/v1/service/improvement-actions",
        {"description": "改进包装", "owner_id": team.service1.pk, "due_on": "2026-01-01", "source": "inspection",
         "source_id": made.json()["id"]},
    )  # fmt: skip
    assert action.status_code == 201 and action.json()["overdue"] is True
    done = api_client(team.service1).post(
        f"/api/v1/service/improvement-actions/{action.json()['id']}/transition", {"to": "done"}
    )
    assert done.json()["state"] == "done"
    figures = api.get("/api/v1/service/economics?period=year&day=2026-06-01").json()
    assert (figures["start"], figures["end"], figures["cost"]) == ("2026-01-01", "2027-01-01", "0.00")
    from kehu.support.quality_report import report_generate

    report = report_generate(day=date(2026, 11, 30), mail=False)
    read = api.get(f"/api/v1/service/quality-reports/{report.pk}").json()
    assert read["data"]["inspections"]["defects"] == 2


@pytest.mark.parametrize("user", ["rep1", "anonymous"])
def test_quality_writes_are_refused(api_client, team, book, user):
    api = api_client(None if user == "anonymous" else getattr(team, user))
    response = api.post(
        "/api/v1/service/inspections",
        {"inspected_on": "2026-11-30", "product_id": book.lathe.pk, "inspected_quantity": 4},
    )
    assert response.status_code in (401, 403)
