"""Customer information collection workflow (CUS-3): the information form, approval, archiving, routing."""

from datetime import date, datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from kehu.collection import selectors, services
from kehu.collection.models import InfoFormStatus
from kehu.core.api import Day, Id, LongText, Text
from kehu.core.pagination import Limit, Offset
from kehu.customers.models import Industry, Source
from kehu.customers.selectors import customer_get
from kehu.users.models import User

router = Router(tags=["collection"])
S = InfoFormStatus


class InfoFormOut(Schema):
    id: int
    status: str
    owner_id: int
    customer_id: int | None
    name: str
    industry: str
    region: str
    city: str
    address: str
    contact_name: str
    phone: str
    email: str
    credit_code: str
    source: str
    content: str
    collected_on: date
    filing_deadline: date
    filed_at: datetime | None
    filed_late: bool
    due_on: date | None
    is_overdue: bool
    return_reason: str
    updated_at: datetime
    version: int


class InfoFormList(Schema):
    items: list[InfoFormOut]
    has_next: bool


class InfoFormIn(Schema):
    name: Text(200)
    region: Text(50)
    source: Source
    collected_on: Day
    customer_id: Id | None = None
    industry: Industry | None = None
    city: Text(50) = ""
    address: Text(300) = ""
    contact_name: Text(100) = ""
    phone: Text(40) = ""
    email: Text(254) = ""
    credit_code: Text(18) = ""
    content: LongText() = ""
    draft: bool = Field(False, description="Keep it as a draft instead of filing it for approval.")


class FormQuery(Schema):
    status: InfoFormStatus | None = None
    waiting: bool = Field(False, description="Only forms waiting for the caller to act.")
    limit: Limit = 25
    offset: Offset = 0


class ApproveIn(Schema):
    customer_id: Id | None = Field(None, description="Link this existing customer instead of creating one.")
    create_anyway: bool = Field(False, description="Create a new customer although likely duplicates exist.")


class ReturnIn(Schema):
    reason: LongText(2000)


class RouteOut(Schema):
    id: int
    region: str
    rep_id: int


class RouteIn(Schema):
    region: Text(50)
    rep_id: Id


@router.get("/", response=InfoFormList)
def infoform_list(request, query: Query[FormQuery]):
    page = selectors.infoform_page(
        request.user, status=query.status or "", waiting=query.waiting, offset=query.offset, limit=query.limit
    )
    return {"items": page.rows, "has_next": page.has_next}


@router.post("/", response={201: InfoFormOut})
def infoform_file(request, payload: InfoFormIn):
    """Record a form and file it for approval (or keep it as a draft with `draft: true`)."""
    data = payload.dict()
    draft = data.pop("draft")
    customer_id = data.pop("customer_id")
    data["industry"] = data["industry"] or ""
    data["customer"] = customer_get(request.user, customer_id) if customer_id else None
    form = services.infoform_create(actor=request.user, file=not draft, **data)
    return Status(201, form)


@router.get("/routes", response=list[RouteOut])
def route_list(request):
    if not selectors.may_see_routes(request.user):
        raise PermissionDenied
    return list(selectors.routes())


@router.put("/routes", response=RouteOut)
def route_set(request, payload: RouteIn):
    """Route new customers of a region to a rep (replaces the region's route)."""
    services.check_may_route(request.user)
    rep = User.objects.filter(pk=payload.rep_id).first()
    if rep is None:
        raise ValidationError({"rep_id": [_("No such user.")]})
    return services.region_route_set(actor=request.user, region=payload.region, rep=rep)


@router.delete("/routes/{route_id}", response={204: None})
def route_delete(request, route_id: Id):
    services.region_route_delete(actor=request.user, route=selectors.route_get(route_id))
    return Status(204, None)


@router.get("/{form_id}", response=InfoFormOut)
def infoform_read(request, form_id: Id):
    return selectors.infoform_get(request.user, form_id)


@router.post("/{form_id}/file", response=InfoFormOut)
def infoform_refile(request, form_id: Id):
    """File a draft, or file a returned form again after correcting it."""
    form = selectors.infoform_get(request.user, form_id)
    return services.infoform_transition(form=form, actor=request.user, to=S.FILED)


@router.post("/{form_id}/approve", response=InfoFormOut)
def infoform_approve(request, form_id: Id, payload: ApproveIn):
    form = selectors.infoform_get(request.user, form_id)
    link = customer_get(request.user, payload.customer_id) if payload.customer_id else None
    return services.infoform_transition(
        form=form, actor=request.user, to=S.APPROVED, link_customer=link, create_anyway=payload.create_anyway
    )


@router.post("/{form_id}/return", response=InfoFormOut)
def infoform_return(request, form_id: Id, payload: ReturnIn):
    form = selectors.infoform_get(request.user, form_id)
    return services.infoform_transition(form=form, actor=request.user, to=S.RETURNED, reason=payload.reason)


@router.post("/{form_id}/archive", response=InfoFormOut)
def infoform_archive(request, form_id: Id):
    form = selectors.infoform_get(request.user, form_id)
    return services.infoform_transition(form=form, actor=request.user, to=S.ARCHIVED)
