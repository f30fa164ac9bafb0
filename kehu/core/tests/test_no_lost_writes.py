"""No lost writes (PLT-5): 50 writers at the same moment, threads and forked processes, on the
suite's database (SQLite by default, on a file copy with the production settings; PostgreSQL
through scripts/with-postgres.sh). Each case: nobody's write is lost or doubled, the losers get a
clear message, and no writer sees "database is locked" or any other exception.

The harness is kehu/core/tests/race.py; the two-approver race stays in
kehu/approvals/tests/test_concurrency.py."""

from datetime import date
from decimal import Decimal as D  # noqa: N817

import pytest
from django.contrib.auth.hashers import make_password

from kehu.core.models import AuditAction, AuditEntry
from kehu.core.tests.race import production_database, race, race_processes
from kehu.users.models import User
from kehu.users.roles import Role

WRITERS = 50
CONCURRENT_EDIT = (
    "ConcurrentEditError",
    "Someone else changed this record while you were editing it. "
    "Reload the page to see their changes, then make yours again.",
)

pytestmark = pytest.mark.django_db(transaction=True)


def people(prefix: str, role: str, department, n: int = WRITERS, **extra) -> list[User]:
    password = make_password("kehu-test-pw")
    User.objects.bulk_create(
        [
            User(username=f"{prefix}{i:02d}", role=role, department=department, password=password, **extra)
            for i in range(n)
        ]
    )
    return list(User.objects.filter(username__startswith=prefix).order_by("username"))


def report(case: str, outcomes) -> None:
    """The figure the issue asks for: how long the race took on this database."""
    from django.db import connection

    print(f"\n[race] {case} on {connection.vendor}: {len(outcomes)} writers in {outcomes.seconds:.2f} s")


# ---- 1. the same customer ------------------------------------------------------------------------


@pytest.fixture
def editors(team):
    """50 sales managers of 华东销售部: each may edit rep1's customers."""
    return people("editor", Role.SALES_MANAGER, team.east)


@pytest.mark.parametrize("how", ["threads", "processes"])
def test_fifty_edits_of_one_version_one_wins(team, customer_of, editors, how, tmp_path):
    from kehu.customers.models import Customer
    from kehu.customers.services import customer_update

    customer = customer_of(team.rep1, address="苏州工业园区星湖街1号")
    version = customer.version

    def edit(i):
        customer_update(
            customer=Customer.objects.get(pk=customer.pk),
            actor=editors[i],
            expected_version=version,
            address=f"苏州工业园区星湖街{i + 100}号",
            city=f"城市{i}",
        )
        return i

    with production_database(tmp_path):
        outcomes = race(WRITERS, edit) if how == "threads" else race_processes(5, 10, edit)
    report(f"1. edit one customer ({how})", outcomes)

    assert len(outcomes.won) == 1, outcomes.errors()
    assert outcomes.errors() == {CONCURRENT_EDIT}
    assert len(outcomes.lost) == WRITERS - 1
    winner = outcomes.won[0].value
    saved = Customer.objects.get(pk=customer.pk)
    assert (saved.address, saved.city, saved.version) == (
        f"苏州工业园区星湖街{winner + 100}号",
        f"城市{winner}",
        version + 1,
    )
    audit = AuditEntry.objects.filter(
        target_type="customers.customer", target_id=customer.pk, action=AuditAction.UPDATE
    )
    assert [(a.actor_id, a.changes["address"][1]) for a in audit] == [(editors[winner].pk, saved.address)]


def test_fifty_api_edits_of_one_version_one_200_the_rest_409_in_their_language(team, customer_of, editors, tmp_path):
    """The same race through the API, as 50 integrations would run it: one 200, 49 answers 409 with
    the message in the caller's language; never a 500 or "database is locked"."""
    from django.test import Client

    from kehu.customers.models import Customer
    from kehu.users.services import api_token_create

    customer = customer_of(team.rep1)
    tokens = [api_token_create(user=e, name="race")[1] for e in editors]

    def patch(i):
        language = "zh-hans" if i % 2 else "en"
        client = Client(headers={"Authorization": f"Bearer {tokens[i]}", "Accept-Language": language})
        answer = client.patch(
            f"/api/v1/customers/{customer.pk}",
            data={"version": customer.version, "address": f"星湖街{i}号"},
            content_type="application/json",
        )
        return answer.status_code, language, answer.json().get("detail", "")

    with production_database(tmp_path):
        outcomes = race(WRITERS, patch)
    report("1. edit one customer through the API", outcomes)

    assert outcomes.errors() == set()
    assert sorted(o.value[0] for o in outcomes) == [200] + [409] * (WRITERS - 1)
    assert {o.value[1:] for o in outcomes if o.value[0] == 409} == {
        ("en", CONCURRENT_EDIT[1]),
        ("zh-hans", "您编辑期间，已有其他人修改并保存了这条记录。请刷新页面查看对方的修改，然后重新填写您的修改。"),
    }
    winner = next(o.index for o in outcomes if o.value[0] == 200)
    saved = Customer.objects.get(pk=customer.pk)
    assert (saved.address, saved.version) == (f"星湖街{winner}号", customer.version + 1)


@pytest.mark.parametrize("how", ["threads", "processes"])
def test_fifty_additions_to_one_customer_all_kept(team, customer_of, editors, how, tmp_path):
    """Half log an activity, half add a contact, all on the same customer at once: all 50 are there."""
    from kehu.activities.models import Activity
    from kehu.activities.services import activity_log
    from kehu.customers.models import Contact, Customer
    from kehu.customers.services import contact_create

    customer = customer_of(team.rep1)

    def add(i):
        if i % 2:
            return activity_log(customer=customer, actor=editors[i], kind="call", subject=f"电话 {i}").pk
        return contact_create(customer=customer, actor=editors[i], name=f"联系人{i}", mobile=f"138{i:08d}").pk

    with production_database(tmp_path):
        outcomes = race(WRITERS, add) if how == "threads" else race_processes(5, 10, add)
    report(f"1. add to one customer ({how})", outcomes)

    assert outcomes.errors() == set()
    assert sorted(Activity.objects.filter(customer=customer).values_list("subject", flat=True)) == sorted(
        f"电话 {i}" for i in range(1, WRITERS, 2)
    )
    assert sorted(Contact.objects.filter(customer=customer).values_list("name", "mobile")) == sorted(
        (f"联系人{i}", f"138{i:08d}") for i in range(0, WRITERS, 2)
    )
    created = AuditEntry.objects.filter(action=AuditAction.CREATE, actor__in=editors)
    assert created.count() == WRITERS
    assert Customer.objects.get(pk=customer.pk).version == customer.version  # additions do not bump it


# ---- 2. payments allocated to the same plans -----------------------------------------------------

NO_OPEN_PLANS = ("ValidationError", "This customer has no open plans to allocate to.")


@pytest.fixture
def plans(team, customer_of):
    """rep1's customer owes 10000 on an order in three instalments (3000, 5000, 2000): less than
    the 50 payments of 300 that race to them."""
    from kehu.orders.models import Order, OrderState
    from kehu.receivables.services import plans_from_terms

    customer = customer_of(team.rep1)
    order = Order.objects.create(
        number="SO2026-0001",
        customer=customer,
        owner=team.rep1,
        total=D("10000.00"),
        state=OrderState.CONFIRMED,
        ordered_on=date(2026, 3, 1),
    )
    terms = [
        {"amount": a, "due_on": d} for a, d in (("3000", "2026-04-01"), ("5000", "2026-05-01"), ("2000", "2026-06-01"))
    ]
    return customer, plans_from_terms(actor=team.rep1, order=order, terms=terms)


def assert_plans_add_up(customer, plans, *, full=True) -> dict:
    """Each plan received exactly what its allocation rows (less the rows undoing them) say, and no
    more than its amount (`full`: exactly its amount); no payment has two live allocations to one
    plan; each payment's allocated amount is the sum of its rows. Answers {payment id: allocated}."""
    from django.db.models import Count, Sum

    from kehu.receivables.models import Payment, PaymentAllocation, PaymentPlan

    rows = PaymentAllocation.objects.filter(plan__customer=customer)
    by_plan = dict(rows.values("plan").annotate(s=Sum("amount")).values_list("plan", "s"))
    for plan in PaymentPlan.objects.filter(pk__in=[p.pk for p in plans]):
        assert plan.received_amount == by_plan.get(plan.pk, D("0")), plan
        assert plan.received_amount == plan.amount if full else plan.received_amount <= plan.amount, plan
    live = rows.filter(undoes__isnull=True, undone_by__isnull=True)
    assert not live.values("payment", "plan").annotate(n=Count("pk")).filter(n__gt=1).exists()
    by_payment = dict(rows.values("payment").annotate(s=Sum("amount")).values_list("payment", "s"))
    allocated = dict(Payment.objects.filter(customer=customer).values_list("pk", "allocated_amount"))
    assert allocated == {pk: by_payment.get(pk, D("0.00")) for pk in allocated}
    return allocated


@pytest.mark.parametrize("how", ["threads", "processes"])
def test_fifty_allocations_to_the_same_plans_never_exceed_them(team, plans, how, tmp_path):
    """50 unallocated payments of 300 are allocated (oldest plan first) at the same moment: the
    plans take 10000 and not a fen more; 33 payments go in whole, one in part (100), 16 are told
    there is nothing left to allocate to."""
    from kehu.receivables.models import Payment
    from kehu.receivables.services import payment_allocate, payment_record

    customer, plans = plans
    payments = [
        payment_record(actor=team.rep1, customer=customer, amount="300.00", auto_allocate=False).pk
        for _ in range(WRITERS)
    ]

    def allocate(i):
        rows = payment_allocate(payment=Payment.objects.get(pk=payments[i]), actor=User.objects.get(pk=team.rep1.pk))
        return str(sum(r.amount for r in rows))

    with production_database(tmp_path):
        outcomes = race(WRITERS, allocate) if how == "threads" else race_processes(5, 10, allocate)
    report(f"2. allocate 50 payments to the same plans ({how})", outcomes)

    assert outcomes.errors() == {NO_OPEN_PLANS}
    assert sorted(o.value for o in outcomes.won) == ["100.00"] + ["300.00"] * 33
    allocated = assert_plans_add_up(customer, plans)
    assert sorted(allocated.values()) == [D("0.00")] * 16 + [D("100.00")] + [D("300.00")] * 33


def test_allocations_and_take_backs_at_once_keep_the_plans_exact(team, plans, tmp_path):
    """25 people take back the allocations of 25 payments (400 each, the plans' whole 10000) while
    25 others allocate 25 unallocated payments of 400 to the same plans: every take-back goes
    through, each allocation gets what was free at its turn (or is told nothing is open), and the
    plans hold exactly what the rows say."""
    from django.db.models import Sum

    from kehu.receivables.models import Payment, PaymentPlan
    from kehu.receivables.services import payment_allocate, payment_deallocate, payment_record

    customer, plans = plans
    half = WRITERS // 2
    taken = [payment_record(actor=team.rep1, customer=customer, amount="400.00").pk for _ in range(half)]
    free = [
        payment_record(actor=team.rep1, customer=customer, amount="400.00", auto_allocate=False).pk for _ in range(half)
    ]
    assert_plans_add_up(customer, plans)

    def move(i):
        actor = User.objects.get(pk=team.rep1.pk)
        if i < half:
            payment_deallocate(payment=Payment.objects.get(pk=taken[i]), actor=actor)
            return "0"
        return str(sum(r.amount for r in payment_allocate(payment=Payment.objects.get(pk=free[i - half]), actor=actor)))

    with production_database(tmp_path):
        outcomes = race(WRITERS, move)
    report("2. take back 25 allocations while 25 allocate", outcomes)

    assert outcomes.errors() <= {NO_OPEN_PLANS}
    assert all(o.ok for o in outcomes[:half])
    allocated = assert_plans_add_up(customer, plans, full=False)
    assert all(allocated[pk] == 0 for pk in taken)
    won = sum((D(o.value) for o in outcomes.won), D("0"))
    received = PaymentPlan.objects.filter(pk__in=[p.pk for p in plans]).aggregate(s=Sum("received_amount"))["s"]
    assert sum(allocated.values()) == won == received


def test_fifty_payment_approvals_at_once_allocate_each_fen_once(team, plans, tmp_path):
    """Payments need approval: finance approves 50 waiting payments of 300 of one customer at the
    same moment, and each is allocated (oldest plan first) as it is approved: all 50 approved, the
    plans take 10000 and not a fen more."""
    from kehu.approvals.services import open_request, request_act
    from kehu.receivables.models import Payment, PaymentState, ReceivablesSettings
    from kehu.receivables.services import APPROVAL_CODE, payment_record

    customer, plans = plans
    ReceivablesSettings.objects.update_or_create(pk=1, defaults={"payments_need_approval": True})
    finance = people("finance", Role.FINANCE, team.hq, n=1)[0]
    waiting = [payment_record(actor=team.rep1, customer=customer, amount="300.00").pk for _ in range(WRITERS)]
    requests = [open_request(APPROVAL_CODE, pk).pk for pk in waiting]

    def approve(i):
        from kehu.approvals.models import ApprovalRequest

        request_act(
            request=ApprovalRequest.objects.get(pk=requests[i]),
            actor=User.objects.get(pk=finance.pk),
            action="approve",
        )
        return i

    with production_database(tmp_path):
        outcomes = race(WRITERS, approve)
    report("2. approve 50 payments allocated on approval", outcomes)

    assert outcomes.errors() == set()
    assert set(Payment.objects.filter(pk__in=waiting).values_list("state", flat=True)) == {PaymentState.CONFIRMED}
    allocated = assert_plans_add_up(customer, plans)
    assert sorted(allocated.values()) == [D("0.00")] * 16 + [D("100.00")] + [D("300.00")] * 33


def test_fifty_payments_recorded_at_once_allocate_each_fen_once(team, plans, tmp_path):
    """50 payments of 300 recorded at the same moment, each allocated automatically as it is
    confirmed: every payment is kept under its own number, the plans take 10000, the other 5000
    stays unallocated on the customer."""
    from kehu.receivables.balances import balances_refresh
    from kehu.receivables.models import CustomerBalance, Payment
    from kehu.receivables.services import payment_record

    customer, plans = plans

    def record(i):
        payment = payment_record(
            actor=User.objects.get(pk=team.rep1.pk), customer=customer, amount="300.00", reference=f"BANK-{i}"
        )
        return payment.number

    with production_database(tmp_path):
        outcomes = race(WRITERS, record)
    report("2. record 50 payments allocated on confirmation", outcomes)

    assert outcomes.errors() == set()
    assert len({o.value for o in outcomes}) == WRITERS
    assert Payment.objects.filter(customer=customer).count() == WRITERS
    allocated = assert_plans_add_up(customer, plans)
    assert sorted(allocated.values()) == [D("0.00")] * 16 + [D("100.00")] + [D("300.00")] * 33
    balance = CustomerBalance.objects.get(customer=customer)
    assert (balance.owed, balance.unallocated) == (D("0.00"), D("5000.00"))
    balances_refresh([customer.pk])  # what was stored is what a fresh count gives
    assert CustomerBalance.objects.get(customer=customer).unallocated == D("5000.00")


# ---- 3. claims from the same pool ----------------------------------------------------------------


@pytest.fixture
def reps(team):
    return people("pooler", Role.SALES_REP, team.east, manager=team.manager1)


def test_fifty_reps_claim_one_pool_customer_one_owner(team, reps, tmp_path):
    """Each rep opens the customer and claims it (as the page does): one owner, one move, one
    timeline line; everyone else is told someone was faster."""
    from kehu.customers.models import Customer, TimelineEntry
    from kehu.pool.models import CustomerPoolState, MoveKind, PoolMove
    from kehu.pool.services import pool_claim
    from kehu.pool.tests.factories import make_pool

    make_pool(name="华东公海")
    customer = Customer.objects.create(name="无主客户有限公司", region="浙江", tier="ordinary")

    def claim(i):
        pool_claim(customer=Customer.objects.get(pk=customer.pk), actor=reps[i])
        return i

    with production_database(tmp_path):
        outcomes = race(WRITERS, claim)
    report("3. claim one pool customer", outcomes)

    assert len(outcomes.won) == 1, outcomes.errors()
    assert outcomes.errors() <= {
        ("PoolConflictError", "Someone else took this customer a moment ago."),
        ("PoolConflictError", "This customer is no longer in the public pool."),
    }
    winner = reps[outcomes.won[0].value]
    assert Customer.objects.get(pk=customer.pk).owner == winner
    assert list(PoolMove.objects.filter(customer=customer).values_list("kind", "to_owner")) == [
        (MoveKind.CLAIM, winner.pk)
    ]
    assert CustomerPoolState.objects.get(customer=customer).owned_since is not None
    assert TimelineEntry.objects.filter(customer=customer, kind="pool_claimed").count() == 1


@pytest.mark.parametrize("limit", ["max_owned", "max_claims_per_day"])
def test_claim_limits_hold_under_concurrency(team, reps, limit, tmp_path):
    """10 reps with a limit of 1 each race 5 times for 50 different pool customers: each rep gets
    exactly one, the other 4 attempts of each are refused with the limit's message."""
    from kehu.customers.models import Customer
    from kehu.pool.models import MoveKind, PoolMove
    from kehu.pool.services import pool_claim
    from kehu.pool.tests.factories import make_pool

    make_pool(name="华东公海", **{limit: 1})
    Customer.objects.bulk_create([Customer(name=f"公海客户{i:02d}", region="浙江") for i in range(WRITERS)])
    customers = list(Customer.objects.filter(name__startswith="公海客户").order_by("name"))
    racers = reps[:10]

    def claim(i):
        pool_claim(customer=Customer.objects.get(pk=customers[i].pk), actor=racers[i % 10])
        return racers[i % 10].pk

    with production_database(tmp_path):
        outcomes = race(WRITERS, claim)
    report(f"3. claim limit {limit}", outcomes)

    assert sorted(o.value for o in outcomes.won) == sorted(r.pk for r in racers)
    if limit == "max_owned":
        refused = {f"{r} already owns 1 customers; the limit of pool 华东公海 is 1." for r in racers}
    else:
        refused = {"You have claimed 1 customers today; pool 华东公海 allows 1 a day."}
    assert {o.error for o in outcomes.lost} == {"PoolConflictError"}
    assert {o.message for o in outcomes.lost} == refused
    assert len(outcomes.lost) == WRITERS - 10
    for rep in racers:
        assert Customer.objects.filter(owner=rep).count() == 1
        assert PoolMove.objects.filter(to_owner=rep, kind=MoveKind.CLAIM).count() == 1


# ---- 4. one 或签 request, 50 approvers -----------------------------------------------------------


def test_fifty_approvers_of_an_any_one_step_make_one_decision(team, customer_of, tmp_path):
    """50 approvers of an any-one (或签) step decide the same request at once, half approving and
    half rejecting: one decision, one logged action; the other 49 are told it was decided."""
    from kehu.approvals.models import ActionKind, ApprovalRequest, ApproverTask, RequestState, TaskState
    from kehu.approvals.services import flow_save, request_act, request_submit
    from kehu.approvals.tests.conftest import step

    approvers = people("approver", Role.SALES_MANAGER, team.east)
    flow_save(
        document_type="customer.credit",
        steps=[step(approvers=[{"kind": "person", "user": a.pk} for a in approvers])],
        actor=team.admin,
    )
    request = request_submit(document_type="customer.credit", record=customer_of(team.rep1), actor=team.rep1)
    assert ApproverTask.objects.filter(request=request, state=TaskState.PENDING).count() == WRITERS

    def decide(i):
        action = {"action": "approve"} if i % 2 else {"action": "reject", "comment": f"不同意 {i}"}
        request_act(request=ApprovalRequest.objects.get(pk=request.pk), actor=approvers[i], **action)
        return i

    with production_database(tmp_path):
        outcomes = race(WRITERS, decide)
    report("4. decide one any-one request", outcomes)

    assert len(outcomes.won) == 1, outcomes.errors()
    assert outcomes.errors() == {
        (
            "ConcurrentEditError",
            "This request was already decided by someone else, or it is no longer at your step: reload to see it.",
        )
    }
    winner = outcomes.won[0].value
    request.refresh_from_db()
    assert request.state == (RequestState.APPROVED if winner % 2 else RequestState.REJECTED)
    decided = ApproverTask.objects.filter(request=request, state__in=[TaskState.APPROVED, TaskState.REJECTED])
    assert list(decided.values_list("approver", flat=True)) == [approvers[winner].pk]
    assert request.actions.filter(kind__in=[ActionKind.APPROVED, ActionKind.REJECTED]).count() == 1
    assert not ApproverTask.objects.filter(request=request, state=TaskState.PENDING).exists()
