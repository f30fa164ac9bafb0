"""Opportunities (SAL-2, SAL-8): pipelines with stages as data, opportunities and their moves."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from kehu.core.api import Day, Id, Keep, LongText, Page, Text
from kehu.core.exceptions import ConcurrentEditError
from kehu.core.pagination import Limit, Offset, page_of
from kehu.customers.selectors import customer_get
from kehu.sales import selectors, services, settings_selectors, settings_services
from kehu.sales.forecast import forecast_for, rolling_period, year_period
from kehu.sales.models import Pipeline, Stage
from kehu.sales.recommend import recommend
from kehu.users.models import Department, User

router = Router(tags=["sales"])

Money = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]
Percent = Annotated[int, Field(ge=0, le=100)]


class StageOut(Schema):
    id: int
    pipeline_id: int
    name: str
    order: int
    kind: str
    probability: int
    is_active: bool


class PipelineOut(Schema):
    id: int
    name: str
    code: str
    is_default: bool
    is_active: bool
    stages: list[StageOut]

    @staticmethod
    def resolve_stages(obj):
        return sorted(obj.stages.all(), key=lambda s: (s.order, s.id))


class PipelineIn(Schema):
    name: Text(100, blank=False)
    code: Annotated[str, Field(pattern=r"^[a-z0-9-]{1,40}$")]
    is_default: bool = False


class StageIn(Schema):
    name: Text(60, blank=False)
    order: Annotated[int, Field(ge=0, le=1000)] | None = Field(None, description="Default: after the last stage.")
    kind: Literal["open", "won", "lost"] = "open"
    probability: Percent = 0


class PipelinePatch(Schema):
    name: Text(100, blank=False) | None = None
    is_default: bool | None = Field(None, description="Make this the pipeline new deals open in.")
    is_active: bool | None = Field(None, description="An inactive pipeline keeps its deals but takes no new ones.")


class StagePatch(Schema):
    name: Text(60, blank=False) | None = None
    kind: Literal["open", "won", "lost"] | None = Field(
        None, description="Only for a stage no deal is in (409 otherwise)."
    )
    probability: Percent | None = Field(None, description="The default for deals moved into the stage from now on.")
    is_active: bool | None = Field(None, description="No deal may be moved into an inactive stage.")


class StageOrderIn(Schema):
    stage_ids: list[Id] = Field(max_length=200, description="Every stage of the pipeline once, in the new order.")


class StageMoveDealsIn(Schema):
    to_stage_id: Id
    reason: LongText(2000) = Field("", description="Needed to move into a won or lost stage (else each deal's own).")


class StageMoveDealsOut(Schema):
    moved: int


class StageUsageOut(Schema):
    live: int
    deleted: int
    history: int


class StageConflict(Schema):
    detail: str
    code: str
    usage: StageUsageOut


class TargetOut(Schema):
    id: int
    level: str
    metric: str
    month: date
    department_id: int | None
    user_id: int | None
    amount: Decimal
    currency: str = "CNY"
    set_by_id: int | None
    updated_at: datetime


class TargetQuery(Schema):
    year: Annotated[int, Field(ge=2000, le=2100)] | None = None
    month: Annotated[int, Field(ge=1, le=12)] | None = None
    level: Literal["", "company", "department", "rep"] = ""
    metric: Literal["", "sales", "collections"] = ""
    limit: Annotated[int, Field(ge=1, le=500)] = 100
    offset: Offset = 0


class TargetList(Page):
    items: list[TargetOut]


class TargetIn(Schema):
    level: Literal["company", "department", "rep"]
    metric: Literal["sales", "collections"] = "sales"
    month: Day = Field(description="Any day of the month; stored as its first day.")
    department_id: Id | None = Field(None, description="For a department target.")
    user_id: Id | None = Field(None, description="For a rep target: someone in your team.")
    amount: Money


class OpportunityOut(Schema):
    id: int
    name: str
    customer_id: int
    owner_id: int
    pipeline_id: int
    stage_id: int
    status: str
    amount: Decimal
    currency: str = "CNY"
    probability: int
    weighted_amount: Decimal
    expected_close_on: date | None
    products: str
    competitors: str
    close_reason: str
    closed_at: datetime | None
    source_lead_id: int | None
    version: int
    created_at: datetime
    updated_at: datetime


class OpportunityList(Page):
    items: list[OpportunityOut]
    has_next: bool


class OpportunityIn(Schema):
    customer_id: Id
    name: Text(200, blank=False)
    amount: Money = Decimal("0")
    owner_id: Id | None = None
    pipeline_id: Id | None = None
    stage_id: Id | None = None
    probability: Percent | None = None
    expected_close_on: Day | None = None
    products: LongText() = ""
    competitors: LongText() = ""
    source_lead_id: Annotated[int, Field(ge=1, le=2**62)] | None = None


class OpportunityPatch(Schema):
    version: Annotated[int, Field(ge=0, le=2**31)] | None = Field(
        None, description="The version you read; a stale one answers 409."
    )
    name: Text(200, blank=False) = Keep()
    amount: Money = Keep()
    owner_id: Id = Keep()
    probability: Percent = Keep()
    expected_close_on: Day | None = None
    products: LongText() | None = None
    competitors: LongText() | None = None


class MoveIn(Schema):
    stage_id: Id
    reason: LongText(2000) = ""
    version: Annotated[int, Field(ge=0, le=2**31)] | None = None


class OpportunityListQuery(Schema):
    q: Text(100) = ""
    pipeline_id: Id | None = None
    stage_id: Id | None = None
    status: Literal["", "open", "won", "lost"] = ""
    owner_id: Id | None = None
    sort: Literal["-updated", "-amount", "amount", "close", "name"] = "-updated"
    limit: Limit = 25
    offset: Offset = 0


def _may_manage(user) -> None:
    if not user.has_perm("sales.manage_pipelines"):
        raise PermissionDenied


def _team_member(user, pk) -> User:
    member = User.objects.filter(pk=pk, is_active=True).first()
    if member is None or not services.may_assign_to(user, member):
        raise ValidationError({"owner_id": [_("You may not give opportunities to this user.")]})
    return member


def _stage(pk, pipeline_id=None) -> Stage:
    stage = Stage.objects.select_related("pipeline").filter(pk=pk).first()
    if stage is None or (pipeline_id is not None and stage.pipeline_id != pipeline_id):
        raise ValidationError({"stage_id": [_("Choose a stage of this pipeline.")]})
    return stage


@router.get("/pipelines", response=list[PipelineOut])
def pipeline_list(request):
    """Pipelines with their stages, in order."""
    if not selectors.may_use_sales(request.user):
        raise PermissionDenied
    return list(Pipeline.objects.prefetch_related("stages").order_by("-is_default", "name", "id"))


@router.post("/pipelines", response={201: PipelineOut})
def pipeline_create(request, payload: PipelineIn):
    """Administrators add pipelines (then stages to them)."""
    _may_manage(request.user)
    pipeline = services.pipeline_create(actor=request.user, **payload.dict())
    return Status(201, pipeline)


def _pipeline(pk) -> Pipeline:
    pipeline = settings_selectors.pipeline_get(pk)
    if pipeline is None:
        raise Http404
    return pipeline


def _stage_or_404(pk) -> Stage:
    stage = settings_selectors.stage_get(pk)
    if stage is None:
        raise Http404
    return stage


def _pipeline_out(pk) -> Pipeline:
    return Pipeline.objects.prefetch_related("stages").get(pk=pk)


def _stage_conflict(exc: settings_services.StageInUseError):
    usage = exc.usage
    return Status(
        409,
        {
            "detail": " ".join(exc.messages),
            "code": "stage_in_use",
            "usage": {"live": usage.live, "deleted": usage.deleted, "history": usage.history},
        },
    )


@router.patch("/pipelines/{pipeline_id}", response=PipelineOut)
def pipeline_update(request, pipeline_id: Id, payload: PipelinePatch):
    """Rename, make the default, deactivate or reactivate. The default pipeline stays active and
    needs active open, won and lost stages."""
    _may_manage(request.user)
    pipeline = _pipeline(pipeline_id)
    data = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    settings_services.pipeline_update(actor=request.user, pipeline=pipeline, **data)
    return _pipeline_out(pipeline.pk)


@router.post("/pipelines/{pipeline_id}/stages", response={201: StageOut})
def stage_create(request, pipeline_id: Id, payload: StageIn):
    """Adds a stage, at the end unless `order` is given."""
    _may_manage(request.user)
    pipeline = _pipeline(pipeline_id)
    return Status(201, services.stage_create(actor=request.user, pipeline=pipeline, **payload.dict()))


@router.post("/pipelines/{pipeline_id}/stages/order", response=PipelineOut)
def stage_reorder(request, pipeline_id: Id, payload: StageOrderIn):
    """Puts the pipeline's stages in the order of `stage_ids` (each of its stages once)."""
    _may_manage(request.user)
    pipeline = _pipeline(pipeline_id)
    settings_services.stage_reorder(actor=request.user, pipeline=pipeline, stage_ids=payload.stage_ids)
    return _pipeline_out(pipeline.pk)


@router.patch("/stages/{stage_id}", response={200: StageOut, 409: StageConflict})
def stage_update(request, stage_id: Id, payload: StagePatch):
    """Rename, change the kind or default probability, deactivate or reactivate. A pipeline keeps an
    active open, won and lost stage (400); a stage that holds deals keeps its kind (409)."""
    _may_manage(request.user)
    stage = _stage_or_404(stage_id)
    data = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    try:
        return settings_services.stage_update(actor=request.user, stage=stage, **data)
    except settings_services.StageInUseError as exc:
        return _stage_conflict(exc)


@router.delete("/stages/{stage_id}", response={204: None, 409: StageConflict})
def stage_delete(request, stage_id: Id):
    """Deletes a stage no deal (live or in the recycle bin) and no stage history names; otherwise 409
    with the counts: deactivate it instead, after moving its deals if you wish."""
    _may_manage(request.user)
    stage = _stage_or_404(stage_id)
    try:
        settings_services.stage_delete(actor=request.user, stage=stage)
    except settings_services.StageInUseError as exc:
        return _stage_conflict(exc)
    return Status(204, None)


@router.post("/stages/{stage_id}/move-deals", response=StageMoveDealsOut)
def stage_move_deals(request, stage_id: Id, payload: StageMoveDealsIn):
    """Moves every live deal of the stage to another stage of its pipeline, one by one as a manual
    move would (stage history and time in stage kept)."""
    _may_manage(request.user)
    stage = _stage_or_404(stage_id)
    to_stage = settings_selectors.stage_get(payload.to_stage_id)
    if to_stage is None:
        raise ValidationError({"to_stage_id": [_("Choose a stage of this pipeline.")]})
    moved = settings_services.stage_move_deals(
        actor=request.user, stage=stage, to_stage=to_stage, reason=payload.reason
    )
    return {"moved": moved}


class DeletedOpportunityOut(OpportunityOut):
    deleted_at: datetime
    deleted_by_id: int | None


class DeletedOpportunityList(Page):
    items: list[DeletedOpportunityOut]


class DeletedOpportunityQuery(Schema):
    limit: Limit = 25
    offset: Offset = 0


@router.get("/opportunities/deleted", response=DeletedOpportunityList)
def opportunity_deleted_list(request, query: Query[DeletedOpportunityQuery]):
    """The deals' recycle bin: deleted deals of your scope, newest first (for those who may delete deals)."""
    if not request.user.has_perm("sales.delete_opportunity"):
        raise PermissionDenied
    rows = selectors.deleted_opportunities_for(request.user)
    return page_of(rows, offset=query.offset, limit=query.limit).as_dict()


@router.post("/opportunities/{opportunity_id}/restore", response=OpportunityOut)
def opportunity_restore(request, opportunity_id: Id):
    """Back from the recycle bin; 400 while its customer is in the recycle bin."""
    opportunity = selectors.deleted_opportunity_get(request.user, opportunity_id)
    services.opportunity_restore(opportunity=opportunity, actor=request.user)
    return selectors.opportunity_get(request.user, opportunity.pk)


@router.get("/opportunities", response=OpportunityList)
def opportunity_list(request, query: Query[OpportunityListQuery]):
    """Opportunities in your scope; no total is counted (`has_next` says whether another page follows)."""
    if not selectors.may_use_sales(request.user):
        raise PermissionDenied
    filters = selectors.OpportunityFilters(
        q=query.q.strip(),
        pipeline=Pipeline.objects.filter(pk=query.pipeline_id).first() if query.pipeline_id else None,
        stage=Stage.objects.filter(pk=query.stage_id).first() if query.stage_id else None,
        status=query.status,
        owner=User.objects.filter(pk=query.owner_id).first() if query.owner_id else None,
        sort=query.sort,
    )
    if (query.pipeline_id and filters.pipeline is None) or (query.stage_id and filters.stage is None):
        return {"count": 0, "items": [], "has_next": False}
    if query.owner_id and filters.owner is None:
        return {"count": 0, "items": [], "has_next": False}
    rows, has_next = selectors.opportunity_page(request.user, filters, offset=query.offset, limit=query.limit)
    return {"count": len(rows), "items": rows, "has_next": has_next}


@router.post("/opportunities", response={201: OpportunityOut})
def opportunity_create(request, payload: OpportunityIn):
    """Opens an opportunity for a customer in your scope, in the default pipeline's first stage unless told."""
    if not request.user.has_perm("sales.add_opportunity"):
        raise PermissionDenied
    data = payload.dict()
    try:
        customer = customer_get(request.user, data.pop("customer_id"))
    except Http404:
        raise ValidationError({"customer_id": [_("No such customer in your scope.")]}) from None
    owner_id = data.pop("owner_id")
    pipeline_id = data.pop("pipeline_id")
    stage_id = data.pop("stage_id")
    pipeline = None
    if pipeline_id is not None:
        pipeline = Pipeline.objects.filter(pk=pipeline_id).first()
        if pipeline is None:
            raise ValidationError({"pipeline_id": [_("No such pipeline.")]})
    stage = _stage(stage_id, pipeline.pk if pipeline else None) if stage_id is not None else None
    if data["probability"] is None:
        data.pop("probability")
    opportunity = services.opportunity_create(
        customer=customer,
        actor=request.user,
        owner=_team_member(request.user, owner_id) if owner_id else None,
        pipeline=pipeline,
        stage=stage,
        **data,
    )
    return Status(201, opportunity)


@router.get("/opportunities/{opportunity_id}", response=OpportunityOut)
def opportunity_read(request, opportunity_id: Id):
    return selectors.opportunity_get(request.user, opportunity_id)


@router.patch("/opportunities/{opportunity_id}", response=OpportunityOut)
def opportunity_update(request, opportunity_id: Id, payload: OpportunityPatch):
    """Changes the deal's fields (the stage changes through /move); a stale `version` answers 409."""
    opportunity = selectors.opportunity_get(request.user, opportunity_id)
    if not request.user.has_perm("sales.change_opportunity"):
        raise PermissionDenied
    data = payload.dict(exclude_unset=True)
    version = data.pop("version", None)
    if version is not None and version != opportunity.version:
        raise ConcurrentEditError()
    for name in ("name", "amount", "probability", "owner_id"):
        if name in data and data[name] is None:
            raise ValidationError({name: [_("This field cannot be empty.")]})
    for name in ("products", "competitors"):
        if name in data and data[name] is None:
            data[name] = ""
    if "owner_id" in data:
        data["owner"] = _team_member(request.user, data.pop("owner_id"))
    return services.opportunity_update(
        opportunity=opportunity, actor=request.user, expected_version=opportunity.version, **data
    )


@router.post("/opportunities/{opportunity_id}/move", response=OpportunityOut)
def opportunity_move(request, opportunity_id: Id, payload: MoveIn):
    """Moves to another stage of its pipeline; won and lost stages need a `reason`."""
    opportunity = selectors.opportunity_get(request.user, opportunity_id)
    if not request.user.has_perm("sales.change_opportunity"):
        raise PermissionDenied
    stage = _stage(payload.stage_id, opportunity.pipeline_id)
    services.opportunity_move(
        opportunity=opportunity,
        stage=stage,
        actor=request.user,
        reason=payload.reason,
        expected_version=payload.version,
    )
    return selectors.opportunity_get(request.user, opportunity_id)


@router.delete("/opportunities/{opportunity_id}", response={204: None})
def opportunity_delete(request, opportunity_id: Id):
    opportunity = selectors.opportunity_get(request.user, opportunity_id)
    services.opportunity_delete(opportunity=opportunity, actor=request.user)
    return Status(204, None)


class CandidateOut(Schema):
    user_id: int
    username: str
    name: str
    score: Decimal
    similar_won: int
    won: int
    lost: int
    open_load: int
    owns_customer: bool
    earlier_deals: int
    reasons: list[str]


class OpportunityAssignIn(Schema):
    user_id: Id


@router.get("/opportunities/{opportunity_id}/candidates", response=list[CandidateOut])
def opportunity_candidates(request, opportunity_id: Id):
    """Who should take it (SAL-8): your team ranked for this deal, best first, with the reasons."""
    opportunity = selectors.opportunity_get(request.user, opportunity_id)
    if not request.user.has_perm("sales.assign_opportunity"):
        raise PermissionDenied
    return [
        {
            "user_id": c.user.pk,
            "username": c.user.username,
            "name": c.user.display_name,
            "score": c.score,
            "similar_won": c.similar_won,
            "won": c.won,
            "lost": c.lost,
            "open_load": c.open_load,
            "owns_customer": c.owns_customer,
            "earlier_deals": c.earlier_deals,
            "reasons": c.reasons,
        }
        for c in recommend(request.user, opportunity)
    ]


@router.post("/opportunities/{opportunity_id}/assign", response=OpportunityOut)
def opportunity_assign(request, opportunity_id: Id, payload: OpportunityAssignIn):
    """A manager gives the deal to someone in their team."""
    opportunity = selectors.opportunity_get(request.user, opportunity_id)
    if not request.user.has_perm("sales.assign_opportunity"):
        raise PermissionDenied
    services.opportunity_assign(
        opportunity=opportunity, owner=_team_member(request.user, payload.user_id), actor=request.user
    )
    return selectors.opportunity_get(request.user, opportunity_id)


class MonthOut(Schema):
    month: date
    weighted: Decimal
    committed: Decimal
    won: Decimal
    pipeline: Decimal
    target: Decimal | None


class RepForecastOut(Schema):
    user_id: int
    username: str
    months: list[MonthOut]


class OverdueOut(Schema):
    count: int
    amount: Decimal


class ForecastOut(Schema):
    year: int | None = Field(description="The calendar year shown; null for the rolling twelve months.")
    start: date
    end: date
    refreshed_at: datetime | None
    team: list[MonthOut]
    reps: list[RepForecastOut]
    overdue: OverdueOut = Field(description="Open deals in your scope whose expected close date has passed.")


def _months(cells: dict) -> list[dict]:
    return [
        {
            "month": m,
            "weighted": c.weighted,
            "committed": c.committed,
            "won": c.won,
            "pipeline": c.pipeline,
            "target": c.target,
        }
        for m, c in cells.items()
    ]


@router.get("/forecast", response=ForecastOut)
def forecast(request, year: Annotated[int | None, Field(ge=2000, le=2100)] = None):
    """Your team's forecast by month (CNY) against the targets: a calendar `year`, or without it this
    month and the next eleven. Only people who own deals in those months or have a target in them
    are listed. The sums follow each change to a deal as soon as it is saved."""
    if not request.user.has_perm("sales.view_forecast"):
        raise PermissionDenied
    f = forecast_for(request.user, year_period(year) if year else rolling_period())
    overdue = selectors.overdue_deals(request.user)
    return {
        "year": year,
        "start": f.months[0],
        "end": f.months[-1],
        "refreshed_at": f.refreshed_at,
        "team": _months(f.team),
        "reps": [{"user_id": u.pk, "username": u.username, "months": _months(cells)} for u, cells, _t in f.reps],
        "overdue": {"count": overdue.count, "amount": overdue.amount},
    }


def _may_set_targets(user) -> None:
    if not user.has_perm("sales.set_targets"):
        raise PermissionDenied


@router.get("/targets", response=TargetList)
def target_list(request, query: Query[TargetQuery]):
    """The monthly targets (业绩目标) you manage, oldest month first; filter by year, month, level and metric."""
    _may_set_targets(request.user)
    rows = settings_selectors.targets_for(
        request.user, year=query.year, month=query.month, level=query.level, metric=query.metric
    )
    return page_of(rows, offset=query.offset, limit=query.limit).as_dict()


@router.put("/targets", response=TargetOut)
def target_set(request, payload: TargetIn):
    """Sets one month's target: the company's (company-wide roles only), a department's in your own
    department or below, or a rep's in your team (403 otherwise); setting it again replaces the amount."""
    _may_set_targets(request.user)
    department = user = None
    if payload.level == "department":
        if payload.department_id is None:
            raise ValidationError({"department_id": [_("Choose a department.")]})
        department = Department.objects.filter(pk=payload.department_id).first()
        if department is None:
            raise ValidationError({"department_id": [_("No such department.")]})
    if payload.level == "rep":
        if payload.user_id is None:
            raise ValidationError({"user_id": [_("Choose a sales rep.")]})
        user = User.objects.filter(pk=payload.user_id, is_active=True).first()
        if user is None:
            raise ValidationError({"user_id": [_("No such user.")]})
    return services.target_set(
        actor=request.user,
        level=payload.level,
        metric=payload.metric,
        month=payload.month,
        amount=payload.amount,
        department=department,
        user=user,
    )


@router.delete("/targets/{target_id}", response={204: None})
def target_delete(request, target_id: Id):
    _may_set_targets(request.user)
    target = settings_selectors.targets_for(request.user).filter(pk=target_id).first()
    if target is None:
        raise Http404
    settings_services.target_delete(actor=request.user, target=target)
    return Status(204, None)
