"""Orders: lines and money, the transition table, deliveries and rollups."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kehu.approvals.models import ApprovalRequest
from kehu.approvals.services import open_request, request_act
from kehu.customers.models import TimelineEntry
from kehu.orders import services
from kehu.orders.events import OrderEvent
from kehu.orders.models import DeliveryStatus, Order, OrderLine, OrderState, SettlementStatus
from kehu.orders.tests.factories import confirm, make_order
from kehu.quotes.models import QuoteState
from kehu.quotes.tests.factories import make_quote

S = OrderState


def test_a_direct_order_is_priced_by_the_book_and_numbered(draft, team):
    assert draft.number.startswith(f"SO{draft.ordered_on.year}-") and draft.number.endswith("-00001")
    lines = list(OrderLine.objects.filter(order=draft).order_by("position"))
    assert [(line.code, line.quantity, line.unit_price, line.amount) for line in lines] == [
        ("CK6140-A", Decimal("3"), Decimal("100.0000"), Decimal("300.00")),
        ("YY-46-200L", Decimal("2.5"), Decimal("250.0000"), Decimal("625.00")),
    ]
    # per line to the fen, the totals the sums of the rounded lines
    assert draft.total == Decimal("925.00")
    assert draft.total_net == lines[0].amount_net + lines[1].amount_net
    assert lines[0].amount_net == Decimal("265.49") and lines[1].amount_net == Decimal("573.39")
    assert draft.total_tax == Decimal("925.00") - Decimal("265.49") - Decimal("573.39")
    assert all(not line.is_booked and line.customer_id == draft.customer_id for line in lines)
    second = make_order(draft.customer, team.rep1, [(lines[0].specification_id, 1)])
    assert second.number.endswith("-00002")


def test_line_rounding_half_up(draft, team):
    line = OrderLine.objects.get(order=draft, position=1)
    services.order_line_update(line=line, actor=team.rep1, quantity="0.333", discount="3.33")
    line.refresh_from_db()
    # 0.333 × 100 × 0.9667 = 32.19111 → 32.19; net 32.19 / 1.13 = 28.4867… → 28.49
    assert line.amount == Decimal("32.19") and line.amount_net == Decimal("28.49") and line.tax == Decimal("3.70")


def test_confirm_books_the_lines_and_records_the_event(
    draft, team, django_capture_on_commit_callbacks, committed_events
):
    with django_capture_on_commit_callbacks(execute=True):
        order = confirm(draft, team.rep1)
    assert order.state == S.CONFIRMED and order.confirmed_at is not None
    assert set(OrderLine.objects.filter(order=order).values_list("is_booked", flat=True)) == {True}
    hooks = [(e.kind.webhook, e.webhook["number"]) for e in committed_events if e.webhook]
    assert hooks == [("order.confirmed", order.number)]
    kinds = list(TimelineEntry.objects.filter(customer=order.customer).values_list("kind", flat=True))
    assert OrderEvent.CREATED in kinds and OrderEvent.CONFIRMED in kinds


def test_the_transition_table_refuses_what_it_does_not_allow(draft, team):
    with pytest.raises(ValidationError, match="cannot become"):
        services.order_transition(order=draft, to=S.COMPLETED, actor=team.rep1)
    order = confirm(draft, team.rep1)
    with pytest.raises(ValidationError, match="cannot become"):
        services.order_transition(order=order, to=S.DRAFT, actor=team.rep1)
    with pytest.raises(ValidationError, match="delivered in full"):
        services.order_transition(order=order, to=S.COMPLETED, actor=team.rep1)
    services.order_transition(order=order, to=S.CANCELLED, actor=team.rep1)
    order.refresh_from_db()
    assert order.state == S.CANCELLED and order.closed_at is not None
    assert set(OrderLine.objects.filter(order=order).values_list("is_booked", flat=True)) == {False}
    with pytest.raises(ValidationError):
        services.order_transition(order=order, to=S.CONFIRMED, actor=team.rep1)


def test_only_drafts_are_edited(draft, team):
    order = confirm(draft, team.rep1)
    line = OrderLine.objects.filter(order=order).first()
    with pytest.raises(ValidationError, match="Only a draft"):
        services.order_line_update(line=line, actor=team.rep1, quantity=9)
    with pytest.raises(ValidationError, match="Only a draft"):
        services.order_update(order=order, actor=team.rep1, expected_version=order.version, notes="x")


def test_partial_deliveries_and_more_than_ordered(draft, team):
    order = confirm(draft, team.rep1)
    lathe, oil = OrderLine.objects.filter(order=order).order_by("position")
    first = services.delivery_record(
        order=order, actor=team.rep1, lines=[(lathe.pk, 1), (oil.pk, "1.5")], carrier="顺丰", tracking_number="SF1"
    )
    order.refresh_from_db()
    # 1/3 of 300.00 = 100.00; 1.5/2.5 of 625.00 = 375.00
    assert first.amount == Decimal("475.00") and order.delivered_amount == Decimal("475.00")
    assert order.delivery_status == DeliveryStatus.PARTIAL
    with pytest.raises(ValidationError, match=r"3 is more than the 2 台 left to deliver") as caught:
        services.delivery_record(order=order, actor=team.rep1, lines=[(lathe.pk, 3)])
    assert list(caught.value.message_dict) == ["lines"]
    order.refresh_from_db()
    assert order.delivered_amount == Decimal("475.00")
    services.delivery_record(order=order, actor=team.rep1, lines=[(lathe.pk, 2), (oil.pk, 1)])
    order.refresh_from_db()
    assert order.delivered_amount == order.total == Decimal("925.00")
    assert order.delivery_status == DeliveryStatus.FULL
    assert list(
        OrderLine.objects.filter(order=order).order_by("position").values_list("delivered_quantity", flat=True)
    ) == [
        Decimal("3"),
        Decimal("2.5"),
    ]
    with pytest.raises(ValidationError, match="delivered"):
        services.order_transition(order=order, to=S.CANCELLED, actor=team.rep1)
    services.order_transition(order=order, to=S.COMPLETED, actor=team.rep1)
    order.refresh_from_db()
    assert order.state == S.COMPLETED


def test_a_draft_is_not_delivered(draft, team):
    line = OrderLine.objects.filter(order=draft).first()
    with pytest.raises(ValidationError, match="Only a confirmed order"):
        services.delivery_record(order=draft, actor=team.rep1, lines=[(line.pk, 1)])


def test_an_order_from_an_accepted_quote_copies_lines_and_needs_no_new_approval(book, customer, team):
    from kehu.quotes import services as quote_services
    from kehu.quotes.models import QuoteLine

    quote = make_quote(customer, team.rep1, [(book.lathe_a.pk, 4)])
    line = QuoteLine.objects.get(quote=quote)
    quote_services.quote_line_update(line=line, actor=team.rep1, discount="12")  # beyond the rep's 5 %
    quote_services.quote_submit(quote=quote, actor=team.rep1)
    request_act(request=open_request("quote", quote.pk), actor=team.manager1, action="approve")
    quote.refresh_from_db()
    quote_services.quote_accept(quote=quote, actor=team.rep1)
    quote.refresh_from_db()
    assert quote.state == QuoteState.ACCEPTED
    order = services.order_create(quote=quote, actor=team.rep1)
    assert order.source == "quote" and order.customer_id == customer.pk and order.total == quote.total
    copied = OrderLine.objects.get(order=order)
    assert (copied.discount, copied.unit_price, copied.amount) == (
        Decimal("12.00"),
        Decimal("88.0000"),
        Decimal("352.00"),
    )
    order = confirm(order, team.rep1)
    assert order.state == S.CONFIRMED
    assert not ApprovalRequest.objects.filter(document_type="order").exists()


def test_a_draft_quote_does_not_become_an_order(book, customer, team):
    quote = make_quote(customer, team.rep1, [(book.lathe_a.pk, 1)])
    with pytest.raises(ValidationError, match="approved or accepted"):
        services.order_create(quote=quote, actor=team.rep1)


def test_a_discount_beyond_the_limit_goes_through_price_approval(draft, team):
    line = OrderLine.objects.get(order=draft, position=1)
    services.order_line_update(line=line, actor=team.rep1, discount="12")
    order = confirm(draft, team.rep1)
    assert order.state == S.PENDING
    request = open_request("order", order.pk)
    assert request.facts["discount"] == "12.00" and request.facts["approver"] == "sales_manager"
    request_act(request=request, actor=team.manager1, action="approve")
    order.refresh_from_db()
    assert order.state == S.CONFIRMED and order.approved_at is not None


def test_a_refused_price_approval_is_back_to_draft(draft, team):
    line = OrderLine.objects.get(order=draft, position=1)
    services.order_line_update(line=line, actor=team.rep1, discount="12")
    order = confirm(draft, team.rep1)
    request_act(request=open_request("order", order.pk), actor=team.manager1, action="reject", comment="太低")
    order.refresh_from_db()
    assert order.state == S.DRAFT
    entry = TimelineEntry.objects.filter(customer=order.customer, kind=OrderEvent.APPROVAL_REJECTED).get()
    assert "太低" in entry.summary


def test_settlement_comes_from_the_rollups(draft, team):
    order = confirm(draft, team.rep1)
    services.order_rollups_set(order_id=order.pk, invoiced_amount=Decimal("500"), received_amount=Decimal("200"))
    order.refresh_from_db()
    assert order.settlement_status == SettlementStatus.PARTIAL and order.owed_amount == Decimal("725.00")
    services.order_rollups_set(order_id=order.pk, received_amount=Decimal("925"))
    order.refresh_from_db()
    assert order.settlement_status == SettlementStatus.PAID and order.owed_amount == 0
    with pytest.raises(ValidationError, match="invoiced"):
        services.order_transition(order=order, to=S.CANCELLED, actor=team.rep1)


def test_others_may_not_write_and_nothing_changes(draft, team):
    before = Order.objects.get(pk=draft.pk)
    line = OrderLine.objects.filter(order=draft).first()
    for actor in (team.rep2, team.rep3, team.manager2):
        with pytest.raises(PermissionDenied):
            services.order_transition(order=draft, to=S.CONFIRMED, actor=actor)
        with pytest.raises(PermissionDenied):
            services.order_line_update(line=line, actor=actor, quantity=9)
    after = Order.objects.get(pk=draft.pk)
    assert (after.state, after.total, after.version) == (before.state, before.total, before.version)
    # the rep's manager may
    confirm(draft, team.manager1)


def test_recycle_bin_for_drafts(draft, team):
    order = confirm(
        make_order(draft.customer, team.rep1, [(OrderLine.objects.filter(order=draft).first().specification_id, 1)]),
        team.rep1,
    )
    with pytest.raises(ValidationError, match="cannot be deleted"):
        services.order_delete(order=order, actor=team.rep1)
    services.order_delete(order=draft, actor=team.rep1)
    assert Order.objects.get(pk=draft.pk).deleted_at is not None
    services.order_restore(order=Order.objects.get(pk=draft.pk), actor=team.rep1)
    assert Order.objects.get(pk=draft.pk).deleted_at is None
