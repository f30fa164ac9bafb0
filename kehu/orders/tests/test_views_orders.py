"""The order pages: list, new order, the order and its lines, deliveries, sell-through; who may do what."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kehu.orders import services
from kehu.orders.models import Order, OrderLine, OrderState, SellThrough
from kehu.orders.tests.factories import confirm, make_order

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def _detail(order):
    return reverse("orders:detail", args=[order.pk])


def _state(order):
    return Order.objects.filter(pk=order.pk).values_list("state", "line_count", "total", "version", "notes").get()


def test_anonymous_is_sent_to_sign_in(client, draft):
    for url in (reverse("orders:list"), _detail(draft), reverse("orders:new"), reverse("orders:sell-through")):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_owner_and_manager_open_the_order_another_rep_does_not(client, team, draft):
    for user, status in ((team.rep1, 200), (team.manager1, 200), (team.gm, 200), (team.rep2, 404), (team.rep3, 404)):
        client.force_login(user)
        assert client.get(_detail(draft)).status_code == status, user.username


def test_the_list_shows_the_orders_in_both_languages(client, team, draft):
    client.force_login(team.rep1)
    page = client.get(reverse("orders:list")).content.decode()
    assert draft.number in page and "Not delivered" in page
    client.cookies["django_language"] = "zh-hans"
    page = client.get(reverse("orders:list"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert draft.number in page and "订单" in page


def test_the_list_filters_and_counts_queries_fixed(client, team, draft, book, django_assert_max_num_queries):
    confirm(make_order(draft.customer, team.rep1, [(book.lathe_a.pk, 1)]), team.rep1)
    client.force_login(team.manager1)
    page = client.get(reverse("orders:list") + "?state=confirmed").content.decode()
    assert page.count('href="/orders/') >= 1 and draft.number not in page
    counts = []
    for extra in range(2):
        for _i in range(5):
            make_order(draft.customer, team.manager1, [(book.lathe_a.pk, 1)], owner=team.rep2)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("orders:list")).status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts
    with django_assert_max_num_queries(counts[0]):
        client.get(reverse("orders:list") + "?delivery=none&settlement=unpaid&ordered_from=2020-01-01")


def test_the_detail_page_has_a_fixed_number_of_queries(client, team, draft, book):
    client.force_login(team.rep1)
    counts = []
    for n in (1, 20):
        order = make_order(draft.customer, team.rep1, [(book.lathe_a.pk, 1)] * n)
        with CaptureQueriesContext(connection) as ctx:
            page = client.get(_detail(order)).content.decode()
        assert page.count('<tr id="line-') == n
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts


def test_new_order_from_a_customer_then_lines_by_keyboard_and_paste(client, team, customer, book):
    client.force_login(team.rep1)
    assert client.get(reverse("orders:new") + f"?customer={customer.pk}").status_code == 200
    response = client.post(
        reverse("orders:new"), {"customer": customer.pk, "ordered_on": "2026-03-02", "external_reference": "PO-77"}
    )
    order = Order.objects.get(customer=customer)
    assert response.status_code == 302 and response["Location"] == _detail(order)
    assert order.number == "SO2026-00001" and order.external_reference == "PO-77"
    response = client.post(
        reverse("orders:line-add", args=[order.pk]), {"code": "ck6140-a", "quantity": "2"}, headers=HTMX
    )
    assert response.status_code == 200 and 'id="line-' in response.content.decode()
    response = client.post(
        reverse("orders:lines-paste", args=[order.pk]), {"text": "编码\t数量\nYY-46-200L\t1,000\nNOPE\t1"}
    )
    assert "NOPE" in response.content.decode() and OrderLine.objects.filter(order=order).count() == 1
    client.post(reverse("orders:lines-paste", args=[order.pk]), {"text": "YY-46-200L\t２"})
    order.refresh_from_db()
    assert order.line_count == 2 and order.total == Decimal("700.00")
    line = OrderLine.objects.get(order=order, position=1)
    response = client.post(
        reverse("orders:line-update", args=[order.pk, line.pk]),
        {"quantity": "2", "discount": "4", "unit_price": "100"},
        headers=HTMX,
    )
    assert response.status_code == 200
    line.refresh_from_db()
    assert line.discount == Decimal("4") and line.amount == Decimal("192.00")


def test_confirm_deliver_and_complete_through_the_pages(client, team, draft):
    client.force_login(team.rep1)
    client.post(reverse("orders:transition", args=[draft.pk]), {"to": "confirmed"})
    draft.refresh_from_db()
    assert draft.state == OrderState.CONFIRMED
    lathe, oil = OrderLine.objects.filter(order=draft).order_by("position")
    assert client.get(reverse("orders:delivery-new", args=[draft.pk])).status_code == 200
    response = client.post(
        reverse("orders:delivery-new", args=[draft.pk]),
        {f"line-{lathe.pk}": "5", "delivered_on": draft.ordered_on.isoformat(), "carrier": "顺丰"},
    )
    page = response.content.decode()
    assert response.status_code == 200 and "left to deliver" in page
    today = draft.ordered_on.isoformat()
    response = client.post(
        reverse("orders:delivery-new", args=[draft.pk]),
        {f"line-{lathe.pk}": "3", f"line-{oil.pk}": "2.5", "delivered_on": today, "tracking_number": "SF100"},
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.delivery_status == "full" and draft.delivered_amount == draft.total
    page = client.get(_detail(draft)).content.decode()
    assert "SF100" in page and "Order delivered" in page
    client.post(reverse("orders:transition", args=[draft.pk]), {"to": "completed"})
    draft.refresh_from_db()
    assert draft.state == OrderState.COMPLETED


def test_another_rep_cannot_write_and_nothing_changes(client, team, draft):
    before = _state(draft)
    line = OrderLine.objects.filter(order=draft).first()
    client.force_login(team.rep2)
    for url, data in (
        (reverse("orders:transition", args=[draft.pk]), {"to": "confirmed"}),
        (reverse("orders:line-update", args=[draft.pk, line.pk]), {"quantity": "9"}),
        (reverse("orders:lines-paste", args=[draft.pk]), {"text": "CK6140-A\t1"}),
        (reverse("orders:edit", args=[draft.pk]), {"notes": "x", "ordered_on": "2026-01-01", "version": 1}),
        (reverse("orders:delete", args=[draft.pk]), {}),
    ):
        assert client.post(url, data).status_code == 404
    assert _state(draft) == before


def test_recycle_bin(client, team, draft):
    client.force_login(team.rep1)
    client.post(reverse("orders:delete", args=[draft.pk]))
    assert Order.objects.get(pk=draft.pk).deleted_at is not None
    assert draft.number in client.get(reverse("orders:recycle-bin")).content.decode()
    client.post(reverse("orders:restore", args=[draft.pk]))
    assert Order.objects.get(pk=draft.pk).deleted_at is None


def test_edit_with_a_stale_version_is_refused(client, team, draft):
    client.force_login(team.rep1)
    services.order_update(order=draft, actor=team.rep1, expected_version=draft.version, notes="先改")
    response = client.post(
        reverse("orders:edit", args=[draft.pk]),
        {"ordered_on": draft.ordered_on.isoformat(), "notes": "后改", "version": draft.version - 1},
    )
    assert response.status_code == 200 and "Someone else changed" in response.content.decode()
    assert Order.objects.get(pk=draft.pk).notes == "先改"


def test_sell_through_page_records_and_lists(client, team, customer, book):
    client.force_login(team.rep1)
    response = client.post(
        reverse("orders:sell-through-new"),
        {
            "seller": customer.pk,
            "month": "2026-02",
            "code": "CK6140-A",
            "quantity": "4",
            "amount": "380",
            "buyer_name": "宁波二批商行",
            "buyer_level": "二批",
        },
    )
    assert response.status_code == 302
    record = SellThrough.objects.get()
    assert (record.month.isoformat(), record.quantity, record.buyer_level) == ("2026-02-01", Decimal("4"), "二批")
    page = client.get(reverse("orders:sell-through") + f"?seller={customer.pk}").content.decode()
    assert "宁波二批商行" in page and "2026-02" in page
    client.force_login(team.rep2)
    assert "宁波二批商行" not in client.get(reverse("orders:sell-through")).content.decode()
