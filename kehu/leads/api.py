"""Leads (SAL-1): list by score, create, read, patch with a version, status moves, assign and
convert. Outside the caller's scope a lead is 404; a move the status does not allow is 409."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from kehu.core.api import Id, Page, Text
from kehu.customers.models import Industry
from kehu.customers.selectors import customer_qs_visible_to
from kehu.customers.services import DuplicateCustomerError
from kehu.leads import scoring, selectors, services
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
    limit: Annotated[int, Field(ge=1, le=200)] = 25
    offset: Annotated[int, Field(ge=0, le=100_000)] = 0


class LeadIn(Schema):
    company_name: Text(200)
    contact_name: Text(100) = ""
    phone: Text(40) = ""
    email: Text(254) = ""
    region: Text(50) = ""
    industry: IndustryIn = ""
    size_band: SizeIn = ""
    source: SourceIn = LeadSource.MANUAL
    message: Text(4000) = ""
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
    message: Text(4000) | None = None


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
    return {"items": rows, "count": min(total, selectors.COUNT_CAP), "count_is_capped": capped}


@router.post("", response={201: LeadOut})
def lead_create(request, payload: LeadIn):
    user = request.user
    if not user.has_perm("leads.add_lead"):
        raise PermissionDenied
    data = payload.dict()
    owner_id = data.pop("owner_id")
    owner = user if owner_id in (None, user.pk) else _team_member(user, owner_id)
    return Status(201, services.lead_create(actor=user, owner=owner, **data))


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
