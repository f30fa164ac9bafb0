"""Every read of approvals: the inbox tabs and their counts, a request with its history."""

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from kehu.approvals.models import (
    ApprovalAction,
    ApprovalCopy,
    ApprovalRequest,
    ApproverTask,
    Delegation,
    TaskState,
)

MINE, STARTED, COPIED = "todo", "mine", "copied"
TABS = (MINE, STARTED, COPIED)
COUNT_CAP = 999
# What a list never shows: the JSON a row would otherwise decode.
LIST_DEFERRED = ("snapshot", "facts", "proposal", "reason")


def _delegators(user, today) -> QuerySet:
    return Delegation.objects.filter(delegate=user, starts_on__lte=today, ends_on__gte=today).values("user_id")


def pending_tasks_for(user, today=None) -> QuerySet[ApproverTask]:
    """Tasks waiting for this user: their own and those of people they stand in for today."""
    today = today or timezone.localdate()
    return ApproverTask.objects.filter(
        Q(approver=user) | Q(approver__in=_delegators(user, today)), state=TaskState.PENDING
    )


def inbox_count_sql(user) -> tuple[str, list]:
    """The menu's count as SQL: the user's pending tasks (their own and those of people they stand
    in for today), read from the partial inbox index, capped."""
    task, delegation = ApproverTask._meta.db_table, Delegation._meta.db_table
    today = timezone.localdate().isoformat()
    sql = (
        f"SELECT COUNT(*) FROM (SELECT 1 FROM {task} WHERE state = %s AND (approver_id = %s OR approver_id IN "  # noqa: S608 - table names from the models
        f"(SELECT user_id FROM {delegation} WHERE delegate_id = %s AND ends_on >= %s AND starts_on <= %s)) "
        "LIMIT %s) AS waiting"
    )
    return sql, [TaskState.PENDING, user.pk, user.pk, today, today, COUNT_CAP + 1]


def inbox_count(user) -> int:
    """The menu's count: one COUNT (see `inbox_count_sql`). Written as SQL because the menu asks for
    it on every page: the ORM's compilation cost more than the query."""
    with connection.cursor() as cursor:
        cursor.execute(*inbox_count_sql(user))
        return cursor.fetchone()[0]


def request_qs_visible_to(user) -> QuerySet[ApprovalRequest]:
    """Requests this user started, acts or acted on, stands in for, or was copied on; all for
    those who manage flows."""
    qs = ApprovalRequest.objects.all()
    if user.has_perm("approvals.manage_flows"):
        return qs
    today = timezone.localdate()
    tasks = ApproverTask.objects.filter(request=OuterRef("pk")).filter(
        Q(approver=user) | Q(acted_by=user) | Q(approver__in=_delegators(user, today))
    )
    copies = ApprovalCopy.objects.filter(request=OuterRef("pk"), user=user)
    return qs.filter(Q(requester=user) | Exists(tasks) | Exists(copies))


def only_visible(user, requests):
    """Those of `requests` the user may open (a record's page links only to these); one query."""
    requests = [r for r in requests if r is not None]
    if not requests:
        return []
    allowed = set(request_qs_visible_to(user).filter(pk__in=[r.pk for r in requests]).values_list("pk", flat=True))
    return [r for r in requests if r.pk in allowed]


def inbox(user, tab: str = MINE, *, document_type: str = "", state: str = "") -> QuerySet:
    """One tab of the inbox, newest first. "todo" lists tasks (with their request); the others list
    requests."""
    if tab == MINE:
        qs = (
            pending_tasks_for(user)
            .select_related("request", "request__requester", "approver")
            .defer(*(f"request__{name}" for name in LIST_DEFERRED), "comment")
        )
        if document_type:
            qs = qs.filter(request__document_type=document_type)
        return qs.order_by("-created_at", "-id")
    if tab == STARTED:
        qs = ApprovalRequest.objects.filter(requester=user)
    else:
        qs = ApprovalRequest.objects.filter(Exists(ApprovalCopy.objects.filter(request=OuterRef("pk"), user=user)))
    if document_type:
        qs = qs.filter(document_type=document_type)
    if state:
        qs = qs.filter(state=state)
    return qs.select_related("requester").defer(*LIST_DEFERRED).order_by("-created_at", "-id")


def tab_counts(user) -> dict:
    return {
        MINE: inbox_count(user),
        STARTED: ApprovalRequest.objects.filter(requester=user, state="pending")[: COUNT_CAP + 1].count(),
        COPIED: ApprovalCopy.objects.filter(user=user)[: COUNT_CAP + 1].count(),
    }


def request_history(request: ApprovalRequest) -> list[ApprovalAction]:
    return list(request.actions.select_related("actor", "on_behalf_of", "target").order_by("at", "id"))


def request_tasks(request: ApprovalRequest) -> list[ApproverTask]:
    return list(request.tasks.select_related("approver", "acted_by").order_by("step", "position", "id"))


def requests_of_record(document_type: str, object_id: int) -> QuerySet[ApprovalRequest]:
    return ApprovalRequest.objects.filter(document_type=document_type, object_id=object_id).order_by(
        "-created_at", "-id"
    )


def delegations_of(user) -> QuerySet[Delegation]:
    return Delegation.objects.filter(user=user).select_related("delegate").order_by("-starts_on")
