"""Every write of approvals: submitting a record, acting on it, the periodic job, delegations and
flows. The routing itself is decided by the pure functions of `kehu.approvals.engine`.

Two approvers acting at once: each action locks the request row first (select_for_update; on
SQLite the IMMEDIATE transaction serialises writers), then claims its task with a conditional
UPDATE, so exactly one decision wins and the other is told the task was already decided.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from kehu.approvals import engine, registry
from kehu.approvals import events as kinds
from kehu.approvals.models import (
    OPEN_STATES,
    ActionKind,
    ApprovalAction,
    ApprovalCopy,
    ApprovalFlow,
    ApprovalRequest,
    ApproverTask,
    Delegation,
    FlowVersion,
    RequestState,
    TaskState,
)
from kehu.core import events
from kehu.core.exceptions import ConcurrentEditError
from kehu.core.text import check_text
from kehu.users.models import Department, User
from kehu.users.roles import Role

MANAGE = "approvals.manage_flows"
ACTIONS = ("approve", "reject", "return", "add", "transfer", "revoke", "remind", "cc", "resubmit")
DEFAULT_STEPS = (
    {
        "name": gettext_noop("Direct supervisor"),  # translated where shown
        "conditions": [],
        "approvers": [{"kind": "manager"}],
        "mode": "any",
        "if_none": "admin",
        "if_requester": "up",
        "hours": 24,
        "escalate": True,
        "cc": [],
    },
)
ALREADY_DECIDED = gettext_lazy(
    "This request was already decided by someone else, or it is no longer at your step: reload to see it."
)
REMIND_EVERY = timedelta(hours=1)  # a requester's 催办 at most once an hour


def _refuse(message) -> ValidationError:
    return ValidationError(message, code="approval")


# --- the company's chart -------------------------------------------------------------------------


def org_load() -> engine.Org:
    """Managers, departments, heads and roles of every active user, in two queries."""
    org = engine.Org()
    for pk, manager, department, role, is_superuser in User.objects.filter(is_active=True).values_list(
        "pk", "manager_id", "department_id", "role", "is_superuser"
    ):
        org.active.add(pk)
        if manager:
            org.managers[pk] = manager
        if department:
            org.departments[pk] = department
        org.roles.setdefault(role, []).append(pk)
        if is_superuser or role == Role.ADMINISTRATOR:
            org.admins.append(pk)
    org.admins.sort()
    for pk, parent, head in Department.objects.values_list("pk", "parent_id", "head_id"):
        org.parents[pk] = parent
        if head:
            org.heads[pk] = head
    return org


# --- flows ---------------------------------------------------------------------------------------


def _type(code: str) -> registry.DocumentType:
    document_type = registry.get(code)
    if document_type is None:
        raise _refuse(_("Unknown document type."))
    return document_type


def flow_get(code: str) -> ApprovalFlow:
    """The type's flow; the first time, made from the type's default steps (version 1)."""
    document_type = _type(code)
    flow = ApprovalFlow.objects.select_related("current").filter(document_type=code).first()
    if flow is not None and flow.current_id:
        return flow
    with transaction.atomic():
        flow, _created = ApprovalFlow.objects.get_or_create(
            document_type=code, defaults={"is_active": not document_type.optional}
        )
        if flow.current_id is None:
            version = FlowVersion.objects.create(
                flow=flow, number=1, steps=list(document_type.default_steps or DEFAULT_STEPS)
            )
            flow.current = version
            flow.save(update_fields=["current"])
    return flow


@dataclass(frozen=True)
class FlowView:
    """A flow as shown, read without writing: a type nobody edited yet shows its default steps."""

    is_active: bool
    number: int
    steps: list
    versions: list


def flow_view(code: str) -> FlowView:
    document_type = _type(code)
    flow = ApprovalFlow.objects.select_related("current").filter(document_type=code).first()
    if flow is None or flow.current is None:
        default = list(document_type.default_steps or DEFAULT_STEPS)
        return FlowView(not document_type.optional if flow is None else flow.is_active, 1, default, [])
    versions = list(flow.versions.select_related("created_by").order_by("-number")[:10])
    return FlowView(flow.is_active, flow.current.number, flow.current.steps, versions)


def approval_required(code: str) -> bool:
    """Whether records of this type ask for approval now (an optional type's flow may be off).
    One read; a type whose flow was never touched answers from its registration."""
    is_active = ApprovalFlow.objects.filter(document_type=code).values_list("is_active", flat=True).first()
    return (not _type(code).optional) if is_active is None else is_active


def _flow_problems(code: str, steps) -> list[str]:
    users = set(User.objects.filter(is_active=True).values_list("pk", flat=True))
    return engine.steps_problems(steps, _type(code).all_fields(), users=users, roles=set(Role.values))


@transaction.atomic
def flow_save(*, document_type: str, steps: list, actor: User, is_active: bool | None = None) -> FlowVersion:
    """Save an edited flow as a new version; requests in flight keep the version they started with."""
    if not actor.has_perm(MANAGE):
        raise PermissionDenied
    problems = _flow_problems(document_type, steps)
    if problems:
        raise ValidationError({"steps": problems})
    flow = ApprovalFlow.objects.select_for_update().get(pk=flow_get(document_type).pk)
    number = (flow.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    version = FlowVersion.objects.create(flow=flow, number=number, steps=steps, created_by=actor)
    flow.current = version
    if is_active is not None:
        flow.is_active = is_active
    flow.updated_at = timezone.now()
    flow.save(update_fields=["current", "is_active", "updated_at"])
    return version


@transaction.atomic
def flow_set_active(*, document_type: str, is_active: bool, actor: User) -> ApprovalFlow:
    if not actor.has_perm(MANAGE):
        raise PermissionDenied
    flow = flow_get(document_type)
    ApprovalFlow.objects.filter(pk=flow.pk).update(is_active=is_active, updated_at=timezone.now())
    flow.is_active = is_active
    return flow


# --- reading a record's state --------------------------------------------------------------------


def open_request(code: str, object_id: int) -> ApprovalRequest | None:
    return ApprovalRequest.objects.filter(document_type=code, object_id=object_id, state__in=OPEN_STATES).first()


def record_locked(code: str, object_id: int) -> bool:
    """A record in approval cannot be edited (a returned one can: the requester corrects it)."""
    return ApprovalRequest.objects.filter(document_type=code, object_id=object_id, state=RequestState.PENDING).exists()


def check_unlocked(code: str, object_id: int) -> None:
    if record_locked(code, object_id):
        raise _refuse(_("This record is waiting for approval and cannot be changed until it is decided."))


def edit_needs_approval(code: str, object_id: int, changed_fields) -> bool:
    """An edit of approved fields of an approved record goes back to approval."""
    document_type = registry.get(code)
    if document_type is None or not set(changed_fields) & set(document_type.locked_fields):
        return False
    last = (
        ApprovalRequest.objects.filter(document_type=code, object_id=object_id)
        .order_by("-created_at", "-id")
        .values_list("state", flat=True)
        .first()
    )
    return last == RequestState.APPROVED and approval_required(code)


# --- submitting ----------------------------------------------------------------------------------


def _plain(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _facts(document_type: registry.DocumentType, record, requester: User, extra: dict | None = None) -> dict:
    facts = dict(document_type.facts(record))
    facts.update(extra or {})
    department = Department.objects.filter(pk=requester.department_id).values_list("path", flat=True).first()
    facts["department"] = department or ""
    return _plain(facts)


def _link(request: ApprovalRequest) -> str:
    return f"/approvals/{request.pk}/"


def _notify_people(approvers, today) -> list[int]:
    """The approvers and whoever acts for them today."""
    people = list(dict.fromkeys(approvers))
    people += list(
        Delegation.objects.filter(user_id__in=people, starts_on__lte=today, ends_on__gte=today).values_list(
            "delegate_id", flat=True
        )
    )
    return list(dict.fromkeys(people))


def _log(request, kind, *, actor=None, step=None, on_behalf_of=None, target=None, comment="", now=None):
    return ApprovalAction.objects.create(
        request=request,
        step=request.step if step is None else step,
        kind=kind,
        actor=actor,
        on_behalf_of=on_behalf_of,
        target=target,
        comment=comment,
        at=now or timezone.now(),
    )


def _event(kind, request, *, actor, notify, summary="", on_timeline=True):
    events.record(
        kind,
        actor=actor,
        subject=request,
        customer_id=request.customer_id if on_timeline else None,
        summary=summary or request.title,
        payload={"approval_request": request.pk, "document_type": request.document_type},
        webhook={
            "request_id": request.pk,
            "document_type": request.document_type,
            "object_id": request.object_id,
            "customer_id": request.customer_id,
            "state": request.state,
            "step": request.step,
            "requester_id": request.requester_id,
        },
        notify=notify,
        link=_link(request),
    )


@transaction.atomic
def request_submit(
    *,
    document_type: str,
    record,
    actor: User,
    snapshot: dict | None = None,
    proposal: dict | None = None,
    facts: dict | None = None,
    reason: str = "",
    now=None,
) -> ApprovalRequest:
    """Ask for approval of `record`; `facts` overrides what the record says (a proposed amount)."""
    now = now or timezone.now()
    kind = _type(document_type)
    if reason:
        check_text(reason, field="reason", multiline=True)
    flow = flow_get(document_type)
    request = ApprovalRequest(
        document_type=document_type,
        object_id=record.pk,
        customer_id=kind.customer_id(record),
        title=str(kind.title(record))[:200],
        requester=actor,
        flow_version=flow.current,
        snapshot=_plain(snapshot or {}),
        facts=_facts(kind, record, actor, facts),
        proposal=_plain(proposal or {}),
        reason=reason,
        created_at=now,
    )
    try:
        with transaction.atomic():
            request.save()
    except IntegrityError:
        raise _refuse(_("This record already has a request in approval.")) from None
    _log(request, ActionKind.SUBMITTED, actor=actor, step=0, now=now)
    _advance(request, after=-1, actor=actor, now=now, first=True)
    return request


def _advance(request: ApprovalRequest, *, after: int, actor, now, first=False, org=None) -> None:
    """Start the next step whose conditions hold; none left: the request is approved."""
    kind = _type(request.document_type)
    steps = request.flow_version.steps
    org = org or org_load()
    index = after
    while True:
        index = engine.next_step(steps, index, request.facts, kind.all_fields())
        if index is None:
            _finish(request, RequestState.APPROVED, actor=actor, now=now)
            return
        step = steps[index]
        approvers, how = engine.step_approvers(step, request.requester_id, org)
        request.step = index
        if not approvers:
            _log(request, ActionKind.SKIPPED, now=now)
            continue
        _start_step(request, index, step, approvers, how, actor=actor, now=now, first=first, org=org)
        return


def _due(step: dict, now):
    hours = step.get("hours") or 0
    return now + timedelta(hours=hours) if hours else None


def _start_step(request, index, step, approvers, how, *, actor, now, first, org) -> None:
    due = _due(step, now)
    ApproverTask.objects.bulk_create(
        [
            ApproverTask(
                request=request,
                step=index,
                position=position,
                approver_id=user,
                state=state,
                due_at=due if state == TaskState.PENDING else None,
                created_at=now,
            )
            for user, position, state in engine.plan_tasks(step.get("mode", "any"), approvers)
        ]
    )
    ApprovalRequest.objects.filter(pk=request.pk).update(step=index, state=RequestState.PENDING)
    request.state = RequestState.PENDING
    pending = approvers[:1] if step.get("mode") == "sequence" else approvers
    _event(
        kinds.REQUESTED,
        request,
        actor=actor,
        notify=_notify_people(pending, timezone.localdate(now)),
        on_timeline=first,
    )
    copies = [u for u in engine.copy_to(step, request.requester_id, org)]
    if copies:
        _copy(request, copies, actor=actor, now=now)


def _copy(request, users, *, actor, now) -> None:
    known = set(ApprovalCopy.objects.filter(request=request, user_id__in=users).values_list("user_id", flat=True))
    new = [u for u in dict.fromkeys(users) if u not in known]
    if not new:
        return
    ApprovalCopy.objects.bulk_create([ApprovalCopy(request=request, user_id=u, created_at=now) for u in new])
    ApprovalAction.objects.bulk_create(
        [
            ApprovalAction(request=request, step=request.step, kind=ActionKind.COPIED, actor=actor, target_id=u, at=now)
            for u in new
        ]
    )
    _event(kinds.COPIED, request, actor=actor, notify=new, on_timeline=False)


def _finish(request: ApprovalRequest, state: str, *, actor, now, comment="") -> None:
    """The decision: tasks still open are cancelled; approval applies, rejection restores."""
    request.state, request.decided_at = state, now
    request.decided_by = actor if getattr(actor, "pk", None) else None
    request.version += 1
    request.save(update_fields=["state", "decided_at", "decided_by", "version", "step"])
    ApproverTask.objects.filter(request=request, state__in=[TaskState.PENDING, TaskState.WAITING]).update(
        state=TaskState.CANCELLED
    )
    kind = _type(request.document_type)
    record = kind.model._base_manager.filter(pk=request.object_id).first()
    if record is not None:
        if state == RequestState.APPROVED and kind.apply:
            kind.apply(record, request)
        if state in (RequestState.REJECTED, RequestState.REVOKED):
            if request.snapshot and kind.restore:
                kind.restore(record, request.snapshot)
            if kind.rejected:
                kind.rejected(record, request, actor)
    event_kind = {
        RequestState.APPROVED: kinds.APPROVED,
        RequestState.REJECTED: kinds.REJECTED,
        RequestState.REVOKED: kinds.REVOKED,
    }[state]
    copied = list(ApprovalCopy.objects.filter(request=request).values_list("user_id", flat=True))
    if state == RequestState.REVOKED:
        told = list(
            ApproverTask.objects.filter(request=request, step=request.step).values_list("approver_id", flat=True)
        )
    else:
        told = [request.requester_id]
    summary = f"{request.title}: {comment}" if comment else request.title
    _event(event_kind, request, actor=actor, notify=told + copied, summary=summary)


# --- acting --------------------------------------------------------------------------------------


def _delegations_for(actor: User, today) -> list[tuple]:
    return list(
        Delegation.objects.filter(delegate=actor, starts_on__lte=today, ends_on__gte=today).values_list(
            "user_id", "delegate_id", "starts_on", "ends_on"
        )
    )


def actionable_task(request: ApprovalRequest, actor: User, now=None) -> ApproverTask | None:
    """The pending task of the current step this actor may decide (their own, or one delegated to
    them today); None when there is none."""
    if request.state != RequestState.PENDING:
        return None
    today = timezone.localdate(now or timezone.now())
    tasks = list(
        ApproverTask.objects.filter(request=request, step=request.step, state=TaskState.PENDING).order_by("position")
    )
    delegations = _delegations_for(actor, today)
    own = [t for t in tasks if t.approver_id == actor.pk]
    if own:
        return own[0]
    return next((t for t in tasks if engine.acting_for(actor.pk, t.approver_id, delegations, today)), None)


def _user(user_id, field: str) -> User:
    user = User.objects.filter(pk=user_id, is_active=True).first() if user_id else None
    if user is None:
        raise ValidationError({field: _("Choose an active user.")})
    return user


@transaction.atomic
def request_act(
    *,
    request: ApprovalRequest,
    actor: User,
    action: str,
    comment: str = "",
    to_step: int | None = None,
    user: int | None = None,
    now=None,
) -> ApprovalRequest:
    """One action on a request. approve / reject (a reason required) / return (to the requester,
    `to_step` None, or to an earlier step) / add (加签 `user`) / transfer (转交 to `user`) by the
    approver at hand; revoke / remind (催办) / resubmit by the requester; cc (抄送 `user`) by either."""
    now = now or timezone.now()
    if action not in ACTIONS:
        raise ValidationError({"action": _("Unknown action.")})
    if comment:
        check_text(comment, field="comment", multiline=True)
    # Lock the request: concurrent actions on it run one after the other.
    request = ApprovalRequest.objects.select_for_update().select_related("flow_version").get(pk=request.pk)
    if action in ("revoke", "remind", "resubmit"):
        return _requester_act(request, actor, action, comment=comment, now=now)
    if action == "cc":
        if (
            actor.pk != request.requester_id
            and not ApproverTask.objects.filter(request=request, approver=actor).exists()
        ):
            raise PermissionDenied
        if not request.is_open and request.state != RequestState.APPROVED:
            raise _refuse(_("This request is closed."))
        _copy(request, [_user(user, "user").pk], actor=actor, now=now)
        return request
    task = actionable_task(request, actor, now)
    if task is None:
        if (
            request.state != RequestState.PENDING
            or ApproverTask.objects.filter(request=request, approver=actor).exists()
            or _was_delegate(request, actor)
        ):
            raise ConcurrentEditError(ALREADY_DECIDED)
        raise PermissionDenied
    on_behalf = task.approver if task.approver_id != actor.pk else None
    step = request.flow_version.steps[request.step]
    if action == "approve":
        _check_may_approve(request, actor)
        _claim(task, TaskState.APPROVED, actor, comment, now)
        _log(request, ActionKind.APPROVED, actor=actor, on_behalf_of=on_behalf, comment=comment, now=now)
        _progress(request, step, actor=actor, now=now)
    elif action == "reject":
        if not comment.strip():
            raise ValidationError({"comment": _("Give the reason for the rejection.")})
        _claim(task, TaskState.REJECTED, actor, comment, now)
        _log(request, ActionKind.REJECTED, actor=actor, on_behalf_of=on_behalf, comment=comment, now=now)
        _finish(request, RequestState.REJECTED, actor=actor, now=now, comment=comment)
    elif action == "return":
        _return(request, task, actor, on_behalf, comment=comment, to_step=to_step, now=now)
    elif action == "add":
        added = _user(user, "user")
        if ApproverTask.objects.filter(
            request=request, step=request.step, approver=added, state__in=[TaskState.PENDING, TaskState.WAITING]
        ).exists():
            raise ValidationError({"user": _("This person already approves at this step.")})
        ApproverTask.objects.create(
            request=request,
            step=request.step,
            position=task.position,
            approver=added,
            is_added=True,
            due_at=_due(step, now),
            created_at=now,
        )
        _log(request, ActionKind.ADDED, actor=actor, on_behalf_of=on_behalf, target=added, comment=comment, now=now)
        _event(
            kinds.REQUESTED,
            request,
            actor=actor,
            notify=_notify_people([added.pk], timezone.localdate(now)),
            on_timeline=False,
        )
    elif action == "transfer":
        to = _user(user, "user")
        if to.pk in (task.approver_id, actor.pk):
            raise ValidationError({"user": _("Transfer to someone else.")})
        _claim(task, TaskState.TRANSFERRED, actor, comment, now)
        ApproverTask.objects.create(
            request=request,
            step=task.step,
            position=task.position,
            approver=to,
            is_added=task.is_added,
            due_at=_due(step, now),
            created_at=now,
        )
        _log(request, ActionKind.TRANSFERRED, actor=actor, on_behalf_of=on_behalf, target=to, comment=comment, now=now)
        _event(
            kinds.REQUESTED,
            request,
            actor=actor,
            notify=_notify_people([to.pk], timezone.localdate(now)),
            on_timeline=False,
        )
    return request


def _check_may_approve(request: ApprovalRequest, actor: User) -> None:
    """The type's own rule on who may approve (beyond the routing), with its message."""
    kind = _type(request.document_type)
    if kind.may_approve is None:
        return
    record = kind.model._base_manager.filter(pk=request.object_id).first()
    refusal = kind.may_approve(record, request, actor) if record is not None else None
    if refusal:
        raise _refuse(refusal)


def _was_delegate(request, actor) -> bool:
    return ApproverTask.objects.filter(request=request, acted_by=actor).exists()


def _claim(task: ApproverTask, state: str, actor: User, comment: str, now) -> None:
    """The conditional UPDATE: only a task still pending can be decided, once."""
    claimed = ApproverTask.objects.filter(pk=task.pk, state=TaskState.PENDING).update(
        state=state, acted_by=actor, acted_at=now, comment=comment
    )
    if not claimed:
        raise ConcurrentEditError(ALREADY_DECIDED)
    task.state = state


def _progress(request: ApprovalRequest, step: dict, *, actor, now) -> None:
    tasks = [
        engine.TaskView(t.pk, t.state, t.position, t.is_added)
        for t in ApproverTask.objects.filter(request=request, step=request.step)
    ]
    progress = engine.step_progress(step.get("mode", "any"), tasks)
    if progress.cancel:
        ApproverTask.objects.filter(pk__in=progress.cancel).update(state=TaskState.CANCELLED)
    if progress.outcome == "approved":
        _advance(request, after=request.step, actor=actor, now=now)
    elif progress.outcome == "rejected":
        _finish(request, RequestState.REJECTED, actor=actor, now=now)
    elif progress.activate:
        ApproverTask.objects.filter(pk__in=progress.activate).update(
            state=TaskState.PENDING, due_at=_due(step, now), created_at=now
        )
        approvers = list(ApproverTask.objects.filter(pk__in=progress.activate).values_list("approver_id", flat=True))
        _event(
            kinds.REQUESTED,
            request,
            actor=actor,
            notify=_notify_people(approvers, timezone.localdate(now)),
            on_timeline=False,
        )


def _return(request, task, actor, on_behalf, *, comment, to_step, now) -> None:
    if not comment.strip():
        raise ValidationError({"comment": _("Say what should be corrected.")})
    if to_step is not None:
        reached = set(
            ApproverTask.objects.filter(request=request, step__lt=request.step).values_list("step", flat=True)
        )
        if to_step not in reached:
            raise ValidationError({"to_step": _("Return to a step this request has passed.")})
    _claim(task, TaskState.RETURNED, actor, comment, now)
    ApproverTask.objects.filter(request=request, state__in=[TaskState.PENDING, TaskState.WAITING]).update(
        state=TaskState.CANCELLED
    )
    _log(request, ActionKind.RETURNED, actor=actor, on_behalf_of=on_behalf, comment=comment, now=now)
    if to_step is None:
        request.state = RequestState.RETURNED
        request.version += 1
        request.save(update_fields=["state", "version"])
        _event(
            kinds.RETURNED, request, actor=actor, notify=[request.requester_id], summary=f"{request.title}: {comment}"
        )
        return
    step = request.flow_version.steps[to_step]
    approvers, how = engine.step_approvers(step, request.requester_id, org_load())
    request.step = to_step
    request.save(update_fields=["step"])
    _start_step(request, to_step, step, approvers, how, actor=actor, now=now, first=False, org=org_load())


def _requester_act(request, actor, action, *, comment, now) -> ApprovalRequest:
    if actor.pk != request.requester_id:
        raise PermissionDenied
    if action == "revoke":
        if not request.is_open:
            raise _refuse(_("This request is closed."))
        _log(request, ActionKind.REVOKED, actor=actor, comment=comment, now=now)
        _finish(request, RequestState.REVOKED, actor=actor, now=now, comment=comment)
    elif action == "remind":
        if request.state != RequestState.PENDING:
            raise _refuse(_("Only a request in approval can be hurried."))
        last = request.actions.filter(kind=ActionKind.REMINDED, actor=actor).order_by("-at").first()
        if last is not None and now - last.at < REMIND_EVERY:
            raise _refuse(_("The approvers were reminded less than an hour ago."))
        approvers = list(
            ApproverTask.objects.filter(request=request, step=request.step, state=TaskState.PENDING).values_list(
                "approver_id", flat=True
            )
        )
        _log(request, ActionKind.REMINDED, actor=actor, comment=comment, now=now)
        _event(
            kinds.REMINDED,
            request,
            actor=actor,
            notify=_notify_people(approvers, timezone.localdate(now)),
            on_timeline=False,
        )
    elif action == "resubmit":
        if request.state != RequestState.RETURNED:
            raise _refuse(_("Only a returned request can be submitted again."))
        kind = _type(request.document_type)
        record = kind.model._base_manager.filter(pk=request.object_id).first()
        if record is not None:
            request.facts = {**request.facts, **_facts(kind, record, request.requester)}
            if "amount" in request.proposal:
                request.facts["amount"] = request.proposal["amount"]
        request.state = RequestState.PENDING
        request.version += 1
        request.save(update_fields=["facts", "state", "version"])
        _log(request, ActionKind.RESUBMITTED, actor=actor, step=0, now=now)
        _advance(request, after=-1, actor=actor, now=now)
    return request


# --- time limits: the periodic job ---------------------------------------------------------------


def approvals_tick(*, now=None, batch: int = 500) -> dict:
    """Remind approvers whose time is up (催办), and past a second time limit hand the task to the
    approver's supervisor when the step says so. `now` is passed in (a controlled clock in tests)."""
    now = now or timezone.now()
    counts = {"reminded": 0, "escalated": 0}
    due = list(
        ApproverTask.objects.filter(state=TaskState.PENDING, due_at__lte=now)
        .select_related("request__flow_version")
        .order_by("due_at", "pk")[:batch]
    )
    org = org_load() if due else None
    for task in due:
        step = task.request.flow_version.steps[task.step]
        what = engine.overdue_action(
            due_at=task.due_at,
            reminded_at=task.reminded_at,
            escalate=bool(step.get("escalate")),
            hours=step.get("hours") or 0,
            now=now,
        )
        if what == "remind":
            with transaction.atomic():
                if ApproverTask.objects.filter(pk=task.pk, state=TaskState.PENDING, reminded_at__isnull=True).update(
                    reminded_at=now
                ):
                    ApprovalAction.objects.create(
                        request=task.request, step=task.step, kind=ActionKind.REMINDED, target=task.approver, at=now
                    )
                    _event(
                        kinds.REMINDED,
                        task.request,
                        actor=None,
                        notify=_notify_people([task.approver_id], timezone.localdate(now)),
                        on_timeline=False,
                    )
                    counts["reminded"] += 1
        elif what == "escalate":
            above = engine.manager_chain(task.approver_id, org, 1)
            with transaction.atomic():
                if not above:
                    # Nobody above: remind once more a time limit later rather than every tick.
                    ApproverTask.objects.filter(pk=task.pk).update(due_at=now, reminded_at=None)
                    continue
                if not ApproverTask.objects.filter(pk=task.pk, state=TaskState.PENDING).update(
                    state=TaskState.ESCALATED, acted_at=now
                ):
                    continue
                ApproverTask.objects.create(
                    request=task.request,
                    step=task.step,
                    position=task.position,
                    approver_id=above[0],
                    is_added=task.is_added,
                    due_at=_due(step, now),
                    created_at=now,
                )
                ApprovalAction.objects.create(
                    request=task.request,
                    step=task.step,
                    kind=ActionKind.ESCALATED,
                    on_behalf_of=task.approver,
                    target_id=above[0],
                    at=now,
                )
                _event(
                    kinds.REQUESTED,
                    task.request,
                    actor=None,
                    notify=_notify_people([above[0]], timezone.localdate(now)),
                    on_timeline=False,
                )
                counts["escalated"] += 1
    return counts


# --- delegations ---------------------------------------------------------------------------------


@transaction.atomic
def delegation_create(*, user: User, delegate: User, starts_on, ends_on, actor: User) -> Delegation:
    """Out of office: `delegate` acts on `user`'s approvals between the dates (inclusive). People
    set their own; an administrator may set anyone's."""
    if actor.pk != user.pk and not actor.has_perm(MANAGE):
        raise PermissionDenied
    errors = {}
    if delegate is None or not delegate.is_active:
        errors["delegate"] = _("Choose an active user.")
    elif delegate.pk == user.pk:
        errors["delegate"] = _("Choose someone else.")
    if starts_on is None or ends_on is None or ends_on < starts_on:
        errors["ends_on"] = _("The end date cannot be before the start date.")
    elif (ends_on - starts_on).days > 366:
        errors["ends_on"] = _("A delegation lasts at most a year.")
    if errors:
        raise ValidationError(errors)
    if Delegation.objects.filter(user=user, starts_on__lte=ends_on, ends_on__gte=starts_on).exists():
        raise ValidationError({"starts_on": _("These dates overlap another delegation.")})
    return Delegation.objects.create(user=user, delegate=delegate, starts_on=starts_on, ends_on=ends_on)


@transaction.atomic
def delegation_delete(*, delegation: Delegation, actor: User) -> None:
    if actor.pk != delegation.user_id and not actor.has_perm(MANAGE):
        raise PermissionDenied
    delegation.delete()


def may_view(request: ApprovalRequest, user: User) -> bool:
    if user.pk == request.requester_id or user.has_perm(MANAGE):
        return True
    today = timezone.localdate()
    approvers = set(request.tasks.values_list("approver_id", flat=True))
    if user.pk in approvers or request.copies.filter(user=user).exists():
        return True
    return Delegation.objects.filter(
        Q(user_id__in=approvers), delegate=user, starts_on__lte=today, ends_on__gte=today
    ).exists()
