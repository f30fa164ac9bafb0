"""The routing rules as tables: conditions, approver resolution, step progress, delegation dates
and time limits (pure functions, no database)."""

from datetime import date, datetime, timedelta

import pytest

from kehu.approvals import engine
from kehu.approvals.engine import Org, TaskView
from kehu.approvals.registry import DEPARTMENT_FIELD, choice_field, decimal_field

FIELDS = {
    "amount": decimal_field("amount"),
    "tier": choice_field("tier", [("prospect", "P"), ("ordinary", "O"), ("key", "K")]),
    "department": DEPARTMENT_FIELD,
}

# 1 CEO ← 2 director ← 3 manager ← 4 rep; 5 is an administrator; 6 has nobody above.
ORG = Org(
    managers={4: 3, 3: 2, 2: 1},
    departments={4: 30, 3: 30, 2: 20, 1: 10, 6: 40},
    parents={30: 20, 20: 10, 10: None, 40: 10},
    heads={30: 3, 20: 2, 10: 1},
    roles={"sales_manager": [3], "general_manager": [1, 7], "administrator": [5]},
    active={1, 2, 3, 4, 5, 6},
    admins=[5],
)

# Amount tiers: ≤ 50k the manager; 50k–200k also the director; > 200k also the CEO.
TIERED = [
    {"name": "manager", "approvers": [{"kind": "manager"}], "mode": "any"},
    {
        "name": "director",
        "conditions": [{"field": "amount", "op": "gt", "value": "50000"}],
        "approvers": [{"kind": "levels", "levels": 2}],
        "mode": "sequence",
    },
    {
        "name": "ceo",
        "conditions": [{"field": "amount", "op": "gt", "value": "200000"}],
        "approvers": [{"kind": "person", "user": 1}],
        "mode": "any",
    },
]


def route(steps, facts):
    """The indexes of the steps a request with these facts passes through."""
    passed, index = [], -1
    while (index := engine.next_step(steps, index, facts, FIELDS)) is not None:
        passed.append(index)
    return passed


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("0", [0]),
        ("50000", [0]),
        ("50000.01", [0, 1]),
        ("200000", [0, 1]),
        ("200001", [0, 1, 2]),
        ("not a number", [0]),
        ("NaN", [0]),
        (None, [0]),
    ],
)
def test_amount_tiers_route_differently(amount, expected):
    assert route(TIERED, {"amount": amount}) == expected


@pytest.mark.parametrize(
    ("condition", "facts", "holds"),
    [
        ({"field": "amount", "op": "gte", "value": "10"}, {"amount": "10"}, True),
        ({"field": "amount", "op": "lt", "value": "10"}, {"amount": "10"}, False),
        ({"field": "amount", "op": "lte", "value": "10"}, {"amount": "10.00"}, True),
        ({"field": "amount", "op": "eq", "value": "10"}, {"amount": "10.00"}, True),
        ({"field": "tier", "op": "in", "value": ["key", "ordinary"]}, {"tier": "key"}, True),
        ({"field": "tier", "op": "in", "value": ["key"]}, {"tier": "prospect"}, False),
        ({"field": "tier", "op": "not_in", "value": ["key"]}, {"tier": "prospect"}, True),
        ({"field": "tier", "op": "in", "value": "key"}, {"tier": "key"}, True),
        ({"field": "department", "op": "under", "value": 20}, {"department": "/10/20/30/"}, True),
        ({"field": "department", "op": "under", "value": 2}, {"department": "/10/20/30/"}, False),
        ({"field": "department", "op": "not_under", "value": 40}, {"department": "/10/20/30/"}, True),
        ({"field": "unknown", "op": "in", "value": ["x"]}, {"unknown": "x"}, False),
        ({"field": "tier", "op": "gt", "value": "1"}, {"tier": "key"}, False),
        ({"field": "tier", "op": "in", "value": ["key"]}, {}, False),
    ],
)
def test_conditions(condition, facts, holds):
    assert engine.condition_holds(condition, facts, FIELDS) is holds


@pytest.mark.parametrize(
    ("spec", "requester", "expected"),
    [
        ({"kind": "manager"}, 4, [3]),
        ({"kind": "manager"}, 6, []),  # a vacant manager post
        ({"kind": "levels", "levels": 2}, 4, [3, 2]),
        ({"kind": "levels", "levels": 2, "order": "top_down"}, 4, [2, 3]),
        ({"kind": "levels", "levels": 9}, 4, [3, 2, 1]),
        ({"kind": "department_head"}, 4, [3]),
        ({"kind": "department_head"}, 6, []),
        ({"kind": "role", "role": "general_manager"}, 4, [1]),  # 7 is not active
        ({"kind": "person", "user": 2}, 4, [2]),
        ({"kind": "person", "user": 99}, 4, []),
        ({"kind": "nonsense"}, 4, []),
    ],
)
def test_approver_resolution(spec, requester, expected):
    assert engine.resolve(spec, requester, ORG) == expected


@pytest.mark.parametrize(
    ("step", "requester", "expected"),
    [
        # vacant manager post: the rule for nobody found
        ({"approvers": [{"kind": "manager"}], "if_none": "skip"}, 6, ([], "skip")),
        ({"approvers": [{"kind": "manager"}], "if_none": "admin"}, 6, ([5], "admin")),
        ({"approvers": [{"kind": "manager"}], "if_none": "fallback", "fallback": 2}, 6, ([2], "fallback")),
        ({"approvers": [{"kind": "manager"}], "if_none": "fallback", "fallback": 99}, 6, ([5], "admin")),
        # the requester is the approver
        ({"approvers": [{"kind": "department_head"}], "if_requester": "skip", "if_none": "skip"}, 3, ([], "skip")),
        ({"approvers": [{"kind": "department_head"}], "if_requester": "allow"}, 3, ([3], "ok")),
        ({"approvers": [{"kind": "department_head"}], "if_requester": "up"}, 3, ([2], "ok")),
        (
            {"approvers": [{"kind": "person", "user": 3}, {"kind": "person", "user": 2}], "if_requester": "up"},
            3,
            ([2], "ok"),  # the one above already approves: no duplicate
        ),
        ({"approvers": [{"kind": "person", "user": 1}], "if_requester": "up", "if_none": "admin"}, 1, ([5], "admin")),
        # duplicates named twice count once, in order
        (
            {"approvers": [{"kind": "manager"}, {"kind": "department_head"}, {"kind": "person", "user": 2}]},
            4,
            ([3, 2], "ok"),
        ),
    ],
)
def test_step_approvers(step, requester, expected):
    assert engine.step_approvers(step, requester, ORG) == expected


def test_nobody_found_and_no_administrator_skips():
    assert engine.step_approvers({"approvers": [{"kind": "manager"}]}, 6, Org(active={6})) == ([], "skip")


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("any", [(3, 0, "pending"), (2, 1, "pending")]),
        ("all", [(3, 0, "pending"), (2, 1, "pending")]),
        ("sequence", [(3, 0, "pending"), (2, 1, "waiting")]),
    ],
)
def test_plan_tasks(mode, expected):
    assert engine.plan_tasks(mode, [3, 2]) == expected


def T(id, state, position=0, added=False):  # noqa: N802 - a row of the table
    return TaskView(id, state, position, added)


@pytest.mark.parametrize(
    ("mode", "tasks", "expected"),
    [
        # 或签: one approval decides the step, the others are no longer needed
        ("any", [T(1, "approved"), T(2, "pending")], engine.Progress("approved", cancel=(2,))),
        ("any", [T(1, "pending"), T(2, "pending")], engine.Progress("open")),
        # 会签: everyone
        ("all", [T(1, "approved"), T(2, "pending")], engine.Progress("open")),
        ("all", [T(1, "approved"), T(2, "approved")], engine.Progress("approved")),
        ("all", [T(1, "approved"), T(2, "rejected"), T(3, "pending")], engine.Progress("rejected", cancel=(3,))),
        # in sequence: the next one starts
        (
            "sequence",
            [T(1, "approved", 0), T(2, "waiting", 1), T(3, "waiting", 2)],
            engine.Progress("open", activate=(2,)),
        ),
        ("sequence", [T(1, "approved", 0), T(2, "approved", 1)], engine.Progress("approved")),
        # transferred tasks no longer count; their replacement does
        ("all", [T(1, "transferred"), T(2, "approved"), T(3, "approved")], engine.Progress("approved")),
        # 加签: the added approver must approve even in 或签
        (
            "any",
            [T(1, "approved"), T(2, "pending"), T(3, "pending", added=True)],
            engine.Progress("open", cancel=(2,)),
        ),
        ("any", [T(1, "approved"), T(2, "cancelled"), T(3, "approved", added=True)], engine.Progress("approved")),
        ("sequence", [T(1, "pending", 0), T(2, "waiting", 1), T(3, "pending", 0, True)], engine.Progress("open")),
    ],
)
def test_step_progress(mode, tasks, expected):
    assert engine.step_progress(mode, tasks) == expected


DELEGATIONS = [(3, 9, date(2030, 5, 1), date(2030, 5, 7))]


@pytest.mark.parametrize(
    ("actor", "approver", "today", "allowed"),
    [
        (3, 3, date(2030, 1, 1), True),
        (9, 3, date(2030, 4, 30), False),
        (9, 3, date(2030, 5, 1), True),
        (9, 3, date(2030, 5, 7), True),
        (9, 3, date(2030, 5, 8), False),
        (9, 2, date(2030, 5, 3), False),
        (8, 3, date(2030, 5, 3), False),
    ],
)
def test_delegation_dates(actor, approver, today, allowed):
    assert engine.acting_for(actor, approver, DELEGATIONS, today) is allowed


NOON = datetime(2030, 5, 1, 12, 0)


@pytest.mark.parametrize(
    ("now", "reminded", "escalate", "expected"),
    [
        (NOON - timedelta(minutes=1), None, True, ""),
        (NOON, None, True, "remind"),
        (NOON + timedelta(hours=23), None, True, "remind"),
        (NOON + timedelta(hours=23), NOON, True, ""),
        (NOON + timedelta(hours=24), NOON, True, "escalate"),
        (NOON + timedelta(hours=24), NOON, False, ""),
        (NOON + timedelta(hours=24), None, False, "remind"),
    ],
)
def test_time_limits(now, reminded, escalate, expected):
    assert engine.overdue_action(due_at=NOON, reminded_at=reminded, escalate=escalate, hours=24, now=now) == expected


def test_no_due_date_means_no_reminder():
    assert engine.overdue_action(due_at=None, reminded_at=None, escalate=True, hours=0, now=NOON) == ""


GOOD = {"name": "x", "approvers": [{"kind": "manager"}], "mode": "any", "hours": 24}


@pytest.mark.parametrize(
    ("steps", "problem"),
    [
        ([], "A flow needs at least one step."),
        ([{**GOOD, "mode": "some"}], "Step 1: choose how several approvers decide."),
        ([{**GOOD, "approvers": []}], "Step 1: name at least one approver."),
        ([{**GOOD, "approvers": [{"kind": "person", "user": 42}]}], "Step 1: choose an active user."),
        ([{**GOOD, "approvers": [{"kind": "role", "role": "pope"}]}], "Step 1: choose a role."),
        (
            [{**GOOD, "approvers": [{"kind": "levels", "levels": 11}]}],
            "Step 1: supervisor levels are between 1 and 10.",
        ),
        ([{**GOOD, "hours": -1}], "Step 1: the time limit is between 0 and 2160 hours."),
        ([{**GOOD, "if_none": "fallback"}], "Step 1: choose the fallback approver."),
        (
            [GOOD, {**GOOD, "conditions": [{"field": "colour", "op": "in", "value": ["red"]}]}],
            "Step 2: a condition names an unknown field.",
        ),
        (
            [{**GOOD, "conditions": [{"field": "amount", "op": "in", "value": "1"}]}],
            "Step 1: a condition has an unknown comparison.",
        ),
        (
            [{**GOOD, "conditions": [{"field": "amount", "op": "gt", "value": "abc"}]}],
            "Step 1: a condition's amount is not a number.",
        ),
        (
            [{**GOOD, "conditions": [{"field": "tier", "op": "in", "value": []}]}],
            "Step 1: a condition needs at least one value.",
        ),
    ],
)
def test_flow_validation(steps, problem):
    assert engine.steps_problems(steps, FIELDS, users={1, 2}, roles={"sales_manager"}) == [problem]


def test_a_good_flow_has_no_problems():
    assert engine.steps_problems(TIERED, FIELDS, users={1}, roles=set()) == []
