"""Leads (SAL-1): list by score, create, read, patch with a version, status moves, assign and
convert. Outside the caller's scope a lead is 404; a move the status does not allow is 409."""

from datetime import datetime, time
from decimal import Decimal
from typing import Annotated, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from pydantic import AfterValidator

from kehu.core.api import Id, LongText, Page, Text
from kehu.core.pagination import Limit, Offset, PageOf
from kehu.customers.models import Industry
from kehu.customers.selectors import customer_qs_visible_to
from kehu.customers.services import DuplicateCustomerError
from kehu.leads import scoring, selectors, services, settings_selectors
from kehu.leads.models import DisqualifyReason, LeadSource, LeadStatus, SizeBand
from kehu.users.models import User
from kehu.users.selectors import scope_users_q

router = Router(tags=["leads"])

SourceIn = Literal[tuple(LeadSource.values)]
IndustryIn = Literal[("", *Industry.values)]
SizeIn = Literal[tuple(SizeBand.values)]


class LeadConflict(Schema):
    detail: str
    code: str
    matches: list[dict] = []


class Reason(Schema):
    code: str
    text: str


class LeadOut(Schema):
    id: int
    company_name: str
    contact_name: str
    phone: str
    email: str
    region: str
    industry: str
    size_band: str
    source: str
    message: str
    owner_id: int | None
    status: str
    disqualify_reason: str
    first_responded_at: datetime | None
    sla_due_at: datetime | None
    is_overdue: bool
    score: int
    score_reasons: list[Reason]
    converted_customer_id: int | None
    converted_contact_id: int | None
    converted_opportunity_id: int | None
    version: int
    created_at: datetime

    @staticmethod
    def resolve_score_reasons(obj):
        return [{"code": r.get("code", ""), "text": scoring.reason_text(r)} for r in obj.score_reasons]


class LeadList(Page):
    items: list[LeadOut]


class LeadQuery(Schema):
    q: Text(100) = ""
    status: Literal[("", *LeadStatus.values)] = ""
    source: Literal[("", *LeadSource.values)] = ""
    region: Text(50) = ""
    owner_id: Id | None = None
    overdue: bool = False
    sort: Literal["score", "sla", "new"] = "score"
    limit: Limit = 25
    offset: Offset = 0


class LeadIn(Schema):
    company_name: Text(200)
    contact_name: Text(100) = ""
    phone: Text(40) = ""
    email: Text(254) = ""
    region: Text(50) = ""
    industry: IndustryIn = ""
    size_band: SizeIn = ""
    source: SourceIn = LeadSource.MANUAL
    message: LongText() = ""
    owner_id: Id | None = Field(None, description="Default: the caller. Managers may give it to their team.")


class LeadPatch(Schema):
    version: Annotated[int, Field(ge=1, le=2**31)]
    company_name: Text(200) | None = None
    contact_name: Text(100) | None = None
    phone: Text(40) | None = None
    email: Text(254) | None = None
    region: Text(50) | None = None
    industry: IndustryIn | None = None
    size_band: SizeIn | None = None
    source: SourceIn | None = None
    message: LongText() | None = None


class TransitionIn(Schema):
    to_status: Literal["contacted", "qualified", "disqualified"]
    reason: Literal[("", *DisqualifyReason.values)] = ""
    note: Text(300) = ""


class LeadAssignIn(Schema):
    owner_id: Id


class ConvertIn(Schema):
    customer_id: Id | None = Field(None, description="Link an existing customer instead of creating one.")
    allow_duplicate: bool = False
    opportunity_name: Text(200) = ""
    amount: Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)] | None = None


def _team_member(user, pk) -> User:
    member = User.objects.filter(scope_users_q(user), is_active=True, pk=pk).first()
    if member is None:
        raise ValidationError({"owner_id": [_("Choose someone in your team.")]})
    return member


def _conflict(exc: services.LeadTransitionError):
    return Status(409, {"detail": " ".join(exc.messages), "code": exc.conflict_code})


@router.get("", response=LeadList)
def lead_list(request, query: Query[LeadQuery]):
    """Leads in the caller's scope, best score first by default; open leads unless `status` is given."""
    if not request.user.has_perm("leads.view_lead"):
        raise PermissionDenied
    filters = selectors.LeadFilters(
        q=query.q.strip(),
        status=query.status,
        source=query.source,
        region=query.region.strip(),
        owner_id=query.owner_id,
        overdue=query.overdue,
        sort=query.sort,
    )
    rows, total = selectors.lead_list(request.user, filters, offset=query.offset, limit=query.limit)
    capped = total > selectors.COUNT_CAP
    has_next = query.offset + len(rows) < total
    return PageOf(rows, min(total, selectors.COUNT_CAP), capped, has_next).as_dict()


@router.post("", response={201: LeadOut})
def lead_create(request, payload: LeadIn):
    user = request.user
    if not user.has_perm("leads.add_lead"):
        raise PermissionDenied
    data = payload.dict()
    owner_id = data.pop("owner_id")
    owner = user if owner_id in (None, user.pk) else _team_member(user, owner_id)
    return Status(201, services.lead_create(actor=user, owner=owner, **data))


# ---- settings and rules (administrators: leads.manage_rules) ---------------------------------
# Declared before /{lead_id} so these paths are not taken for a lead's id.


def _no_zone(value: time) -> time:
    if value.tzinfo is not None:
        raise ValueError("give a time of day without a time zone (the company's time zone is used)")
    return value


LocalTime = Annotated[time, AfterValidator(_no_zone)]


class ScoringModelOut(Schema):
    trained_at: datetime
    n_converted: int
    n_disqualified: int


class LeadSettingsOut(Schema):
    work_start: time
    work_end: time
    default_sla_hours: int
    min_closed_for_learning: int
    learned_model: ScoringModelOut | None = Field(None, description="The learned score in use, if trained.")


class LeadSettingsIn(Schema):
    work_start: LocalTime = Field(description="The working day starts (company time zone), before work_end.")
    work_end: LocalTime
    default_sla_hours: Annotated[int, Field(ge=1, le=400)] = Field(
        description="Working hours to first response for sources without their own rule."
    )
    min_closed_for_learning: Annotated[int, Field(ge=1, le=100_000)] = Field(
        description="Converted and disqualified leads needed (each) before the score learns."
    )


class AssignmentRuleOut(Schema):
    id: int
    region: str
    user_id: int


class AssignmentRuleIn(Schema):
    region: Text(50) = Field("", description="Empty: any region no other rule names.")
    user_id: Id


class SlaRuleOut(Schema):
    id: int
    source: str
    hours: int


class SlaRuleIn(Schema):
    source: SourceIn
    hours: Annotated[int, Field(ge=1, le=400)]


def _may_manage_rules(user) -> None:
    if not user.has_perm("leads.manage_rules"):
        raise PermissionDenied


def _settings_out(settings) -> dict:
    model = settings_selectors.scoring_model_latest()
    return {
        "work_start": settings.work_start,
        "work_end": settings.work_end,
        "default_sla_hours": settings.default_sla_hours,
        "min_closed_for_learning": settings.min_closed_for_learning,
        "learned_model": model,
    }


@router.get("/settings", response=LeadSettingsOut)
def lead_settings_read(request):
    """Working hours of the first-response clock, the default first-response time, the learned-score
    threshold, and when the learned model was last trained."""
    _may_manage_rules(request.user)
    return _settings_out(settings_selectors.lead_settings_get())


@router.put("/settings", response=LeadSettingsOut)
def lead_settings_update(request, payload: LeadSettingsIn):
    """Replaces the settings. Due times of existing leads stay; leads created from now on use the new hours."""
    _may_manage_rules(request.user)
    return _settings_out(services.lead_settings_update(actor=request.user, **payload.dict()))


@router.get("/assignment-rules", response=list[AssignmentRuleOut])
def assignment_rule_list(request):
    """New leads of a region go in turn to the users its rules name."""
    _may_manage_rules(request.user)
    return list(settings_selectors.assignment_rule_list())


@router.post("/assignment-rules", response={201: AssignmentRuleOut})
def assignment_rule_create(request, payload: AssignmentRuleIn):
    _may_manage_rules(request.user)
    user = User.objects.filter(pk=payload.user_id, is_active=True).first()
    if user is None:
        raise ValidationError({"user_id": [_("Choose an active user.")]})
    return Status(201, services.assignment_rule_set(actor=request.user, region=payload.region.strip(), user=user))


@router.delete("/assignment-rules/{rule_id}", response={204: None})
def assignment_rule_delete(request, rule_id: Id):
    _may_manage_rules(request.user)
    rule = settings_selectors.assignment_rule_list().filter(pk=rule_id).first()
    if rule is None:
        raise Http404
    services.assignment_rule_delete(actor=request.user, rule=rule)
    return Status(204, None)


@router.get("/sla-rules", response=list[SlaRuleOut])
def sla_rule_list(request):
    """First-response time limits per source, in working hours."""
    _may_manage_rules(request.user)
    return list(settings_selectors.sla_rule_list())


@router.post("/sla-rules", response=SlaRuleOut)
def sla_rule_set(request, payload: SlaRuleIn):
    """Sets the limit of a source (replacing its earlier one)."""
    _may_manage_rules(request.user)
    return services.sla_rule_set(actor=request.user, source=payload.source, hours=payload.hours)


@router.delete("/sla-rules/{sla_rule_id}", response={204: None})
def sla_rule_delete(request, sla_rule_id: Id):
    """Leads of that source then get the default first-response time."""
    _may_manage_rules(request.user)
    rule = settings_selectors.sla_rule_list().filter(pk=sla_rule_id).first()
    if rule is None:
        raise Http404
    services.sla_rule_delete(actor=request.user, rule=rule)
    return Status(204, None)


@router.get("/{lead_id}", response=LeadOut)
def lead_read(request, lead_id: Id):
    return selectors.lead_get(request.user, lead_id)


@router.patch("/{lead_id}", response={200: LeadOut, 409: LeadConflict})
def lead_patch(request, lead_id: Id, payload: LeadPatch):
    """Change a lead's fields; `version` is the one you read (409 when someone changed it since,
    or when the lead is converted)."""
    lead = selectors.lead_get(request.user, lead_id)
    fields = payload.dict(exclude_unset=True)
    version = fields.pop("version")
    fields = {k: v for k, v in fields.items() if v is not None}
    try:
        return services.lead_update(lead=lead, actor=request.user, expected_version=version, **fields)
    except services.LeadTransitionError as exc:
        return _conflict(exc)


@router.post("/{lead_id}/transition", response={200: LeadOut, 409: LeadConflict})
def lead_transition(request, lead_id: Id, payload: TransitionIn):
    """Respond (contacted), qualify, or disqualify with a reason."""
    lead = selectors.lead_get(request.user, lead_id)
    try:
        return services.lead_transition(
            lead=lead, actor=request.user, to_status=payload.to_status, reason=payload.reason, note=payload.note
        )
    except services.LeadTransitionError as exc:
        return _conflict(exc)


@router.post("/{lead_id}/assign", response=LeadOut)
def lead_assign(request, lead_id: Id, payload: LeadAssignIn):
    if not request.user.has_perm("leads.assign_lead"):
        raise PermissionDenied
    lead = selectors.lead_get(request.user, lead_id)
    return services.lead_assign(lead=lead, actor=request.user, owner=_team_member(request.user, payload.owner_id))


@router.post("/{lead_id}/convert", response={200: LeadOut, 409: LeadConflict})
def lead_convert(request, lead_id: Id, payload: ConvertIn):
    """Customer (new, or `customer_id`) + contact + opportunity, all or nothing. 409 when the lead
    is not qualified, or when the customer may already exist (`matches`; link it or allow_duplicate)."""
    if not request.user.has_perm("leads.convert_lead"):
        raise PermissionDenied
    lead = selectors.lead_get(request.user, lead_id)
    customer = None
    if payload.customer_id:
        customer = customer_qs_visible_to(request.user).filter(pk=payload.customer_id).first()
        if customer is None:
            raise ValidationError({"customer_id": [_("No customer with this id is visible to you.")]})
    try:
        return services.lead_convert(
            lead=lead,
            actor=request.user,
            customer=customer,
            allow_duplicate=payload.allow_duplicate,
            opportunity_name=payload.opportunity_name,
            amount=payload.amount,
        )
    except DuplicateCustomerError as exc:
        matches = [{"id": m.customer_id, "name": m.name} for m in exc.matches if getattr(m, "in_scope", False)]
        return Status(409, {"detail": " ".join(exc.messages), "code": "duplicate", "matches": matches})
    except services.LeadTransitionError as exc:
        return _conflict(exc)
