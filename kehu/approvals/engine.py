"""The routing rules as pure functions over plain data, so they are tested as tables.

A flow version's `steps` is a list of dicts:

    {
      "name": "Sales director",
      "conditions": [{"field": "amount", "op": "gt", "value": "100000"}],  # all must hold
      "approvers": [{"kind": "manager"}, {"kind": "person", "user": 7},
                    {"kind": "levels", "levels": 2, "order": "bottom_up"},
                    {"kind": "department_head"}, {"kind": "role", "role": "general_manager"}],
      "mode": "all" | "any" | "sequence",          # 会签 / 或签 / one after another
      "if_none": "skip" | "admin" | "fallback", "fallback": 3,
      "if_requester": "skip" | "allow" | "up",
      "hours": 24,                                  # time limit; 0 = none
      "escalate": true,                             # past twice the limit: the approver's supervisor
      "cc": [{"kind": "person", "user": 9}],        # copied when the step starts
    }

`Org` is the company's chart as dicts, loaded once per decision (kehu.approvals.services).
"""

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from kehu.approvals.registry import CHOICE, DECIMAL, DEPARTMENT

MODES = ("all", "any", "sequence")
IF_NONE = ("skip", "admin", "fallback")
IF_REQUESTER = ("skip", "allow", "up")
APPROVER_KINDS = ("person", "manager", "levels", "department_head", "role")
OPS = {DECIMAL: ("gt", "gte", "lt", "lte", "eq"), CHOICE: ("in", "not_in"), DEPARTMENT: ("under", "not_under")}
MAX_STEPS, MAX_LEVELS = 20, 10


@dataclass
class Org:
    managers: dict = field(default_factory=dict)  # user id -> manager id
    departments: dict = field(default_factory=dict)  # user id -> department id
    parents: dict = field(default_factory=dict)  # department id -> parent id
    heads: dict = field(default_factory=dict)  # department id -> head user id
    roles: dict = field(default_factory=dict)  # role -> [user ids]
    active: set = field(default_factory=set)
    admins: list = field(default_factory=list)


# --- conditions ----------------------------------------------------------------------------------


def _decimal(value) -> Decimal | None:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def condition_holds(condition: dict, facts: dict, fields: dict) -> bool:
    """Whether one condition holds; a fact the record lacks never satisfies a condition."""
    spec = fields.get(condition.get("field"))
    fact = facts.get(condition.get("field"))
    if spec is None or fact is None:
        return False
    op, value = condition.get("op"), condition.get("value")
    if spec.kind == DECIMAL:
        left, right = _decimal(fact), _decimal(value)
        if left is None or right is None:
            return False
        return {
            "gt": left > right,
            "gte": left >= right,
            "lt": left < right,
            "lte": left <= right,
            "eq": left == right,
        }.get(op, False)
    if spec.kind == CHOICE:
        values = [str(v) for v in (value if isinstance(value, list) else [value])]
        return (str(fact) in values) if op == "in" else (str(fact) not in values) if op == "not_in" else False
    if spec.kind == DEPARTMENT:
        inside = f"/{value}/" in str(fact)
        return inside if op == "under" else (not inside) if op == "not_under" else False
    return False


def step_applies(step: dict, facts: dict, fields: dict) -> bool:
    return all(condition_holds(c, facts, fields) for c in step.get("conditions", ()))


def next_step(steps: list, after: int, facts: dict, fields: dict) -> int | None:
    """The first step after index `after` (-1: from the start) whose conditions hold."""
    for index in range(after + 1, len(steps)):
        if step_applies(steps[index], facts, fields):
            return index
    return None


# --- approvers -----------------------------------------------------------------------------------


def manager_chain(user_id: int, org: Org, levels: int) -> list[int]:
    chain, seen, current = [], {user_id}, user_id
    while len(chain) < levels:
        current = org.managers.get(current)
        if current is None or current in seen:
            break
        seen.add(current)
        chain.append(current)
    return chain


def resolve(spec: dict, requester: int, org: Org) -> list[int]:
    """The people one approver spec names for this requester (vacant posts give nobody)."""
    kind = spec.get("kind")
    if kind == "person":
        found = [spec.get("user")]
    elif kind == "manager":
        found = manager_chain(requester, org, 1)
    elif kind == "levels":
        found = manager_chain(requester, org, max(1, min(int(spec.get("levels") or 1), MAX_LEVELS)))
        if spec.get("order") == "top_down":
            found.reverse()
    elif kind == "department_head":
        found = [org.heads.get(org.departments.get(requester))]
    elif kind == "role":
        found = list(org.roles.get(spec.get("role"), ()))
    else:
        found = []
    return [u for u in found if u is not None and u in org.active]


def step_approvers(step: dict, requester: int, org: Org) -> tuple[list[int], str]:
    """(approver ids in order, how they were found: "ok", "skip", "admin" or "fallback")."""
    people: list[int] = []
    for spec in step.get("approvers", ()):
        for user in resolve(spec, requester, org):
            if user not in people:
                people.append(user)
    if requester in people:
        rule = step.get("if_requester", "skip")
        if rule == "skip":
            people.remove(requester)
        elif rule == "up":
            # Their direct supervisor instead (dropped when already an approver, or when vacant).
            above = [u for u in manager_chain(requester, org, 1) if u not in people]
            index = people.index(requester)
            people[index : index + 1] = above
    if people:
        return people, "ok"
    rule = step.get("if_none", "admin")
    if rule == "skip":
        return [], "skip"
    if rule == "fallback" and step.get("fallback") in org.active:
        return [step["fallback"]], "fallback"
    return ([org.admins[0]], "admin") if org.admins else ([], "skip")


def copy_to(step: dict, requester: int, org: Org) -> list[int]:
    people: list[int] = []
    for spec in step.get("cc", ()):
        people += [u for u in resolve(spec, requester, org) if u not in people and u != requester]
    return people


def plan_tasks(mode: str, approvers: list[int]) -> list[tuple[int, int, str]]:
    """(approver, position, state) of a step's tasks: in a sequence only the first starts."""
    return [
        (user, position, "waiting" if mode == "sequence" and position else "pending")
        for position, user in enumerate(approvers)
    ]


# --- a step's progress ---------------------------------------------------------------------------

GONE = ("transferred", "escalated", "cancelled", "returned")


@dataclass(frozen=True)
class TaskView:
    id: int
    state: str
    position: int = 0
    is_added: bool = False


@dataclass(frozen=True)
class Progress:
    outcome: str  # "approved", "rejected" or "open"
    activate: tuple = ()  # task ids to start (the next in a sequence)
    cancel: tuple = ()  # task ids no longer needed (或签 decided)


def step_progress(mode: str, tasks: list[TaskView]) -> Progress:
    """Where a step stands after an action. 加签 tasks must always approve; the others follow the
    step's mode: everyone (会签), any one (或签), or everyone in order."""
    live = [t for t in tasks if t.state not in GONE]
    if any(t.state == "rejected" for t in live):
        return Progress("rejected", cancel=tuple(t.id for t in live if t.state in ("pending", "waiting")))
    base = [t for t in live if not t.is_added]
    added = [t for t in live if t.is_added]
    if mode == "any":
        base_done = not base or any(t.state == "approved" for t in base)
    else:
        base_done = all(t.state == "approved" for t in base)
    added_done = all(t.state == "approved" for t in added)
    if base_done and added_done:
        return Progress("approved", cancel=tuple(t.id for t in live if t.state in ("pending", "waiting")))
    cancel = ()
    if mode == "any" and base_done:
        cancel = tuple(t.id for t in base if t.state in ("pending", "waiting"))
    activate = ()
    if mode == "sequence" and not any(t.state == "pending" for t in base):
        waiting = sorted((t for t in base if t.state == "waiting"), key=lambda t: (t.position, t.id))
        activate = (waiting[0].id,) if waiting else ()
    return Progress("open", activate=activate, cancel=cancel)


# --- delegation ----------------------------------------------------------------------------------


def acting_for(actor: int, approver: int, delegations: list[tuple[int, int, object, object]], today) -> bool:
    """Whether `actor` may act on `approver`'s task today: themselves, or their delegate within
    the delegation's dates. `delegations` are (user, delegate, starts_on, ends_on)."""
    if actor == approver:
        return True
    return any(u == approver and d == actor and s <= today <= e for u, d, s, e in delegations)


# --- time limits ---------------------------------------------------------------------------------


def overdue_action(*, due_at, reminded_at, escalate: bool, hours: float, now) -> str:
    """What the periodic job does with a pending task: "remind" once it is due, "escalate" (when the
    step says so) once a second time limit has passed since it was due, else ""."""
    if due_at is None or now < due_at:
        return ""
    from datetime import timedelta

    if escalate and hours and now >= due_at + timedelta(hours=hours):
        return "escalate"
    return "remind" if reminded_at is None else ""


# --- validation of an edited flow ----------------------------------------------------------------


def steps_problems(steps, fields: dict, *, users: set, roles: set) -> list[str]:
    """Every problem of an edited flow, in words; [] when it can be saved."""
    problems: list[str] = []
    if not isinstance(steps, list) or not steps:
        return [_("A flow needs at least one step.")]
    if len(steps) > MAX_STEPS:
        return [_("A flow has at most %(n)s steps.") % {"n": MAX_STEPS}]
    for number, step in enumerate(steps, 1):
        where = _("Step %(n)s") % {"n": number}
        if not isinstance(step, dict):
            problems.append(f"{where}: " + _("not a step."))
            continue
        if step.get("mode") not in MODES:
            problems.append(f"{where}: " + _("choose how several approvers decide."))
        if step.get("if_none", "admin") not in IF_NONE:
            problems.append(f"{where}: " + _("choose what happens when nobody is found."))
        if step.get("if_none") == "fallback" and step.get("fallback") not in users:
            problems.append(f"{where}: " + _("choose the fallback approver."))
        if step.get("if_requester", "skip") not in IF_REQUESTER:
            problems.append(f"{where}: " + _("choose what happens when the requester is an approver."))
        hours = step.get("hours", 0)
        if not isinstance(hours, int | float) or isinstance(hours, bool) or not 0 <= hours <= 24 * 90:
            problems.append(f"{where}: " + _("the time limit is between 0 and 2160 hours."))
        approvers = step.get("approvers")
        if not isinstance(approvers, list) or not approvers:
            problems.append(f"{where}: " + _("name at least one approver."))
            approvers = []
        for spec in approvers + list(step.get("cc", [])):
            kind = spec.get("kind") if isinstance(spec, dict) else None
            if kind not in APPROVER_KINDS:
                problems.append(f"{where}: " + _("unknown kind of approver."))
            elif kind == "person" and spec.get("user") not in users:
                problems.append(f"{where}: " + _("choose an active user."))
            elif kind == "role" and spec.get("role") not in roles:
                problems.append(f"{where}: " + _("choose a role."))
            elif kind == "levels" and not (isinstance(spec.get("levels"), int) and 1 <= spec["levels"] <= MAX_LEVELS):
                problems.append(f"{where}: " + _("supervisor levels are between 1 and 10."))
        for condition in step.get("conditions", []):
            spec = fields.get(condition.get("field")) if isinstance(condition, dict) else None
            if spec is None:
                problems.append(f"{where}: " + _("a condition names an unknown field."))
            elif condition.get("op") not in OPS[spec.kind]:
                problems.append(f"{where}: " + _("a condition has an unknown comparison."))
            elif spec.kind == DECIMAL and _decimal(condition.get("value")) is None:
                problems.append(f"{where}: " + _("a condition's amount is not a number."))
            elif spec.kind == CHOICE and not condition.get("value"):
                problems.append(f"{where}: " + _("a condition needs at least one value."))
    return problems
