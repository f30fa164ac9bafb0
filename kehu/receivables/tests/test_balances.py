from datetime import date
from decimal import Decimal as D  # noqa: N817

from kehu.receivables import services
from kehu.receivables.balances import balances_rebuild, balances_refresh, balances_roll
from kehu.receivables.models import CustomerBalance, DueDay, PaymentPlan, PlanState


def test_balances_definitions(team, customer_of, order_of, contract_of, clock):
    clock(date(2026, 4, 10))
    c = customer_of(team.rep1)
    order = order_of(c, total="10000.00")
    order.invoiced_amount = D("4000.00")
    order.save()
    contract = contract_of(c, amount="5000.00")
    services.plans_from_terms(
        actor=team.rep1,
        order=order,
        terms=[
            {"percent": "30", "basis": "fixed", "due_on": "2026-04-01"},
            {"percent": "70", "basis": "fixed", "due_on": "2026-05-01"},
        ],
    )
    services.plans_from_terms(
        actor=team.rep1, contract=contract, terms=[{"amount": "5000", "basis": "fixed", "due_on": "2026-04-10"}]
    )
    b = CustomerBalance.objects.get(customer=c)
    assert (b.owed, b.overdue, b.not_due) == (D("15000.00"), D("3000.00"), D("12000.00"))
    assert b.not_invoiced == D("6000.00")
    # orders: 10000 − 0 received; contract-level plan outstanding 5000
    assert b.exposure == D("15000.00")
    assert b.oldest_due_on == date(2026, 4, 1)
    assert b.owner_id == team.rep1.pk
    services.payment_record(actor=team.rep1, customer=c, amount="3500.00", received_on=date(2026, 4, 10))
    b.refresh_from_db()
    assert (b.owed, b.overdue, b.unallocated) == (D("11500.00"), D("0.00"), D("0.00"))
    # oldest due first: 3000 on the 1 April instalment, 500 on the contract's of 10 April
    assert b.exposure == D("7000.00") + D("4500.00")
    days = {(d.due_on, d.outstanding, d.plans) for d in DueDay.objects.filter(owner=team.rep1)}
    assert days == {(date(2026, 5, 1), D("7000.00"), 1), (date(2026, 4, 10), D("4500.00"), 1)}


def test_refresh_runs_a_fixed_number_of_queries(team, customer_of, order_of, django_assert_max_num_queries):
    ids = []
    for i in range(6):
        c = customer_of(team.rep1, name=f"客户{i}有限公司")
        o = order_of(c, total="100.00")
        services.plans_from_terms(
            actor=team.rep1, order=o, terms=[{"percent": "100", "basis": "fixed", "due_on": f"2026-04-0{i + 1}"}]
        )
        ids.append(c.pk)
    # 4 reads, the balances' upsert and delete, 3 reads and an upsert of the due days, a savepoint
    with django_assert_max_num_queries(12) as one:
        balances_refresh(ids[:1])
    with django_assert_max_num_queries(12) as six:
        balances_refresh(ids)
    assert len(one) == len(six)
    CustomerBalance.objects.all().delete()
    DueDay.objects.all().delete()
    assert balances_rebuild(batch=4) >= 6
    assert CustomerBalance.objects.filter(customer_id__in=ids, owed=D("100.00")).count() == 6
    assert DueDay.objects.filter(owner=team.rep1).count() == 6


def test_roll_moves_states_and_overdue(team, customer_of, order_of, clock):
    clock(date(2026, 4, 1))
    c = customer_of(team.rep1)
    o = order_of(c, total="1000.00")
    services.plans_from_terms(
        actor=team.rep1, order=o, terms=[{"percent": "100", "basis": "fixed", "due_on": "2026-04-05"}]
    )
    plan = PaymentPlan.objects.get(order=o)
    assert plan.state == PlanState.NOT_DUE
    clock(date(2026, 4, 2))  # three days before (the default reminder window): due
    balances_roll(date(2026, 4, 2))
    plan.refresh_from_db()
    assert plan.state == PlanState.DUE
    assert CustomerBalance.objects.get(customer=c).overdue == D("0.00")
    clock(date(2026, 4, 6))
    assert balances_roll(date(2026, 4, 6)) == {c.pk}
    plan.refresh_from_db()
    assert plan.state == PlanState.OVERDUE
    assert CustomerBalance.objects.get(customer=c).overdue == D("1000.00")


def test_a_merge_of_two_customers_with_balances_leaves_one_balance_of_both(team, customer_of, order_of, clock):
    from kehu.customers.merge import customer_merge

    clock(date(2026, 4, 10))
    target, source = customer_of(team.rep1), customer_of(team.rep1)
    for customer, amount in ((target, "1000.00"), (source, "2500.00")):
        services.plans_from_terms(
            actor=team.rep1,
            order=order_of(customer, total=amount),
            terms=[{"percent": "100", "basis": "fixed", "due_on": "2026-04-01"}],
        )
    assert CustomerBalance.objects.filter(customer__in=[target, source]).count() == 2
    customer_merge(target=target, sources=[source], actor=team.manager1)
    assert list(CustomerBalance.objects.filter(customer=source)) == []
    b = CustomerBalance.objects.get(customer=target)
    assert (b.owed, b.overdue, b.exposure) == (D("3500.00"), D("3500.00"), D("3500.00"))
