"""Approvals (ACC-6): the inbox, a request with its history, acting on it, delegations, and the
flows for administrators."""

from datetime import date, datetime
from typing import Annotated, Literal

from django.core.exceptions import PermissionDenied
from django.http import Http404
from ninja import Field, Query, Router, Schema, Status

from kehu.approvals import registry, selectors, services
from kehu.approvals.models import ApprovalRequest, Delegation
from kehu.core.api import Id, LongText, Page, Text
from kehu.users.models import User

router = Router(tags=["approvals"])


class RequestOut(Schema):
    id: int
    document_type: str
    document_type_label: str
    object_id: int
    customer_id: int | None
    title: str
    requester_id: int
    state: str
    step: int
    flow_version: int
    facts: dict
    proposal: dict
    reason: str
    created_at: datetime
    decided_at: datetime | None

    @staticmethod
    def resolve_document_type_label(obj):
        return registry.label(obj.document_type)

    @staticmethod
    def resolve_flow_version(obj):
        return obj.flow_version.number


class TaskOut(Schema):
    id: int
    step: int
    position: int
    approver_id: int
    state: str
    is_added: bool
    due_at: datetime | None
    acted_by_id: int | None
    acted_at: datetime | None
    comment: str


class ActionOut(Schema):
    step: int | None
    kind: str
    actor_id: int | None
    on_behalf_of_id: int | None
    target_id: int | None
    comment: str
    at: datetime


class RequestDetail(RequestOut):
    approvers: list[TaskOut]
    history: list[ActionOut]
    snapshot: dict
    may_act: bool


class RequestList(Page):
    items: list[RequestOut]


DocumentTypeCode = Text(50)


class InboxQuery(Schema):
    tab: Literal["todo", "mine", "copied"] = "todo"
    document_type: DocumentTypeCode = ""
    limit: Annotated[int, Field(ge=1, le=100)] = 25
    offset: Annotated[int, Field(ge=0, le=10_000)] = 0


class ActIn(Schema):
    action: Literal["approve", "reject", "return", "add", "transfer", "revoke", "remind", "cc", "resubmit"]
    comment: LongText(2000) = ""
    to_step: Annotated[int, Field(ge=0, le=50)] | None = None
    user_id: Id | None = None


class FlowOut(Schema):
    document_type: str
    label: str
    is_active: bool
    version: int
    steps: list[dict]
    fields: dict[str, str]


class FlowIn(Schema):
    steps: Annotated[list[dict], Field(min_length=1, max_length=20)]
    is_active: bool | None = None


class DelegationIn(Schema):
    delegate_id: Id
    starts_on: date
    ends_on: date


class DelegationOut(Schema):
    id: int
    user_id: int
    delegate_id: int
    starts_on: date
    ends_on: date


def _request(request, request_id: int) -> ApprovalRequest:
    found = selectors.request_qs_visible_to(request.user).select_related("flow_version").filter(pk=request_id).first()
    if found is None:
        raise Http404
    return found


def _detail(request, approval: ApprovalRequest) -> ApprovalRequest:
    approval.approvers = selectors.request_tasks(approval)
    approval.history = selectors.request_history(approval)
    approval.may_act = services.actionable_task(approval, request.user) is not None
    return approval


@router.get("/inbox", response=RequestList)
def inbox(request, query: Query[InboxQuery]):
    """待我审批 (todo), 我发起的 (mine) or 抄送我的 (copied), newest first."""
    # The API answers with the facts and the proposal: nothing deferred.
    qs = selectors.inbox(request.user, query.tab, document_type=query.document_type).defer(None)
    count = qs[:10_001].count()
    rows = list(
        qs.select_related("request__flow_version" if query.tab == "todo" else "flow_version")[
            query.offset : query.offset + query.limit
        ]
    )
    items = [row.request if query.tab == "todo" else row for row in rows]
    return {"items": items, "count": min(count, 10_000), "count_is_capped": count > 10_000}


@router.get("/requests/{request_id}", response=RequestDetail)
def request_read(request, request_id: Id):
    return _detail(request, _request(request, request_id))


@router.post("/requests/{request_id}/act", response=RequestDetail)
def request_act(request, request_id: Id, payload: ActIn):
    """approve, reject (comment required), return (to the requester, or `to_step`), add (加签) or
    transfer (转交) to `user_id`, cc (抄送) `user_id`; revoke, remind (催办), resubmit by the
    requester. A task decided by someone else meanwhile answers 409."""
    approval = _request(request, request_id)
    services.request_act(
        request=approval,
        actor=request.user,
        action=payload.action,
        comment=payload.comment,
        to_step=payload.to_step,
        user=payload.user_id,
    )
    return _detail(request, _request(request, request_id))


@router.get("/records/{document_type}/{object_id}", response=list[RequestOut])
def record_history(request, document_type: DocumentTypeCode, object_id: Id):
    """Every request of one record that this user may see, newest first."""
    if registry.get(document_type) is None:
        raise Http404
    return list(
        selectors.request_qs_visible_to(request.user)
        .filter(document_type=document_type, object_id=object_id)
        .select_related("flow_version")
        .order_by("-created_at", "-id")[:100]
    )


# --- delegations ---------------------------------------------------------------------------------


@router.get("/delegations", response=list[DelegationOut])
def delegation_list(request):
    return list(selectors.delegations_of(request.user)[:200])


@router.post("/delegations", response={201: DelegationOut})
def delegation_create(request, payload: DelegationIn):
    delegate = User.objects.filter(pk=payload.delegate_id).first()
    return Status(
        201,
        services.delegation_create(
            user=request.user,
            delegate=delegate,
            starts_on=payload.starts_on,
            ends_on=payload.ends_on,
            actor=request.user,
        ),
    )


@router.delete("/delegations/{delegation_id}", response={204: None})
def delegation_delete(request, delegation_id: Id):
    delegation = Delegation.objects.filter(pk=delegation_id, user=request.user).first()
    if delegation is None:
        raise Http404
    services.delegation_delete(delegation=delegation, actor=request.user)
    return Status(204, None)


# --- flows (administrators) ----------------------------------------------------------------------


def _admin(request) -> None:
    if not request.user.has_perm(services.MANAGE):
        raise PermissionDenied


def _flow_out(code: str) -> dict:
    kind = registry.get(code)
    flow = services.flow_view(code)
    return {
        "document_type": code,
        "label": str(kind.label),
        "is_active": flow.is_active,
        "version": flow.number,
        "steps": flow.steps,
        "fields": {name: spec.kind for name, spec in kind.all_fields().items()},
    }


@router.get("/flows", response=list[FlowOut])
def flow_list(request):
    _admin(request)
    return [_flow_out(kind.code) for kind in registry.all_types()]


@router.get("/flows/{document_type}", response=FlowOut)
def flow_read(request, document_type: DocumentTypeCode):
    _admin(request)
    if registry.get(document_type) is None:
        raise Http404
    return _flow_out(document_type)


@router.put("/flows/{document_type}", response=FlowOut)
def flow_update(request, document_type: DocumentTypeCode, payload: FlowIn):
    """Save the steps as a new version (see the guide for their shape); `is_active` switches the
    flow on or off."""
    _admin(request)
    if registry.get(document_type) is None:
        raise Http404
    services.flow_save(
        document_type=document_type, steps=payload.steps, actor=request.user, is_active=payload.is_active
    )
    return _flow_out(document_type)
