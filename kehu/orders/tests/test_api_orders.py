"""/api/v1/orders: orders, lines, transitions, deliveries, sell-through; who may do what; 4xx
bodies in the user's language; a denied write changes nothing."""

from decimal import Decimal

import pytest

from kehu.orders.models import Delivery, Order, OrderLine, OrderState, SellThrough
from kehu.orders.tests.factories import confirm

pytestmark = pytest.mark.django_db


def _state(order):
    return Order.objects.filter(pk=order.pk).values_list("state", "line_count", "total", "version", "notes").get()


def test_anonymous_gets_401(client, draft):
    for path in ("/api/v1/orders", f"/api/v1/orders/{draft.pk}", "/api/v1/orders/sell-through"):
        assert client.get(path).status_code == 401


def test_who_reads_what(api_client, team, draft):
    for user, status in ((team.rep1, 200), (team.manager1, 200), (team.gm, 200), (team.rep2, 404), (team.rep3, 404)):
        assert api_client(user).get(f"/api/v1/orders/{draft.pk}").status_code == status, user.username
    page = api_client(team.rep2).get("/api/v1/orders").json()
    assert page["count"] == 0
    page = api_client(team.manager1).get("/api/v1/orders?state=draft").json()
    assert [o["number"] for o in page["items"]] == [draft.number]


def test_create_from_lines_then_confirm_and_deliver(api_client, team, customer, book):
    api = api_client(team.rep1)
    response = api.post(
        "/api/v1/orders",
        {
            "customer_id": customer.pk,
            "external_reference": "PO-9",
            "lines": [{"specification_id": book.lathe_a.pk, "quantity": "4"}],
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["total"] == "400.00" and body["lines"][0]["code"] == "CK6140-A" and body["may_change"] is True
    order_id, line_id = body["id"], body["lines"][0]["id"]
    response = api.patch(f"/api/v1/orders/{order_id}/lines/{line_id}", {"discount": "2"})
    assert response.json()["total"] == "392.00"
    response = api.post(f"/api/v1/orders/{order_id}/transition", {"to": "confirmed"})
    assert response.status_code == 200 and response.json()["state"] == "confirmed"
    response = api.post(
        f"/api/v1/orders/{order_id}/deliveries",
        {"lines": [{"order_line_id": line_id, "quantity": "5"}], "carrier": "顺丰"},
    )
    assert response.status_code == 400
    assert "left to deliver" in response.json()["errors"]["lines"][0]
    response = api.post(
        f"/api/v1/orders/{order_id}/deliveries", {"lines": [{"order_line_id": line_id, "quantity": "1"}]}
    )
    assert response.status_code == 201 and response.json()["amount"] == "98.00"
    order = api.get(f"/api/v1/orders/{order_id}").json()
    assert (order["delivery_status"], order["delivered_amount"], order["owed_amount"]) == ("partial", "98.00", "392.00")
    assert len(api.get(f"/api/v1/orders/{order_id}/deliveries").json()) == 1


def test_errors_are_in_the_users_language(api_client, team, draft):
    api = api_client(team.rep1)
    api.headers["Accept-Language"] = "zh-hans"
    response = api.post(f"/api/v1/orders/{draft.pk}/transition", {"to": "completed"})
    assert response.status_code == 409  # the order's state does not allow it
    assert "“草稿”的订单不能变为“已完成”" in response.json()["detail"]


def test_a_stale_version_is_409(api_client, team, draft):
    api = api_client(team.rep1)
    assert api.patch(f"/api/v1/orders/{draft.pk}", {"version": draft.version, "notes": "先"}).status_code == 200
    response = api.patch(f"/api/v1/orders/{draft.pk}", {"version": draft.version, "notes": "后"})
    assert response.status_code == 409
    assert Order.objects.get(pk=draft.pk).notes == "先"


def test_denied_writes_change_nothing(api_client, team, draft):
    before = _state(draft)
    line = OrderLine.objects.filter(order=draft).first()
    for user in (team.rep2, team.rep3, team.manager2):
        api = api_client(user)
        for method, path, body in (
            ("patch", f"/api/v1/orders/{draft.pk}", {"version": draft.version, "notes": "x"}),
            ("post", f"/api/v1/orders/{draft.pk}/transition", {"to": "confirmed"}),
            ("patch", f"/api/v1/orders/{draft.pk}/lines/{line.pk}", {"quantity": "9"}),
            (
                "post",
                f"/api/v1/orders/{draft.pk}/lines",
                {"lines": [{"specification_id": line.specification_id, "quantity": "1"}]},
            ),
            ("delete", f"/api/v1/orders/{draft.pk}", None),
        ):
            response = getattr(api, method)(path, body) if body is not None else getattr(api, method)(path)
            assert response.status_code == 404, (user.username, path)
    assert _state(draft) == before


def test_the_manager_writes_the_reps_order(api_client, team, draft):
    response = api_client(team.manager1).post(f"/api/v1/orders/{draft.pk}/transition", {"to": "confirmed"})
    assert response.status_code == 200 and response.json()["state"] == OrderState.CONFIRMED


def test_an_account_team_member_reads_but_may_not_write(api_client, team, draft):
    from kehu.customers.teams import team_member_add

    team_member_add(customer=draft.customer, user=team.rep2, role="technical_support", actor=team.manager1)
    api = api_client(team.rep2)
    assert api.get(f"/api/v1/orders/{draft.pk}").status_code == 200
    before = _state(draft)
    assert api.post(f"/api/v1/orders/{draft.pk}/transition", {"to": "confirmed"}).status_code == 403
    assert _state(draft) == before


def test_sell_through_through_the_api(api_client, team, customer, book):
    api = api_client(team.rep1)
    response = api.post(
        "/api/v1/orders/sell-through",
        {
            "seller_id": customer.pk,
            "month": "2026-03-17",
            "specification_id": book.oil_46.pk,
            "quantity": "6",
            "amount": "1500",
            "buyer_name": "余姚小李五金店",
            "buyer_level": "零售",
        },
    )
    assert response.status_code == 201, response.json()
    assert response.json()["month"] == "2026-03-01"
    assert api.get("/api/v1/orders/sell-through").json()["count"] == 1
    assert api_client(team.rep2).get("/api/v1/orders/sell-through").json()["count"] == 0
    response = api_client(team.rep2).post(
        "/api/v1/orders/sell-through",
        {
            "seller_id": customer.pk,
            "month": "2026-03-01",
            "specification_id": book.oil_46.pk,
            "quantity": "1",
            "buyer_name": "x",
        },
    )
    assert response.status_code == 400 and SellThrough.objects.count() == 1


def test_deliveries_of_another_reps_order_are_refused(api_client, team, draft):
    order = confirm(draft, team.rep1)
    line = OrderLine.objects.filter(order=order).first()
    response = api_client(team.rep2).post(
        f"/api/v1/orders/{order.pk}/deliveries", {"lines": [{"order_line_id": line.pk, "quantity": "1"}]}
    )
    assert response.status_code == 404 and not Delivery.objects.exists()
    assert Order.objects.get(pk=order.pk).delivered_amount == Decimal("0")
