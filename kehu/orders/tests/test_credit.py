"""Credit control (CLS-4) at the order and delivery stages, with a real answer to CREDIT_CHECK
registered for the test (nobody answers it until the receivables reports exist: then no check)."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kehu.approvals.services import open_request, request_act
from kehu.core import lookups
from kehu.customers.models import TimelineEntry
from kehu.orders import services
from kehu.orders.events import OrderEvent
from kehu.orders.models import Delivery, DeliveryStatus, OrderLine, OrderState
from kehu.orders.tests.factories import confirm

S = OrderState


@pytest.fixture
def finance(team):
    from kehu.users.models import User
    from kehu.users.roles import Role

    user = User.objects.create_user("finance1", role=Role.FINANCE, department=team.hq, password="kehu-test-pw")
    return user


def test_without_an_answer_there_is_no_check(draft, team):
    saved = lookups._answers.pop(lookups.CREDIT_CHECK.name, None)
    try:
        order = confirm(draft, team.rep1)
    finally:
        if saved is not None:
            lookups._answers[lookups.CREDIT_CHECK.name] = saved
    assert order.state == S.CONFIRMED and not order.credit_hold


def test_within_the_limit_the_order_is_confirmed(draft, team, credit_answer):
    order = confirm(draft, team.rep1)
    assert order.state == S.CONFIRMED
    assert credit_answer.calls == [(draft.customer_id, Decimal("925.00"), "order")]


def test_over_the_limit_the_order_waits_for_a_credit_exception(draft, team, credit_answer, finance):
    credit_answer.limit = Decimal("500")
    order = confirm(draft, team.rep1)
    assert order.state == S.PENDING and order.credit_hold
    assert "超出信用额度" in order.credit_note and "limit ¥500.00" in order.credit_note
    request = open_request("order.credit", order.pk)
    assert request is not None and request.facts["amount"] == "925.00"
    assert TimelineEntry.objects.filter(customer=order.customer, kind=OrderEvent.CREDIT_HELD).exists()
    # a sales rep may not approve; the engine's check refuses someone without the permission
    with pytest.raises(PermissionDenied):
        request_act(request=request, actor=team.rep2, action="approve")
    request_act(request=request, actor=finance, action="approve")
    order.refresh_from_db()
    assert order.state == S.CONFIRMED and not order.credit_hold
    kinds = set(TimelineEntry.objects.filter(customer=order.customer).values_list("kind", flat=True))
    assert {OrderEvent.CREDIT_APPROVED, OrderEvent.CONFIRMED} <= kinds


def test_a_refused_exception_puts_the_order_back_to_draft(draft, team, credit_answer, finance):
    credit_answer.limit = Decimal("500")
    order = confirm(draft, team.rep1)
    request_act(request=open_request("order.credit", order.pk), actor=finance, action="reject", comment="逾期太多")
    order.refresh_from_db()
    assert order.state == S.DRAFT and not order.credit_hold
    assert all(not booked for booked in OrderLine.objects.filter(order=order).values_list("is_booked", flat=True))


def test_a_held_delivery_counts_only_once_approved(draft, team, credit_answer, finance):
    order = confirm(draft, team.rep1)
    credit_answer.limit = Decimal("100")  # the customer went over since
    line = OrderLine.objects.get(order=order, position=1)
    delivery = services.delivery_record(order=order, actor=team.rep1, lines=[(line.pk, 2)])
    assert credit_answer.calls[-1] == (order.customer_id, Decimal("200.00"), "delivery")
    order.refresh_from_db()
    assert delivery.is_held and order.credit_hold and order.delivered_amount == 0
    assert order.delivery_status == DeliveryStatus.NONE
    # a second delivery while the request is open waits too, without asking again
    calls = len(credit_answer.calls)
    services.delivery_record(order=order, actor=team.rep1, lines=[(line.pk, 1)])
    assert len(credit_answer.calls) == calls
    with pytest.raises(ValidationError, match="left to deliver"):
        services.delivery_record(order=order, actor=team.rep1, lines=[(line.pk, 1)])
    request_act(request=open_request("order.credit", order.pk), actor=finance, action="approve")
    order.refresh_from_db()
    assert not order.credit_hold and order.delivered_amount == Decimal("300.00")
    assert not Delivery.objects.filter(order=order, is_held=True).exists()


def test_a_refused_delivery_exception_drops_the_held_delivery(draft, team, credit_answer, finance):
    order = confirm(draft, team.rep1)
    credit_answer.limit = Decimal("100")
    line = OrderLine.objects.get(order=order, position=1)
    services.delivery_record(order=order, actor=team.rep1, lines=[(line.pk, 2)])
    request_act(request=open_request("order.credit", order.pk), actor=finance, action="reject", comment="先回款")
    order.refresh_from_db()
    assert order.state == S.CONFIRMED and not order.credit_hold
    assert not Delivery.objects.filter(order=order).exists()
