"""Service quality (SRV-5) and economics (SRV-6) in the REST API, under /api/v1/service."""

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from kehu.catalog.models import Product, Specification
from kehu.core.api import Day, Id, LongText, Page, Text
from kehu.core.pagination import Limit, Offset, page_of
from kehu.support import economics as eco
from kehu.support import quality_services
from kehu.support.models_quality import (
    ActionSource,
    ActionState,
    DailyQualityReport,
    DefectType,
    ImprovementAction,
    Inspection,
)
from kehu.users.models import Department, User

router = Router(tags=["service"])


def _use(user, perm: str):
    if not user.has_perm(perm):
        raise PermissionDenied


class DefectOut(Schema):
    defect_type_id: int
    defect_type: str = Field(alias="defect_type.name")
    quantity: int


class InspectionOut(Schema):
    id: int
    inspected_on: date
    product_id: int
    specification_id: int | None
    batch: str
    inspected_quantity: int
    defect_quantity: int
    defect_rate: Decimal
    inspector_id: int
    note: str
    defects: list[DefectOut]


class InspectionPage(Page):
    items: list[InspectionOut]


class InspectionQuery(Schema):
    inspected_from: Day | None = None
    inspected_to: Day | None = None
    limit: Limit = 50
    offset: Offset = 0


class DefectIn(Schema):
    defect_type_id: Id
    quantity: int = Field(ge=0, le=10_000_000)


class InspectionIn(Schema):
    inspected_on: Day
    product_id: Id
    specification_id: Id | None = None
    batch: Text(60) = ""
    inspected_quantity: int = Field(ge=1, le=10_000_000)
    defects: list[DefectIn] = Field(default_factory=list, max_length=50)
    note: LongText(4000) = ""


class ImprovementActionOut(Schema):
    id: int
    source: str
    source_id: int | None
    description: str
    owner_id: int
    due_on: date
    state: str
    overdue: bool
    done_at: datetime | None
    verified_at: datetime | None


class ActionPage(Page):
    items: list[ImprovementActionOut]


class ActionQuery(Schema):
    state: ActionState | None = None
    limit: Limit = 50
    offset: Offset = 0


class ActionIn(Schema):
    description: LongText(4000)
    owner_id: Id
    due_on: Day
    source: ActionSource = ActionSource.OTHER
    source_id: Id | None = None


class ActionTransitionIn(Schema):
    to: ActionState


class ReportOut(Schema):
    id: int
    day: date
    generated_at: datetime
    mailed_to: str
    data: dict


class ReportSummaryOut(Schema):
    id: int
    day: date
    generated_at: datetime


class ReportPage(Page):
    items: list[ReportSummaryOut]


class ReportQuery(Schema):
    limit: Limit = 50
    offset: Offset = 0


class EconomicsQuery(Schema):
    period: Literal["month", "quarter", "year"] = "month"
    day: Day | None = Field(None, description="A day in the period; today when left out.")
    department_id: Id | None = Field(None, description="A team: the customers its people own.")


class EconomicsOut(Schema):
    start: date
    end: date
    hourly_rate: Decimal
    retained_months: int
    visits: int
    minutes: int
    labour: Decimal
    parts: Decimal
    travel: Decimal
    rma_count: int
    rma_costs: Decimal
    cost: Decimal
    serviced_customers: int
    retained_orders: Decimal
    retained_order_count: int
    retained_customers: int
    follow_on: Decimal
    follow_on_orders: int
    follow_on_customers: int


def _inspection(pk) -> Inspection:
    found = Inspection.objects.filter(pk=pk).prefetch_related("defects__defect_type").first()
    if found is None:
        raise Http404
    return found


@router.get("/inspections", response=InspectionPage)
def inspection_list(request, query: Query[InspectionQuery]):
    _use(request.user, "support.view_inspection")
    qs = Inspection.objects.prefetch_related("defects__defect_type").order_by("-inspected_on", "-pk")
    if query.inspected_from:
        qs = qs.filter(inspected_on__gte=query.inspected_from)
    if query.inspected_to:
        qs = qs.filter(inspected_on__lte=query.inspected_to)
    page = page_of(qs, offset=query.offset, limit=query.limit)
    return {**page.as_dict(), "items": [_inspection_out(r) for r in page.rows]}


def _inspection_out(row) -> dict:
    return {
        **{f: getattr(row, f) for f in InspectionOut.model_fields if f not in ("defects",)},
        "defects": list(row.defects.all()),
    }


@router.post("/inspections", response={201: InspectionOut})
def inspection_create(request, payload: InspectionIn):
    _use(request.user, "support.add_inspection")
    product = Product.objects.filter(pk=payload.product_id).first()
    if product is None:
        raise ValidationError({"product_id": [_("No such product.")]})
    specification = None
    if payload.specification_id is not None:
        specification = Specification.objects.filter(pk=payload.specification_id).first()
        if specification is None:
            raise ValidationError({"specification_id": [_("No such specification.")]})
    types = DefectType.objects.in_bulk([d.defect_type_id for d in payload.defects])
    missing = [d.defect_type_id for d in payload.defects if d.defect_type_id not in types]
    if missing:
        raise ValidationError({"defects": [_("No such defect type: %(ids)s") % {"ids": missing}]})
    inspection = quality_services.inspection_record(
        actor=request.user,
        inspected_on=payload.inspected_on,
        product=product,
        specification=specification,
        batch=payload.batch,
        inspected_quantity=payload.inspected_quantity,
        defects=[(types[d.defect_type_id], d.quantity) for d in payload.defects],
        note=payload.note,
    )
    return Status(201, _inspection_out(_inspection(inspection.pk)))


@router.get("/inspections/{inspection_id}", response=InspectionOut)
def inspection_read(request, inspection_id: Id):
    _use(request.user, "support.view_inspection")
    return _inspection_out(_inspection(inspection_id))


def _action_out(action) -> ImprovementAction:
    action.overdue = action.state == ActionState.OPEN and action.due_on < timezone.localdate()
    return action


@router.get("/improvement-actions", response=ActionPage)
def action_list(request, query: Query[ActionQuery]):
    _use(request.user, "support.view_improvementaction")
    qs = ImprovementAction.objects.order_by("due_on", "pk")
    if query.state:
        qs = qs.filter(state=query.state)
    page = page_of(qs, offset=query.offset, limit=query.limit)
    page.rows = [_action_out(a) for a in page.rows]
    return page.as_dict()


@router.post("/improvement-actions", response={201: ImprovementActionOut})
def action_create(request, payload: ActionIn):
    _use(request.user, "support.add_improvementaction")
    owner = User.objects.filter(pk=payload.owner_id, is_active=True).first()
    if owner is None:
        raise ValidationError({"owner_id": [_("No such active user.")]})
    action = quality_services.action_create(
        actor=request.user,
        description=payload.description,
        owner=owner,
        due_on=payload.due_on,
        source=payload.source,
        source_id=payload.source_id,
    )
    return Status(201, _action_out(action))


def _action(request, pk) -> ImprovementAction:
    user = request.user
    action = ImprovementAction.objects.filter(pk=pk).first()
    if action is None or not (user.has_perm("support.view_improvementaction") or action.owner_id == user.pk):
        raise Http404
    return action


@router.get("/improvement-actions/{action_id}", response=ImprovementActionOut)
def action_read(request, action_id: Id):
    return _action_out(_action(request, action_id))


@router.post("/improvement-actions/{action_id}/transition", response=ImprovementActionOut)
def action_transition(request, action_id: Id, payload: ActionTransitionIn):
    """open → done (its owner or the quality people), done → verified or back to open (quality)."""
    action = quality_services.action_transition(action=_action(request, action_id), actor=request.user, to=payload.to)
    return _action_out(action)


@router.get("/quality-reports", response=ReportPage)
def report_list(request, query: Query[ReportQuery]):
    _use(request.user, "support.view_dailyqualityreport")
    qs = DailyQualityReport.objects.only("pk", "day", "generated_at").order_by("-day")
    return page_of(qs, offset=query.offset, limit=query.limit).as_dict()


@router.get("/quality-reports/{report_id}", response=ReportOut)
def report_read(request, report_id: Id):
    _use(request.user, "support.view_dailyqualityreport")
    report = DailyQualityReport.objects.filter(pk=report_id).first()
    if report is None:
        raise Http404
    return report


@router.get("/economics", response=EconomicsOut)
def economics_read(request, query: Query[EconomicsQuery]):
    """Cost of service against revenue retained and follow-on sales for a month, quarter or year."""
    _use(request.user, "support.view_service_economics")
    department = None
    if query.department_id is not None:
        department = Department.objects.filter(pk=query.department_id).first()
        if department is None:
            raise ValidationError({"department_id": [_("No such department.")]})
    start, end = eco.period_bounds(query.period, query.day or timezone.localdate())
    result = eco.economics(start=start, end=end, department=department)
    return {**{f: getattr(result, f) for f in EconomicsOut.model_fields}}
