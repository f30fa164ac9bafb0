"""Complaints (投诉, SRV-2) in the REST API, under /api/v1/service/complaints: the list with its
filters, registration, a complaint with its steps, corrections, moves (start, reject, withdraw),
completing the open step, a step's owner and deadline, and the statistics report."""

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from kehu.catalog.models import Specification
from kehu.core.api import Day, Id, Keep, LongText, Page, Text
from kehu.core.pagination import Limit, Offset, page_of
from kehu.customers.selectors import contacts_of, customer_get
from kehu.orders.models import OrderLine
from kehu.support import complaint_report as report
from kehu.support import complaint_selectors as selectors
from kehu.support import complaint_services as services
from kehu.support.models_complaints import (
    ComplaintCategory,
    ComplaintCause,
    ComplaintResponsibility,
    ComplaintSeverity,
    ComplaintState,
    ComplaintStepKind,
)
from kehu.support.selectors import ticket_qs_visible_to, unit_qs_visible_to
from kehu.users.models import Department, User

router = Router(tags=["service"])
Quantity = Field(None, gt=0, max_digits=14, decimal_places=3)
Version = Field(None, ge=0, le=2**31, description="The version you saw; 409 if it changed.")


class ComplaintOut(Schema):
    id: int
    number: str
    customer_id: int
    contact_id: int | None
    order_id: int | None
    order_line_id: int | None
    order_number: str
    product_id: int | None
    specification_id: int | None
    part_number: str
    quantity: Decimal | None
    shipped_on: date | None
    customer_words: str
    category: str
    severity: str
    ticket_id: int | None
    unit_id: int | None
    state: str
    owner_id: int | None
    registered_on: date
    due_on: date | None = Field(description="The deadline of the step now open.")
    department_id: int | None
    notice_text: str
    notice_deadline: date | None
    notice_issued_at: datetime | None
    cause: str
    responsibility: str
    findings: str
    corrective_action: str
    preventive_action: str
    feedback_text: str
    feedback_on: date | None
    satisfaction: int | None
    follow_up_comment: str
    closed_at: datetime | None
    close_reason: str
    created_at: datetime
    updated_at: datetime
    version: int


class ComplaintStepOut(Schema):
    kind: str
    position: int
    owner_id: int | None
    working_days: int
    due_on: date
    started_at: datetime | None
    completed_at: datetime | None
    completed_by_id: int | None
    is_late: bool
    is_overdue: bool


class ComplaintDetailOut(ComplaintOut):
    steps: list[ComplaintStepOut]
    transitions: list[str] = Field(description="The states the complaint may move to now.")
    open_step: str | None = Field(description="The step to complete now (POST …/complete).")


class ComplaintPage(Page):
    items: list[ComplaintOut]


class ComplaintQuery(Schema):
    state: Literal["open", "finished", "all"] | ComplaintState = "open"
    overdue: bool = Field(False, description="Only complaints whose open step is past its due day.")
    department_id: Id | None = None
    cause: ComplaintCause | None = None
    category: ComplaintCategory | None = None
    customer_id: Id | None = None
    registered_from: Day | None = None
    registered_to: Day | None = None
    limit: Limit = 50
    offset: Offset = 0


class ComplaintIn(Schema):
    customer_id: Id
    customer_words: LongText(4000)
    category: ComplaintCategory
    severity: ComplaintSeverity = ComplaintSeverity.MAJOR
    contact_id: Id | None = None
    order_line_id: Id | None = None
    order_number: Text(40) = ""
    specification_id: Id | None = None
    part_number: Text(60) = ""
    quantity: Decimal | None = Quantity
    shipped_on: Day | None = None
    ticket_id: Id | None = None
    unit_id: Id | None = None


class ComplaintPatchIn(Schema):
    customer_words: LongText(4000) = Keep()
    category: ComplaintCategory = Keep()
    severity: ComplaintSeverity = Keep()
    order_number: Text(40) | None = None
    part_number: Text(60) | None = None
    quantity: Decimal | None = Quantity
    shipped_on: Day | None = None
    owner_id: Id | None = None
    version: int | None = Version


class ComplaintTransitionIn(Schema):
    to: Literal["investigating", "rejected", "withdrawn"]
    note: Text(500) = ""
    version: int | None = Version


class ComplaintStepIn(Schema):
    """The open step's result: the fields of that step (others are ignored)."""

    kind: ComplaintStepKind
    department_id: Id | None = Field(None, description="notice: the responsible department")
    notice_text: LongText(4000) = ""
    notice_deadline: Day | None = None
    cause: ComplaintCause | None = Field(None, description="investigation")
    responsibility: ComplaintResponsibility | None = None
    findings: LongText(4000) = ""
    corrective_action: LongText(4000) = Field("", description="action")
    preventive_action: LongText(4000) = ""
    feedback_text: LongText(4000) = Field("", description="feedback")
    feedback_on: Day | None = None
    satisfaction: int | None = Field(None, ge=1, le=5, description="follow_up: 1–5")
    follow_up_comment: LongText(4000) = ""
    version: int | None = Version


class ComplaintPlanIn(Schema):
    kind: ComplaintStepKind
    owner_id: Id | None = None
    due_on: Day | None = None
    working_days: int | None = Field(None, ge=0, le=365)
    version: int | None = Version


class ComplaintStatsRow(Schema):
    key: str | int | None
    label: str
    count: int
    share: float


class ComplaintStatsOut(Schema):
    first: date
    last: date
    period: str
    total: int
    by_cause: list[ComplaintStatsRow]
    by_category: list[ComplaintStatsRow]
    by_product: list[ComplaintStatsRow]
    by_department: list[ComplaintStatsRow]
    by_customer: list[ComplaintStatsRow]
    by_period: list[ComplaintStatsRow]


class ComplaintStatsQuery(Schema):
    first: Day | None = Field(None, description="Default: 1 January of the last day's year.")
    last: Day | None = Field(None, description="Default: today.")
    period: Literal["month", "quarter", "year"] = "month"


def _use(user, perm="support.view_complaint"):
    if not user.has_perm(perm):
        raise PermissionDenied


def _detail(user, pk):
    complaint = selectors.complaint_get(user, pk)
    today = timezone.localdate()
    open_kind = services.STEP_OF_STATE.get(complaint.state)
    steps = selectors.complaint_steps(complaint)
    for step in steps:
        step.is_overdue = step.kind == open_kind and step.due_on < today
    complaint.steps_out = steps
    complaint.transitions = sorted(services.COMPLAINT_TRANSITIONS.get(complaint.state, set()))
    complaint.open_step = open_kind
    return complaint


def _out(complaint) -> dict:
    data = ComplaintOut.from_orm(complaint).dict()
    data.update(steps=complaint.steps_out, transitions=complaint.transitions, open_step=complaint.open_step)
    return data


@router.get("/complaints", response=ComplaintPage)
def complaint_list(request, query: Query[ComplaintQuery]):
    """Complaints you see, newest registration first."""
    _use(request.user)
    qs = selectors.complaint_list(
        request.user,
        state=query.state,
        overdue=query.overdue,
        department_id=query.department_id,
        cause=query.cause or "",
        category=query.category or "",
        customer_id=query.customer_id,
        first=query.registered_from,
        last=query.registered_to,
    )
    return page_of(qs, offset=query.offset, limit=query.limit).as_dict()


@router.get("/complaints/stats", response=ComplaintStatsOut)
def complaint_stats(request, query: Query[ComplaintStatsQuery]):
    """The complaint statistics report (投诉统计报表): counts and shares by cause, category, product,
    responsible department, customer and period. For those who see every customer."""
    if not report.may_read_report(request.user):
        raise PermissionDenied
    last = query.last or timezone.localdate()
    first = query.first or last.replace(month=1, day=1)
    if first > last:
        raise ValidationError({"first": [_("The first day must not lie after the last.")]})
    if (last - first).days > 3 * 366:
        raise ValidationError({"first": [_("Choose at most three years.")]})
    stats = report.complaint_stats(first=first, last=last, period=query.period)
    return {
        "first": stats.first,
        "last": stats.last,
        "period": stats.period,
        "total": stats.total,
        **{key: [vars(r) for r in getattr(stats, key)] for key in ComplaintStatsOut.model_fields if key[:3] == "by_"},
    }


@router.post("/complaints", response={201: ComplaintDetailOut})
def complaint_create(request, payload: ComplaintIn):
    """Register a complaint; its five steps come back planned in working days."""
    user = request.user
    _use(user, "support.add_complaint")
    customer = customer_get(user, payload.customer_id)
    errors = {}
    found = {}
    if payload.contact_id is not None:
        found["contact"] = contacts_of(customer).filter(pk=payload.contact_id).first()
    if payload.order_line_id is not None and user.has_perm("orders.view_order"):
        found["order_line"] = (
            OrderLine.objects.filter(pk=payload.order_line_id, order__customer=customer, order__deleted_at__isnull=True)
            .select_related("order", "specification")
            .first()
        )
    elif payload.order_line_id is not None:
        found["order_line"] = None
    if payload.specification_id is not None:
        found["specification"] = (
            Specification.objects.filter(pk=payload.specification_id).select_related("product").first()
        )
    if payload.ticket_id is not None:
        found["ticket"] = ticket_qs_visible_to(user).filter(pk=payload.ticket_id, customer=customer).first()
    if payload.unit_id is not None:
        found["unit"] = (
            unit_qs_visible_to(user).filter(pk=payload.unit_id, customer=customer).select_related("product").first()
        )
    for name, record in found.items():
        if record is None:
            errors[f"{name}_id"] = [_("This customer has no such record.")]
    if errors:
        raise ValidationError(errors)
    complaint = services.complaint_register(
        actor=user,
        customer=customer,
        customer_words=payload.customer_words,
        category=payload.category,
        severity=payload.severity,
        order_number=payload.order_number,
        part_number=payload.part_number,
        quantity=payload.quantity,
        shipped_on=payload.shipped_on,
        **found,
    )
    return Status(201, _out(_detail(user, complaint.pk)))


@router.get("/complaints/{complaint_id}", response=ComplaintDetailOut)
def complaint_read(request, complaint_id: Id):
    _use(request.user)
    return _out(_detail(request.user, complaint_id))


@router.patch("/complaints/{complaint_id}", response=ComplaintDetailOut)
def complaint_update(request, complaint_id: Id, payload: ComplaintPatchIn):
    """Correct what was registered or hand the complaint to another manager (those who manage it)."""
    user = request.user
    complaint = selectors.complaint_get(user, complaint_id)
    changes = payload.dict(exclude_unset=True)
    version = changes.pop("version", None)
    if "owner_id" in changes:
        owner_id = changes.pop("owner_id")
        changes["owner"] = User.objects.filter(pk=owner_id).first() if owner_id else None
        if owner_id and changes["owner"] is None:
            raise ValidationError({"owner_id": [_("No such user.")]})
    for name in ("customer_words", "category", "severity"):
        if name in changes and changes[name] is None:
            raise ValidationError({name: [_("This field cannot be empty.")]})
    for name in ("order_number", "part_number"):
        if name in changes and changes[name] is None:
            changes[name] = ""
    services.complaint_update(complaint=complaint, actor=user, expected_version=version, **changes)
    return _out(_detail(user, complaint_id))


@router.post("/complaints/{complaint_id}/transition", response=ComplaintDetailOut)
def complaint_transition(request, complaint_id: Id, payload: ComplaintTransitionIn):
    """Start the investigation (the step's owner), or reject or withdraw (with a reason; those who
    manage it). Steps are completed with …/complete."""
    complaint = selectors.complaint_get(request.user, complaint_id)
    services.complaint_move(
        complaint=complaint, actor=request.user, to=payload.to, note=payload.note, expected_version=payload.version
    )
    return _out(_detail(request.user, complaint_id))


@router.post("/complaints/{complaint_id}/complete", response=ComplaintDetailOut)
def complaint_complete(request, complaint_id: Id, payload: ComplaintStepIn):
    """Complete the open step (`open_step` of the complaint) with its fields; the next step begins."""
    user = request.user
    complaint = selectors.complaint_get(user, complaint_id)
    data = payload.dict(exclude={"kind", "version", "department_id"})
    if payload.kind == ComplaintStepKind.NOTICE and payload.department_id is not None:
        data["department"] = Department.objects.filter(pk=payload.department_id).first()
        if data["department"] is None:
            raise ValidationError({"department_id": [_("No such department.")]})
    services.complaint_step_complete(
        complaint=complaint, actor=user, kind=payload.kind, data=data, expected_version=payload.version
    )
    return _out(_detail(user, complaint_id))


@router.post("/complaints/{complaint_id}/plan", response=ComplaintDetailOut)
def complaint_plan(request, complaint_id: Id, payload: ComplaintPlanIn):
    """Give a step not yet done to someone, and/or set its deadline (a day, or working days from its start)."""
    user = request.user
    complaint = selectors.complaint_get(user, complaint_id)
    owner = None
    if payload.owner_id is not None:
        owner = User.objects.filter(pk=payload.owner_id).first()
        if owner is None:
            raise ValidationError({"owner_id": [_("No such user.")]})
    services.complaint_step_plan(
        complaint=complaint,
        actor=user,
        kind=payload.kind,
        owner=owner,
        due_on=payload.due_on,
        working_days=payload.working_days,
        expected_version=payload.version,
    )
    return _out(_detail(user, complaint_id))
