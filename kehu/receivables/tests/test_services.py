from datetime import date
from decimal import Decimal as D  # noqa: N817

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kehu.core import lookups
from kehu.receivables import services
from kehu.receivables.models import (
    CustomerBalance,
    Payment,
    PaymentAllocation,
    PaymentPlan,
    PaymentState,
    PlanBasis,
    PlanState,
    ReceivablesSettings,
)
from kehu.receivables.services import plan_state


def plan(amount="100.00", received="0.00", due_on=None, state=PlanState.NOT_DUE):
    return PaymentPlan(amount=D(amount), received_amount=D(received), due_on=due_on, state=state)


@pytest.mark.parametrize(
    ("due", "received", "today", "expected"),
    [
        (date(2026, 5, 10), "0", date(2026, 5, 6), PlanState.NOT_DUE),  # 4 days before, window 3
        (date(2026, 5, 10), "0", date(2026, 5, 7), PlanState.DUE),  # 3 days before: inside the window
        (date(2026, 5, 10), "0", date(2026, 5, 10), PlanState.DUE),  # due today is not overdue
        (date(2026, 5, 10), "0", date(2026, 5, 11), PlanState.OVERDUE),  # the day after
        (date(2026, 5, 10), "0.01", date(2026, 5, 10), PlanState.PARTLY_PAID),
        (date(2026, 5, 10), "99.99", date(2026, 5, 11), PlanState.OVERDUE),  # overdue wins over partly paid
        (date(2026, 5, 10), "100.00", date(2026, 5, 11), PlanState.PAID),
        (None, "0", date(2030, 1, 1), PlanState.NOT_DUE),  # waiting for its event
    ],
)
def test_plan_state_on_a_controlled_clock(due, received, today, expected):
    assert plan_state(plan(received=received, due_on=due), today, 3) == expected


def test_void_stays_void():
    assert plan_state(plan(due_on=date(2026, 1, 1), state=PlanState.VOID), date(2026, 5, 1), 3) == PlanState.VOID


def test_instalments_split_the_last_takes_the_remainder():
    assert services.instalments_split(
        D("100.00"), [{"percent": "33.33"}, {"percent": "33.33"}, {"percent": "33.34"}]
    ) == [
        D("33.33"),
        D("33.33"),
        D("33.34"),
    ]
    assert services.instalments_split(
        D("10.00"), [{"percent": "33.33"}, {"percent": "33.33"}, {"percent": "33.34"}]
    ) == [
        D("3.33"),
        D("3.33"),
        D("3.34"),
    ]
    assert services.instalments_split(D("0.05"), [{"percent": "50"}, {"percent": "50"}]) == [D("0.03"), D("0.02")]
    with pytest.raises(ValidationError, match="99"):
        services.instalments_split(D("100"), [{"percent": "50"}, {"percent": "49"}])
    with pytest.raises(ValidationError, match="not the total"):
        services.instalments_split(D("100"), [{"amount": "50"}, {"amount": "49.99"}])
    with pytest.raises(ValidationError):
        services.instalments_split(D("100"), [{"amount": "50"}, {"percent": "50"}])


def test_plans_from_terms_and_due_dates_after_events(team, customer_of, order_of, contract_of, clock):
    clock(date(2026, 3, 1))
    c = customer_of(team.rep1)
    contract = contract_of(c, amount="100000.00", signed_on=date(2026, 3, 1))
    order = order_of(c, total="100000.00", contract=contract)
    plans = services.plans_from_terms(
        actor=team.rep1,
        order=order,
        terms=[
            {"percent": "30", "basis": PlanBasis.SIGNING, "days_after": 0},
            {"percent": "60", "basis": PlanBasis.DELIVERY, "days_after": 30},
            {"percent": "10", "basis": PlanBasis.INVOICE, "days_after": 90},
        ],
    )
    assert [(p.sequence, p.amount, p.due_on, p.state) for p in plans] == [
        (1, D("30000.00"), date(2026, 3, 1), PlanState.DUE),
        (2, D("60000.00"), None, PlanState.NOT_DUE),
        (3, D("10000.00"), None, PlanState.NOT_DUE),
    ]
    assert all(p.contract_id == contract.pk and p.owner_id == team.rep1.pk for p in plans)
    contract.refresh_from_db()
    assert (contract.plans_count, contract.plans_done) == (3, 0)
    with pytest.raises(ValidationError, match="already has payment plans"):
        services.plans_from_terms(actor=team.rep1, order=order, terms=[{"percent": "100", "due_on": "2026-04-01"}])


def test_delivery_fills_the_due_date_through_the_event_sink(team, customer_of, clock):
    from kehu.orders import services as order_services
    from kehu.orders.tests.factories import confirm, make_order
    from kehu.quotes.tests.factories import Book

    clock(date(2026, 3, 2))
    ReceivablesSettings.objects.create(credit_stage="off")  # no credit exception holds the confirmation
    book = Book()
    c = customer_of(team.rep1)
    order = confirm(make_order(c, team.rep1, [(book.lathe_a.pk, 3)]), team.rep1)
    assert order.state == "confirmed"
    balance = CustomerBalance.objects.get(customer=c)
    assert balance.exposure == order.total  # the confirmation event refreshed it
    assert balance.not_invoiced == order.total
    services.plans_from_terms(
        actor=team.rep1, order=order, terms=[{"percent": "100", "basis": PlanBasis.DELIVERY, "days_after": 30}]
    )
    line = order.lines.get()
    order_services.delivery_record(order=order, actor=team.rep1, lines=[(line.pk, 3)], delivered_on=date(2026, 3, 2))
    p = PaymentPlan.objects.get(order=order)
    assert p.due_on == date(2026, 4, 1)
    assert CustomerBalance.objects.get(customer=c).oldest_due_on == date(2026, 4, 1)


@pytest.fixture
def three_plans(team, customer_of, order_of, contract_of, clock):
    """rep1's customer: a contract of 10000 with one order of 10000 in three instalments due
    1 April (3000), 1 May (5000) and 1 June (2000); today is 10 May."""
    clock(date(2026, 5, 10))
    c = customer_of(team.rep1)
    contract = contract_of(c, amount="10000.00")
    order = order_of(c, total="10000.00", contract=contract)
    plans = services.plans_from_terms(
        actor=team.rep1,
        order=order,
        terms=[
            {"amount": "3000", "due_on": "2026-04-01"},
            {"amount": "5000", "due_on": "2026-05-01"},
            {"amount": "2000", "due_on": "2026-06-01"},
        ],
    )
    return c, contract, order, plans


def _reload(*objs):
    for o in objs:
        o.refresh_from_db()


def test_auto_allocation_oldest_first_and_rollups(
    team, three_plans, committed_events, django_capture_on_commit_callbacks
):
    c, contract, order, (p1, p2, p3) = three_plans
    with django_capture_on_commit_callbacks(execute=True):
        payment = services.payment_record(actor=team.rep1, customer=c, amount="4000.00", reference="BANK-1")
    _reload(p1, p2, p3, order, contract, payment)
    assert [(p.received_amount, p.state) for p in (p1, p2, p3)] == [
        (D("3000.00"), PlanState.PAID),
        (D("1000.00"), PlanState.OVERDUE),
        (D("0.00"), PlanState.NOT_DUE),
    ]
    assert list(PaymentAllocation.objects.filter(payment=payment).values_list("plan_id", "amount", "is_automatic")) == [
        (p1.pk, D("3000.00"), True),
        (p2.pk, D("1000.00"), True),
    ]
    assert (payment.allocated_amount, payment.unallocated) == (D("4000.00"), D("0.00"))
    assert (order.received_amount, order.settlement_status) == (D("4000.00"), "partial")
    assert (contract.received_amount, contract.plans_count, contract.plans_done) == (D("4000.00"), 3, 1)
    b = CustomerBalance.objects.get(customer=c)
    assert (b.owed, b.overdue, b.not_due, b.exposure) == (D("6000.00"), D("4000.00"), D("2000.00"), D("6000.00"))
    hooks = [e.webhook for e in committed_events if e.kind.code == "payment_recorded"]
    assert hooks[0]["amount"] == "4000.00" and hooks[0]["number"] == payment.number


def test_overpayment_stays_unallocated_and_is_allocated_later(team, three_plans):
    c, contract, order, (p1, p2, p3) = three_plans
    payment = services.payment_record(actor=team.rep1, customer=c, amount="12000.00")
    _reload(payment, order)
    assert (payment.allocated_amount, payment.unallocated) == (D("10000.00"), D("2000.00"))
    assert order.settlement_status == "paid"
    assert CustomerBalance.objects.get(customer=c).unallocated == D("2000.00")
    with pytest.raises(ValidationError, match="no open plans"):
        services.payment_allocate(payment=payment, actor=team.rep1)
    # a new instalment on the contract takes the unallocated money by hand
    new = services.plans_from_terms(
        actor=team.rep1, contract=contract, total=D("1500.00"), terms=[{"amount": "1500", "due_on": "2026-07-01"}]
    )[0]
    services.payment_allocate(payment=payment, actor=team.rep1, allocations=[(new.pk, "1500.00")])
    _reload(payment, new, contract)
    assert (payment.unallocated, new.state) == (D("500.00"), PlanState.PAID)
    assert contract.received_amount == D("11500.00")
    assert CustomerBalance.objects.get(customer=c).unallocated == D("500.00")


def test_allocation_by_hand_is_checked(team, three_plans):
    c, contract, order, (p1, p2, p3) = three_plans
    payment = services.payment_record(
        actor=team.rep1, customer=c, amount="2500.00", allocations=[(p3.pk, "2000.00"), (p1.pk, "500")]
    )
    _reload(p1, p3, payment)
    assert (p1.received_amount, p3.received_amount, payment.unallocated) == (D("500.00"), D("2000.00"), D("0.00"))
    before = Payment.objects.count()
    for bad, message in (
        ([(p1.pk, "2600.00")], "outstanding"),
        ([(p2.pk, "3000"), (p1.pk, "1000")], "add up to"),
        ([(999999, "1")], "open plans"),
        ([(p1.pk, "-1")], "more than zero"),
    ):
        with pytest.raises(ValidationError, match=message):
            services.payment_record(actor=team.rep1, customer=c, amount="3000.00", allocations=bad)
    assert Payment.objects.count() == before


def test_reversal_undoes_allocations_and_both_rows_stay(
    team, three_plans, committed_events, django_capture_on_commit_callbacks
):
    c, contract, order, (p1, p2, p3) = three_plans
    payment = services.payment_record(actor=team.rep1, customer=c, amount="4000.00")
    with django_capture_on_commit_callbacks(execute=True):
        reversal = services.payment_reverse(payment=payment, actor=team.rep1, reason="录错客户")
    _reload(payment, p1, p2, order, contract)
    assert (payment.state, reversal.reverses_id, reversal.amount) == (PaymentState.REVERSED, payment.pk, D("4000.00"))
    assert (p1.received_amount, p1.state, p2.received_amount) == (D("0.00"), PlanState.OVERDUE, D("0.00"))
    undo = PaymentAllocation.objects.filter(payment=payment, undoes__isnull=False).order_by("pk")
    assert [(u.plan_id, u.amount) for u in undo] == [(p1.pk, D("-3000.00")), (p2.pk, D("-1000.00"))]
    assert (order.received_amount, order.settlement_status, contract.received_amount) == (
        D("0.00"),
        "unpaid",
        D("0.00"),
    )
    b = CustomerBalance.objects.get(customer=c)
    assert (b.owed, b.unallocated) == (D("10000.00"), D("0.00"))
    with pytest.raises(ValidationError):
        services.payment_reverse(payment=payment, actor=team.rep1, reason="again")
    with pytest.raises(ValidationError):
        services.payment_reverse(payment=reversal, actor=team.rep1, reason="again")
    assert [e.webhook["reason"] for e in committed_events if e.kind.code == "payment_reversed"] == ["录错客户"]


def test_refund_of_unallocated_money(team, three_plans):
    c, *_ = three_plans
    services.payment_record(actor=team.rep1, customer=c, amount="10300.00")
    with pytest.raises(ValidationError, match="300.00"):
        services.payment_record(actor=team.rep1, customer=c, amount="300.01", is_refund=True)
    refund = services.payment_record(actor=team.rep1, customer=c, amount="300.00", is_refund=True)
    assert refund.allocated_amount == D("0.00")
    assert CustomerBalance.objects.get(customer=c).unallocated == D("0.00")
    collected = lookups.ask_call(lookups.COLLECTED, [team.rep1.pk], date(2026, 5, 1), date(2026, 5, 31))
    assert collected == {(team.rep1.pk, date(2026, 5, 1)): D("10000.00")}


def test_collected_subtracts_reversals_in_their_month(team, three_plans, clock):
    c, *_ = three_plans
    payment = services.payment_record(actor=team.rep1, customer=c, amount="1000.00", received_on=date(2026, 5, 9))
    clock(date(2026, 6, 3))
    services.payment_reverse(payment=payment, actor=team.rep1, reason="退票")
    collected = lookups.ask_call(lookups.COLLECTED, None, date(2026, 5, 1), date(2026, 6, 30))
    assert collected == {
        (team.rep1.pk, date(2026, 5, 1)): D("1000.00"),
        (team.rep1.pk, date(2026, 6, 1)): D("-1000.00"),
    }


def test_lookups_overdue_and_open_money(team, three_plans):
    c, *_ = three_plans
    with CaptureQueriesContext(connection) as queries:
        assert lookups.ask(lookups.OVERDUE_RECEIVABLE, [c.pk]) == {c.pk}
    # Two overdue plans, one row: only the customer is selected (not the plans' ordering columns).
    (sql,) = [q["sql"] for q in queries.captured_queries]
    assert sql.split(" FROM ")[0].endswith('SELECT DISTINCT "receivables_paymentplan"."customer_id" AS "customer_id"')
    item = lookups.ask_items(lookups.OPEN_MONEY, [c.pk])[c.pk][-1]
    assert (item.kind, item.amount, item.is_overdue) == ("receivable", D("10000.00"), True)


def test_payment_waits_for_approval_when_configured(team, three_plans, finance):
    c, contract, order, (p1, p2, p3) = three_plans
    ReceivablesSettings.objects.create(payments_need_approval=True)
    pending = services.payment_record(actor=team.rep1, customer=c, amount="3000.00", allocations=[(p3.pk, "2000")])
    _reload(p3)
    assert (pending.state, p3.received_amount) == (PaymentState.PENDING, D("0.00"))
    assert CustomerBalance.objects.get(customer=c).owed == D("10000.00")
    from kehu.approvals import services as approval_services

    request = approval_services.open_request(services.APPROVAL_CODE, pending.pk)
    approval_services.request_act(request=request, actor=finance, action="approve")
    _reload(pending, p3, p1)
    assert pending.state == PaymentState.CONFIRMED
    assert (p3.received_amount, p1.received_amount, pending.unallocated) == (D("2000.00"), D("0.00"), D("1000.00"))
    # finance records without approval
    direct = services.payment_record(actor=finance, customer=c, amount="1.00")
    assert direct.state == PaymentState.CONFIRMED


def test_permissions(team, three_plans):
    c, contract, order, (p1, p2, p3) = three_plans
    with pytest.raises(PermissionDenied):
        services.payment_record(actor=team.rep3, customer=c, amount="1.00")
    with pytest.raises(PermissionDenied):
        services.plan_void(plan=p1, actor=team.rep3)
    assert Payment.objects.count() == 0
    services.payment_record(actor=team.manager1, customer=c, amount="1.00")


def test_plan_update_and_void(team, three_plans):
    c, contract, order, (p1, p2, p3) = three_plans
    services.payment_record(actor=team.rep1, customer=c, amount="3500.00")
    with pytest.raises(ValidationError, match="500.00"):
        services.plan_update(plan=p2, actor=team.rep1, amount="499.99")
    p3 = services.plan_update(plan=p3, actor=team.rep1, due_on="2026-05-05", amount="2100")
    assert (p3.amount, p3.state) == (D("2100.00"), PlanState.OVERDUE)
    with pytest.raises(ValidationError, match="received"):
        services.plan_void(plan=p2, actor=team.rep1)
    services.plan_void(plan=p3, actor=team.rep1, reason="取消")
    _reload(p3, contract)
    assert (p3.state, contract.plans_count) == (PlanState.VOID, 2)
    assert CustomerBalance.objects.get(customer=c).owed == D("4500.00")


def test_reminders_and_overdue_told_once(
    team, three_plans, clock, committed_events, django_capture_on_commit_callbacks
):
    c, contract, order, (p1, p2, p3) = three_plans
    clock(date(2026, 5, 29))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.plans_remind(date(2026, 5, 29)) == {"due_soon": 1, "overdue": 2}
    assert services.plans_remind(date(2026, 5, 29)) == {"due_soon": 0, "overdue": 0}
    kinds = sorted(e.kind.code for e in committed_events if e.kind.code.startswith("plan_"))
    assert kinds == ["plan_due_soon", "plan_overdue", "plan_overdue"]
    overdue = [e for e in committed_events if e.kind.code == "plan_overdue"]
    assert overdue[0].recipients == (team.rep1.pk,) and overdue[0].webhook["outstanding"] == "3000.00"
