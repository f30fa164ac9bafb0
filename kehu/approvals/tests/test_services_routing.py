"""Routing through the database: requests, steps, actions, delegation, time limits (ACC-6).

The credit limit of a prospect (default 0) is the document used: am1 (east, under manager1, who
reports to the general manager) asks; the flows are set per test."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kehu.approvals import selectors, services
from kehu.approvals.models import ActionKind, ApprovalRequest, ApproverTask, RequestState, TaskState
from kehu.approvals.tests.conftest import step
from kehu.classification.models import CreditRecord
from kehu.core.exceptions import ConcurrentEditError
from kehu.customers.models import TimelineEntry

pytestmark = pytest.mark.django_db
T0 = datetime(2030, 3, 4, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def tasks(request, step_index=None):
    qs = ApproverTask.objects.filter(request=request).order_by("step", "position", "id")
    if step_index is not None:
        qs = qs.filter(step=step_index)
    return [(t.approver.username, t.state) for t in qs.select_related("approver")]


def act(request, who, action="approve", **kw):
    return services.request_act(request=request, actor=who, action=action, **kw)


def state(request):
    request.refresh_from_db()
    return request.state, request.step


TIERS = [
    step("manager"),
    step(
        "director", [{"kind": "person", "user": None}], conditions=[{"field": "amount", "op": "gt", "value": "50000"}]
    ),
    step(
        "gm",
        [{"kind": "role", "role": "general_manager"}],
        conditions=[{"field": "amount", "op": "gt", "value": "200000"}],
    ),
]


@pytest.mark.parametrize(
    ("limit", "approvers"),
    [
        ("30000", ["manager1"]),
        ("80000", ["manager1", "manager2"]),
        ("300000", ["manager1", "manager2", "gm"]),
    ],
)
def test_amount_tiers_route_through_different_steps(org, flow, ask, limit, approvers):
    tiers = [dict(s) for s in TIERS]
    tiers[1]["approvers"] = [{"kind": "person", "user": org.manager2.pk}]
    flow(*tiers)
    request = ask(limit)
    seen = []
    while request.state == RequestState.PENDING:
        pending = ApproverTask.objects.get(request=request, state=TaskState.PENDING)
        seen.append(pending.approver.username)
        act(request, pending.approver)
        request.refresh_from_db()
    assert seen == approvers
    assert request.state == RequestState.APPROVED
    record = CreditRecord.objects.get(customer_id=request.object_id)
    assert (record.limit, record.rating, record.set_by) == (int(limit), "A", org.am1)


def test_the_credit_limit_takes_effect_only_on_approval(org, flow, ask, customer):
    flow(step())
    request = ask("80000")
    assert not CreditRecord.objects.exists()
    assert request.facts["amount"] == "80000.00" and request.facts["tier"] == "prospect"
    with pytest.raises(ValidationError, match="waiting for approval"):
        from kehu.classification.services import credit_set

        credit_set(customer=customer, actor=org.am1, rating="B", limit=0)
    act(request, org.manager1)
    assert CreditRecord.objects.get().limit == 80000


def test_a_limit_within_the_tier_default_needs_no_approval(org, customer):
    from kehu.classification.services import credit_set

    customer.tier = "ordinary"
    customer.save(update_fields=["tier"])
    record = credit_set(customer=customer, actor=org.am1, rating="A", limit=50000)
    assert isinstance(record, CreditRecord) and not ApprovalRequest.objects.exists()


def test_a_vacant_manager_post_goes_to_the_administrator(org, flow, ask):
    org.am1.manager = None
    org.am1.save(update_fields=["manager"])
    flow(step(if_none="admin"))
    assert tasks(ask()) == [("admin", "pending")]


def test_a_vacant_manager_post_is_skipped_when_the_step_says_so(org, flow, ask):
    org.am1.manager = None
    org.am1.save(update_fields=["manager"])
    flow(step(if_none="skip"), step("gm", [{"kind": "person", "user": org.gm.pk}]))
    request = ask()
    assert tasks(request) == [("gm", "pending")]
    assert request.step == 1
    assert list(request.actions.values_list("kind", flat=True)) == ["submitted", "skipped"]


def test_a_vacant_post_goes_to_the_named_fallback(org, flow, ask):
    org.am1.manager = None
    org.am1.save(update_fields=["manager"])
    flow(step(if_none="fallback", fallback=org.manager2.pk))
    assert tasks(ask()) == [("manager2", "pending")]


@pytest.mark.parametrize(
    ("rule", "expected"),
    [("up", [("gm", "pending")]), ("allow", [("manager1", "pending")])],
)
def test_requester_is_approver(org, flow, ask, rule, expected):
    flow(step(approvers=[{"kind": "person", "user": org.manager1.pk}], if_requester=rule))
    assert tasks(ask(actor=org.manager1)) == expected


def test_requester_is_the_only_approver_and_is_skipped_approves_at_once(org, flow, ask):
    flow(step(approvers=[{"kind": "person", "user": org.manager1.pk}], if_requester="skip", if_none="skip"))
    request = ask(actor=org.manager1)
    assert request.state == RequestState.APPROVED
    assert CreditRecord.objects.get().limit == 80000


def test_countersign_needs_everyone(org, flow, ask):
    flow(
        step(approvers=[{"kind": "person", "user": org.manager1.pk}, {"kind": "person", "user": org.gm.pk}], mode="all")
    )
    request = ask()
    act(request, org.gm)
    assert state(request) == (RequestState.PENDING, 0)
    act(request, org.manager1)
    assert state(request) == (RequestState.APPROVED, 0)


def test_any_one_decides_and_the_other_is_told(org, flow, ask):
    flow(
        step(approvers=[{"kind": "person", "user": org.manager1.pk}, {"kind": "person", "user": org.gm.pk}], mode="any")
    )
    request = ask()
    act(request, org.gm)
    assert state(request)[0] == RequestState.APPROVED
    assert tasks(request) == [("manager1", "cancelled"), ("gm", "approved")]
    with pytest.raises(ConcurrentEditError, match="already decided"):
        act(request, org.manager1)


def test_in_sequence_one_after_another(org, flow, ask):
    flow(step(approvers=[{"kind": "levels", "levels": 2}], mode="sequence"))
    request = ask()
    assert tasks(request) == [("manager1", "pending"), ("gm", "waiting")]
    with pytest.raises(ConcurrentEditError):  # not their turn yet
        act(request, org.gm)
    act(request, org.manager1)
    assert tasks(request) == [("manager1", "approved"), ("gm", "pending")]
    act(request, org.gm)
    assert state(request)[0] == RequestState.APPROVED


def test_top_down_sequence_starts_with_the_highest(org, flow, ask):
    flow(step(approvers=[{"kind": "levels", "levels": 2, "order": "top_down"}], mode="sequence"))
    assert tasks(ask()) == [("gm", "pending"), ("manager1", "waiting")]


def test_department_head(org, flow, ask):
    org.east.head = org.manager2  # not the line manager, to tell them apart
    org.east.save(update_fields=["head"])
    flow(step(approvers=[{"kind": "department_head"}]))
    assert tasks(ask()) == [("manager2", "pending")]


def test_reject_needs_a_reason_and_ends_the_request(org, flow, ask):
    flow(step(), step("gm", [{"kind": "person", "user": org.gm.pk}]))
    request = ask()
    with pytest.raises(ValidationError, match="reason"):
        act(request, org.manager1, "reject")
    assert tasks(request) == [("manager1", "pending")]
    act(request, org.manager1, "reject", comment="信用调查不足")
    assert state(request) == (RequestState.REJECTED, 0)
    assert not CreditRecord.objects.exists()
    assert request.decided_by == org.manager1


def test_return_to_the_requester_and_submit_again(org, flow, ask):
    flow(step(), step("gm", [{"kind": "person", "user": org.gm.pk}]))
    request = ask()
    act(request, org.manager1)
    with pytest.raises(ValidationError, match="corrected"):
        act(request, org.gm, "return")
    act(request, org.gm, "return", comment="补充调查报告")
    assert state(request) == (RequestState.RETURNED, 1)
    with pytest.raises(PermissionDenied):
        act(request, org.manager1, "resubmit")
    act(request, org.am1, "resubmit")
    assert state(request) == (RequestState.PENDING, 0)
    assert tasks(request, 0)[-1] == ("manager1", "pending")


def test_return_to_an_earlier_step(org, flow, ask):
    flow(step(), step("gm", [{"kind": "person", "user": org.gm.pk}]))
    request = ask()
    act(request, org.manager1)
    with pytest.raises(ValidationError):
        act(request, org.gm, "return", comment="再看看", to_step=1)  # not a passed step
    act(request, org.gm, "return", comment="经理再看看", to_step=0)
    assert state(request) == (RequestState.PENDING, 0)
    assert tasks(request) == [("manager1", "approved"), ("manager1", "pending"), ("gm", "returned")]


def test_add_an_approver(org, flow, ask):
    flow(step())
    request = ask()
    act(request, org.manager1, "add", user=org.manager2.pk)
    act(request, org.manager1)
    assert state(request)[0] == RequestState.PENDING  # 加签: the added one must approve too
    act(request, org.manager2)
    assert state(request)[0] == RequestState.APPROVED
    assert list(request.actions.values_list("kind", flat=True)) == ["submitted", "added", "approved", "approved"]


def test_transfer(org, flow, ask):
    flow(step())
    request = ask()
    with pytest.raises(ValidationError):
        act(request, org.manager1, "transfer", user=org.manager1.pk)
    act(request, org.manager1, "transfer", user=org.manager2.pk, comment="我出差")
    assert tasks(request) == [("manager1", "transferred"), ("manager2", "pending")]
    with pytest.raises(ConcurrentEditError):
        act(request, org.manager1)
    act(request, org.manager2)
    assert state(request)[0] == RequestState.APPROVED


@pytest.mark.parametrize(
    ("today", "may_act"),
    [(date(2030, 3, 3), False), (date(2030, 3, 4), True), (date(2030, 3, 8), True), (date(2030, 3, 9), False)],
)
def test_delegation_dates(org, flow, ask, today, may_act):
    flow(step())
    request = ask()
    services.delegation_create(
        user=org.manager1,
        delegate=org.manager2,
        starts_on=date(2030, 3, 4),
        ends_on=date(2030, 3, 8),
        actor=org.manager1,
    )
    now = datetime.combine(today, datetime.min.time(), tzinfo=ZoneInfo("Asia/Shanghai")).replace(hour=10)
    if may_act:
        act(request, org.manager2, now=now)
        task = ApproverTask.objects.get(request=request)
        assert (task.approver, task.acted_by, task.state) == (org.manager1, org.manager2, "approved")
        assert request.actions.get(kind=ActionKind.APPROVED).on_behalf_of == org.manager1
    else:
        with pytest.raises(PermissionDenied):
            act(request, org.manager2, now=now)


def test_a_delegate_sees_the_task_in_the_inbox_within_the_dates(org, flow, ask):
    flow(step())
    ask()
    today = date.today()
    assert selectors.inbox_count(org.manager2) == 0
    services.delegation_create(
        user=org.manager1, delegate=org.manager2, starts_on=today, ends_on=today, actor=org.manager1
    )
    assert selectors.inbox_count(org.manager2) == 1
    assert selectors.inbox_count(org.manager1) == 1


def test_delegation_rules(org):
    with pytest.raises(ValidationError):
        services.delegation_create(
            user=org.am1, delegate=org.am1, starts_on=date(2030, 1, 1), ends_on=date(2030, 1, 2), actor=org.am1
        )
    with pytest.raises(ValidationError):
        services.delegation_create(
            user=org.am1, delegate=org.rep2, starts_on=date(2030, 1, 2), ends_on=date(2030, 1, 1), actor=org.am1
        )
    with pytest.raises(PermissionDenied):
        services.delegation_create(
            user=org.am1, delegate=org.rep2, starts_on=date(2030, 1, 1), ends_on=date(2030, 1, 2), actor=org.rep2
        )
    services.delegation_create(
        user=org.am1, delegate=org.rep2, starts_on=date(2030, 1, 1), ends_on=date(2030, 1, 5), actor=org.am1
    )
    with pytest.raises(ValidationError, match="overlap"):
        services.delegation_create(
            user=org.am1, delegate=org.manager1, starts_on=date(2030, 1, 5), ends_on=date(2030, 1, 9), actor=org.am1
        )


def test_time_limit_reminds_then_escalates_on_a_controlled_clock(
    org, flow, customer, told, django_capture_on_commit_callbacks
):
    from kehu.classification.services import credit_set

    flow(step(hours=24, escalate=True))
    request = services.request_submit(
        document_type="customer.credit", record=customer, actor=org.am1, facts={"amount": "1"}, now=T0
    )
    task = ApproverTask.objects.get(request=request)
    assert task.due_at == T0 + timedelta(hours=24)
    assert services.approvals_tick(now=T0 + timedelta(hours=23)) == {"reminded": 0, "escalated": 0}
    with django_capture_on_commit_callbacks(execute=True):
        assert services.approvals_tick(now=T0 + timedelta(hours=24)) == {"reminded": 1, "escalated": 0}
    assert told[-1] == ("approval_reminded", (org.manager1.pk,))
    assert services.approvals_tick(now=T0 + timedelta(hours=30)) == {"reminded": 0, "escalated": 0}
    with django_capture_on_commit_callbacks(execute=True):
        assert services.approvals_tick(now=T0 + timedelta(hours=48)) == {"reminded": 0, "escalated": 1}
    assert told[-1] == ("approval_requested", (org.gm.pk,))
    assert tasks(request) == [("manager1", "escalated"), ("gm", "pending")]
    assert ApproverTask.objects.get(approver=org.gm).due_at == T0 + timedelta(hours=72)
    assert credit_set  # the same module used by the others


def test_without_escalation_a_late_task_is_reminded_once(org, flow, customer):
    flow(step(hours=2, escalate=False))
    services.request_submit(document_type="customer.credit", record=customer, actor=org.am1, now=T0)
    assert services.approvals_tick(now=T0 + timedelta(hours=3))["reminded"] == 1
    assert services.approvals_tick(now=T0 + timedelta(days=9)) == {"reminded": 0, "escalated": 0}


def test_the_requester_hurries_at_most_once_an_hour(org, flow, ask):
    flow(step())
    request = ask()
    act(request, org.am1, "remind", now=T0)
    with pytest.raises(ValidationError, match="less than an hour"):
        act(request, org.am1, "remind", now=T0 + timedelta(minutes=59))
    act(request, org.am1, "remind", now=T0 + timedelta(minutes=61))
    with pytest.raises(PermissionDenied):
        act(request, org.manager1, "remind")


def test_revoke_by_the_requester_only(org, flow, ask):
    flow(step())
    request = ask()
    with pytest.raises(PermissionDenied):
        act(request, org.manager1, "revoke")
    act(request, org.am1, "revoke")
    assert state(request)[0] == RequestState.REVOKED
    assert tasks(request) == [("manager1", "cancelled")]
    with pytest.raises(ValidationError):
        act(request, org.am1, "revoke")


def test_copies_and_recipients(org, flow, ask, told, django_capture_on_commit_callbacks):
    flow(step(cc=[{"kind": "person", "user": org.service1.pk}]))
    with django_capture_on_commit_callbacks(execute=True):
        request = ask()
    assert told == [
        ("approval_requested", (org.manager1.pk,)),
        ("approval_copied", (org.service1.pk,)),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        act(request, org.manager1, "cc", user=org.marketing1.pk)
        act(request, org.manager1)
    assert told[2:] == [
        ("approval_copied", (org.marketing1.pk,)),
        ("approval_approved", (org.am1.pk, org.service1.pk, org.marketing1.pk)),
    ]
    assert selectors.inbox(org.service1, selectors.COPIED).get() == request


def test_decisions_go_on_the_customers_timeline(org, flow, ask, customer):
    flow(step(), step("gm", [{"kind": "person", "user": org.gm.pk}]))
    request = ask()
    act(request, org.manager1)
    act(request, org.gm, "reject", comment="额度过高")
    kinds = list(
        TimelineEntry.objects.filter(customer=customer, kind__startswith="approval_")
        .order_by("occurred_at", "id")
        .values_list("kind", flat=True)
    )
    assert kinds == ["approval_requested", "approval_rejected"]


def test_requests_in_flight_keep_their_flow_version(org, flow, ask, customer):
    flow(step())
    request = ask()
    flow(step(approvers=[{"kind": "person", "user": org.gm.pk}]), step("x", [{"kind": "person", "user": org.admin.pk}]))
    act(request, org.manager1)
    assert state(request)[0] == RequestState.APPROVED  # one step, as when it started
    assert request.flow_version.number == 2 and services.flow_get("customer.credit").current.number == 3


def test_one_open_request_per_record(org, flow, customer):
    flow(step())
    services.request_submit(document_type="customer.credit", record=customer, actor=org.am1)
    with pytest.raises(ValidationError, match="already has a request"):
        services.request_submit(document_type="customer.credit", record=customer, actor=org.am1)


def test_flows_are_saved_by_administrators_only_and_validated(org):
    with pytest.raises(PermissionDenied):
        services.flow_save(document_type="customer.credit", steps=[step()], actor=org.manager1)
    with pytest.raises(ValidationError) as caught:
        services.flow_save(document_type="customer.credit", steps=[step(mode="x")], actor=org.admin)
    assert caught.value.message_dict == {"steps": ["Step 1: choose how several approvers decide."]}
    assert services.flow_get("customer.credit").current.number == 1


def test_the_periodic_job_is_scheduled():
    from kehu.core.schedule import discover

    assert discover()["kehu.approvals.tasks.approvals_time_limits"].every == timedelta(minutes=5)
