# ruff: noqa: F811 (the fixtures are imported by name)
"""Returns (SRV-3): the quantity a line can give back, every transition allowed and refused, the
approval through the real engine with the amount rule, stock notes and costs."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from kehu.approvals.models import ApprovalRequest, ApproverTask, RequestState
from kehu.approvals.services import open_request, request_act
from kehu.customers.models import TimelineEntry
from kehu.support import rma_approval, rma_services
from kehu.support.models import ReturnRequest, ReturnState, StockNote
from kehu.support.tests.returns_fixtures import (  # noqa: F401
    aftersales,
    book,
    customer,
    delivered_order,
    lathe_line,
    order,
)

S = ReturnState


def make(actor, line, quantity="2", remedy="repair"):
    return rma_services.rma_create(actor=actor, order_line=line, quantity=quantity, reason="主轴异响", remedy=remedy)


def approve(rma, team):
    request = open_request(rma_approval.CODE, rma.pk)
    request_act(request=request, actor=team.service1, action="approve")
    rma.refresh_from_db()
    return rma


def test_quantity_is_limited_to_what_was_delivered_less_earlier_returns(aftersales, lathe_line):  # noqa: F811
    first = make(aftersales, lathe_line, "5")
    assert first.number.startswith("RMA") and first.state == S.DRAFT
    assert first.amount == Decimal("500.00")  # 5 × 100.00 (tax included)
    with pytest.raises(ValidationError) as refused:
        make(aftersales, lathe_line, "4")
    assert refused.value.message_dict["quantity"] == [
        "At most 3 台 of this line can be returned: 8 delivered, 5 already on other returns."
    ]
    assert ReturnRequest.objects.count() == 1
    make(aftersales, lathe_line, "3")
    with pytest.raises(ValidationError):
        make(aftersales, lathe_line, "0.001")
    with pytest.raises(ValidationError) as zero:
        make(aftersales, lathe_line, "0")
    assert "quantity" in zero.value.message_dict


def test_cancelled_and_rejected_returns_give_their_quantity_back(aftersales, lathe_line, team):  # noqa: F811
    rma = make(aftersales, lathe_line, "8")
    rma_services.rma_cancel(rma=rma, actor=aftersales)
    again = make(aftersales, lathe_line, "8")
    rma_services.rma_submit(rma=again, actor=aftersales)
    request_act(request=open_request(rma_approval.CODE, again.pk), actor=team.service1, action="reject", comment="超期")
    again.refresh_from_db()
    assert again.state == S.REJECTED
    assert rma_services.returnable(lathe_line)[0] == Decimal("8")


def test_nothing_delivered_is_refused(aftersales, book, customer, team, company_gives_credit):  # noqa: F811
    undelivered = delivered_order(book, customer, team.rep1, [(book.lathe_a, 2)], delivered=[])
    with pytest.raises(ValidationError) as refused:
        make(aftersales, undelivered.lines.get(), "1")
    assert refused.value.message_dict["order_line"] == ["Nothing of this order line has been delivered yet."]


def test_a_rep_may_not_open_a_return(team, lathe_line):  # noqa: F811
    with pytest.raises(PermissionDenied):
        make(team.rep1, lathe_line)
    assert not ReturnRequest.objects.exists()


def test_the_whole_way_with_a_replacement(
    aftersales,
    lathe_line,
    team,
    committed_events,
    django_capture_on_commit_callbacks,  # noqa: F811
):
    rma = make(aftersales, lathe_line, "2", remedy="replace")
    rma = rma_services.rma_submit(rma=rma, actor=aftersales)
    assert rma.state == S.PENDING
    request = open_request(rma_approval.CODE, rma.pk)
    # 200.00 is below the general manager's amount: the service manager alone approves.
    assert list(ApproverTask.objects.filter(request=request).values_list("approver__username", flat=True)) == [
        "service1"
    ]
    with django_capture_on_commit_callbacks(execute=True):
        rma = approve(rma, team)
    assert rma.state == S.APPROVED and rma.approved_at is not None
    approved = [e for e in committed_events if e.kind.code == "rma_approved"]
    assert len(approved) == 1 and approved[0].kind.webhook == "rma.approved"
    assert approved[0].webhook["rma_id"] == rma.pk and approved[0].recipients == (aftersales.pk,)
    today = timezone.localdate()
    rma = rma_services.rma_receive(rma=rma, actor=aftersales, received_quantity="2", freight_cost="35.50")
    assert (rma.state, rma.received_on, rma.received_by) == (S.RECEIVED, today, aftersales)
    rma = rma_services.rma_inspect(rma=rma, actor=aftersales, finding="轴承损坏", responsibility="company")
    rma = rma_services.rma_remedy(
        rma=rma,
        actor=aftersales,
        note="已发新机",
        replacement_shipped_on=today,
        replacement_cost="180",
        labour_cost="20",
    )
    assert rma.state == S.REMEDIED
    notes = list(StockNote.objects.filter(rma=rma).order_by("kind").values_list("kind", "quantity"))
    assert notes == [("in", Decimal("2.000")), ("out", Decimal("2.000"))]
    rma = rma_services.rma_close(rma=rma, actor=aftersales)
    assert rma.state == S.CLOSED
    assert rma.total_cost == Decimal("235.50")
    assert list(rma.state_changes.values_list("to_state", flat=True)) == [
        "draft",
        "pending",
        "approved",
        "received",
        "inspected",
        "remedied",
        "closed",
    ]
    kinds = set(TimelineEntry.objects.filter(customer=rma.customer).values_list("kind", flat=True))
    assert {"rma_created", "rma_submitted", "rma_approved", "rma_moved"} <= kinds


def test_above_the_amount_the_general_manager_approves_after_the_service_manager(
    aftersales,
    book,
    customer,
    team,
    company_gives_credit,  # noqa: F811
):
    big = delivered_order(book, customer, team.rep1, [(book.lathe_a, 300)])
    rma = make(aftersales, big.lines.get(), "201")
    assert rma.amount == Decimal("20100.00") > rma_approval.GENERAL_MANAGER_ABOVE
    rma_services.rma_submit(rma=rma, actor=aftersales)
    rma = approve(rma, team)
    assert rma.state == S.PENDING  # the general manager's step now
    request = ApprovalRequest.objects.get(object_id=rma.pk, document_type=rma_approval.CODE)
    assert list(
        ApproverTask.objects.filter(request=request, state="pending").values_list("approver__username", flat=True)
    ) == ["gm"]
    request_act(request=request, actor=team.gm, action="approve")
    rma.refresh_from_db()
    assert rma.state == S.APPROVED
    request.refresh_from_db()
    assert request.state == RequestState.APPROVED


def test_at_the_amount_the_service_manager_is_enough(aftersales, book, customer, team, company_gives_credit):  # noqa: F811
    big = delivered_order(book, customer, team.rep1, [(book.lathe_a, 300)])
    rma = make(aftersales, big.lines.get(), "200")
    assert rma.amount == Decimal("20000.00")
    rma_services.rma_submit(rma=rma, actor=aftersales)
    assert approve(rma, team).state == S.APPROVED


@pytest.mark.parametrize(
    ("state", "allowed"),
    [
        (S.DRAFT, {S.PENDING, S.CANCELLED}),
        (S.PENDING, {S.CANCELLED}),
        (S.APPROVED, {S.RECEIVED, S.CANCELLED}),
        (S.RECEIVED, {S.INSPECTED}),
        (S.INSPECTED, {S.REMEDIED}),
        (S.REMEDIED, {S.CLOSED}),
        (S.REJECTED, {S.PENDING, S.CANCELLED}),
        (S.CLOSED, set()),
        (S.CANCELLED, set()),
    ],
)
def test_every_transition_allowed_or_refused(aftersales, lathe_line, team, state, allowed):  # noqa: F811
    data = {
        S.PENDING: {},
        S.RECEIVED: {"received_quantity": "1"},
        S.INSPECTED: {"finding": "外观划伤", "responsibility": "carrier"},
        S.REMEDIED: {"note": "已修复"},
        S.CLOSED: {},
        S.CANCELLED: {},
    }
    for target in [*data, S.APPROVED, S.REJECTED, S.DRAFT]:
        rma = _in_state(aftersales, lathe_line, team, state)
        before = (rma.state, rma.version, rma.state_changes.count())
        if target in allowed:
            moved = rma_services.rma_transition(rma=rma, actor=aftersales, to=target, **data[target])
            assert moved.state == target
        else:
            with pytest.raises(ValidationError):
                rma_services.rma_transition(rma=rma, actor=aftersales, to=target, **data.get(target, {}))
            rma.refresh_from_db()
            assert (rma.state, rma.version, rma.state_changes.count()) == before
        ReturnRequest.objects.filter(pk=rma.pk).update(state=S.CANCELLED)  # give the quantity back


def _in_state(actor, line, team, state) -> ReturnRequest:
    rma = make(actor, line, "1")
    if state == S.DRAFT:
        return rma
    if state == S.CANCELLED:
        return rma_services.rma_cancel(rma=rma, actor=actor)
    rma = rma_services.rma_submit(rma=rma, actor=actor)
    if state == S.PENDING:
        return rma
    if state == S.REJECTED:
        request_act(request=open_request(rma_approval.CODE, rma.pk), actor=team.service1, action="reject", comment="否")
        rma.refresh_from_db()
        return rma
    rma = approve(rma, team)
    steps = [
        (S.RECEIVED, lambda r: rma_services.rma_receive(rma=r, actor=actor, received_quantity="1")),
        (S.INSPECTED, lambda r: rma_services.rma_inspect(rma=r, actor=actor, finding="裂纹", responsibility="company")),
        (S.REMEDIED, lambda r: rma_services.rma_remedy(rma=r, actor=actor, note="已修复")),
        (S.CLOSED, lambda r: rma_services.rma_close(rma=r, actor=actor)),
    ]
    for target, step in steps:
        if rma.state == state:
            break
        rma = step(rma)
    assert rma.state == state
    return rma


def test_cancelling_a_pending_return_withdraws_its_request(aftersales, lathe_line):  # noqa: F811
    rma = rma_services.rma_submit(rma=make(aftersales, lathe_line), actor=aftersales)
    rma = rma_services.rma_cancel(rma=rma, actor=aftersales)
    assert rma.state == S.CANCELLED
    assert ApprovalRequest.objects.get(object_id=rma.pk).state == RequestState.REVOKED


def test_step_data_is_checked(aftersales, lathe_line, team):  # noqa: F811
    rma = approve(rma_services.rma_submit(rma=make(aftersales, lathe_line, "2", "refund"), actor=aftersales), team)
    with pytest.raises(ValidationError) as too_many:
        rma_services.rma_receive(rma=rma, actor=aftersales, received_quantity="3")
    assert too_many.value.message_dict["received_quantity"] == ["At most 2 were approved to come back."]
    with pytest.raises(ValidationError):
        rma_services.rma_receive(
            rma=rma, actor=aftersales, received_quantity="1", received_on=timezone.localdate() + timedelta(days=1)
        )
    rma = rma_services.rma_receive(rma=rma, actor=aftersales, received_quantity="2")
    with pytest.raises(ValidationError) as who:
        rma_services.rma_inspect(rma=rma, actor=aftersales, finding="", responsibility="nobody")
    assert set(who.value.message_dict) == {"finding", "responsibility"}
    rma = rma_services.rma_inspect(rma=rma, actor=aftersales, finding="性能不符", responsibility="company")
    with pytest.raises(ValidationError) as refund:
        rma_services.rma_remedy(rma=rma, actor=aftersales, note="退款")
    assert "refund_amount" in refund.value.message_dict
    rma.refresh_from_db()
    assert rma.state == S.INSPECTED
    rma = rma_services.rma_remedy(rma=rma, actor=aftersales, note="退款", refund_amount="226")
    assert rma.refund_amount == Decimal("226") and rma.total_cost == Decimal("226")


def test_a_stale_version_is_refused(aftersales, lathe_line):  # noqa: F811
    rma = make(aftersales, lathe_line)
    with pytest.raises(ValidationError):
        rma_services.rma_submit(rma=rma, actor=aftersales, expected_version=rma.version + 5)
    rma.refresh_from_db()
    assert rma.state == S.DRAFT
