"""The service setup in the REST API (/api/v1/service): ticket categories, SLA policies (targets in
working minutes), service hours, and the installed base. Reading categories, policies and hours
needs support.view_ticket, changing them support.manage_service; units follow the customer's
visibility and support.add_installedunit / change_installedunit."""

from datetime import date, datetime, time
from typing import Annotated, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from pydantic import AfterValidator

from kehu.core.api import Day, Id, Keep, Page, Text
from kehu.core.pagination import Limit, Offset, page_of
from kehu.customers.selectors import customer_get
from kehu.support import setup_services as services
from kehu.support.models import Priority, ServiceSettings, SlaPolicy, TicketCategory
from kehu.support.selectors import unit_qs_visible_to

router = Router(tags=["service"])

Minutes = Annotated[int, Field(ge=1, le=services.MAX_TARGET_MINUTES)]
Priorities = Literal[*Priority.values]


def _naive(value: time) -> time:
    if value.tzinfo is not None:
        raise ValueError("give a local time without a time zone, like 08:30")
    return value


LocalTime = Annotated[time, AfterValidator(_naive)]


def _may_read(user) -> None:
    if not (user.has_perm("support.view_ticket") or user.has_perm("support.manage_service")):
        raise PermissionDenied


def _get(queryset, pk):
    try:
        return queryset.get(pk=pk)
    except queryset.model.DoesNotExist:
        raise Http404 from None


# ---- categories ------------------------------------------------------------------------------


class ServiceCategoryOut(Schema):
    id: int
    name: str
    is_active: bool


class ServiceCategoryIn(Schema):
    name: Text(100, blank=False)


class ServiceCategoryPatch(Schema):
    name: Text(100, blank=False) | None = None
    is_active: bool | None = None


@router.get("/categories", response=list[ServiceCategoryOut])
def service_category_list(request):
    _may_read(request.user)
    return list(TicketCategory.objects.order_by("name"))


@router.post("/categories", response={201: ServiceCategoryOut})
def service_category_create(request, payload: ServiceCategoryIn):
    return Status(201, services.category_create(actor=request.user, name=payload.name))


@router.patch("/categories/{ticket_category_id}", response=ServiceCategoryOut)
def service_category_update(request, ticket_category_id: Id, payload: ServiceCategoryPatch):
    if not request.user.has_perm("support.manage_service"):
        raise PermissionDenied
    category = _get(TicketCategory.objects.all(), ticket_category_id)
    return services.category_update(
        actor=request.user, category=category, name=payload.name, is_active=payload.is_active
    )


# ---- SLA policies ----------------------------------------------------------------------------


class SlaPolicyOut(Schema):
    id: int
    category_id: int | None
    priority: str
    first_response_minutes: int
    resolution_minutes: int


class SlaPolicyIn(Schema):
    category_id: Id | None = None
    priority: Priorities
    first_response_minutes: Minutes
    resolution_minutes: Minutes


class SlaPolicyPatch(Schema):
    first_response_minutes: Minutes | None = None
    resolution_minutes: Minutes | None = None


@router.get("/sla-policies", response=list[SlaPolicyOut])
def sla_policy_list(request):
    _may_read(request.user)
    return list(SlaPolicy.objects.order_by("category_id", "priority", "pk"))


@router.post("/sla-policies", response={201: SlaPolicyOut})
def sla_policy_create(request, payload: SlaPolicyIn):
    if not request.user.has_perm("support.manage_service"):
        raise PermissionDenied
    category = None
    if payload.category_id is not None:
        category = TicketCategory.objects.filter(pk=payload.category_id).first()
        if category is None:
            raise ValidationError({"category_id": [_("No such category.")]})
    policy = services.policy_save(
        actor=request.user,
        category=category,
        priority=payload.priority,
        first_response_minutes=payload.first_response_minutes,
        resolution_minutes=payload.resolution_minutes,
    )
    return Status(201, policy)


@router.patch("/sla-policies/{policy_id}", response=SlaPolicyOut)
def sla_policy_update(request, policy_id: Id, payload: SlaPolicyPatch):
    if not request.user.has_perm("support.manage_service"):
        raise PermissionDenied
    policy = _get(SlaPolicy.objects.select_related("category"), policy_id)
    return services.policy_save(
        actor=request.user,
        policy=policy,
        category=policy.category,
        priority=policy.priority,
        first_response_minutes=payload.first_response_minutes or policy.first_response_minutes,
        resolution_minutes=payload.resolution_minutes or policy.resolution_minutes,
    )


@router.delete("/sla-policies/{policy_id}", response={204: None})
def sla_policy_delete(request, policy_id: Id):
    if not request.user.has_perm("support.manage_service"):
        raise PermissionDenied
    services.policy_delete(actor=request.user, policy=_get(SlaPolicy.objects.select_related("category"), policy_id))
    return Status(204, None)


# ---- service hours ---------------------------------------------------------------------------


class ServiceHoursOut(Schema):
    day_starts: time
    lunch_starts: time
    lunch_ends: time
    day_ends: time
    warn_before_minutes: int
    updated_at: datetime


class ServiceHoursIn(Schema):
    day_starts: LocalTime
    lunch_starts: LocalTime
    lunch_ends: LocalTime
    day_ends: LocalTime
    warn_before_minutes: Annotated[int, Field(ge=0, le=24 * 60)]


@router.get("/hours", response=ServiceHoursOut)
def service_hours_read(request):
    _may_read(request.user)
    return ServiceSettings.load()


@router.put("/hours", response=ServiceHoursOut)
def service_hours_update(request, payload: ServiceHoursIn):
    """Replace the service hours: morning from `day_starts` to `lunch_starts`, afternoon from
    `lunch_ends` to `day_ends` (in this order); the open tickets are recomputed in the background."""
    return services.service_hours_update(actor=request.user, **payload.dict())


# ---- units -----------------------------------------------------------------------------------


class InstalledUnitOut(Schema):
    id: int
    customer_id: int
    product_id: int
    specification_id: int | None
    specification_code: str
    serial_number: str
    order_line_id: int | None
    installed_on: date | None
    warranty_starts_on: date | None
    warranty_ends_on: date | None
    created_at: datetime

    @staticmethod
    def resolve_specification_code(obj):
        return obj.specification.code if obj.specification_id else ""


class InstalledUnitList(Page):
    items: list[InstalledUnitOut]


class InstalledUnitQuery(Schema):
    customer_id: Id | None = None
    q: Text(100) = ""
    limit: Limit = 25
    offset: Offset = 0


class InstalledUnitIn(Schema):
    customer_id: Id
    specification_id: Id
    serial_number: Text(100) = ""
    installed_on: Day | None = None
    warranty_starts_on: Day | None = None
    warranty_ends_on: Day | None = None


class InstalledUnitPatch(Schema):
    specification_id: Id = Keep()
    serial_number: Text(100) | None = None
    installed_on: Day | None = None
    warranty_starts_on: Day | None = None
    warranty_ends_on: Day | None = None


def _specification(pk):
    from kehu.catalog.models import Specification

    spec = Specification.objects.filter(pk=pk, product__deleted_at__isnull=True).select_related("product").first()
    if spec is None:
        raise ValidationError({"specification_id": [_("No such specification in the catalog.")]})
    return spec


@router.get("/units", response=InstalledUnitList)
def installed_unit_list(request, query: Query[InstalledUnitQuery]):
    if not request.user.has_perm("support.view_installedunit"):
        raise PermissionDenied
    units = unit_qs_visible_to(request.user)
    if query.customer_id is not None:
        units = units.filter(customer_id=query.customer_id)
    if query.q.strip():
        needle = query.q.strip()
        units = units.filter(Q(serial_number__icontains=needle) | Q(specification__code__icontains=needle))
    return page_of(
        units.select_related("specification").order_by("-pk"), offset=query.offset, limit=query.limit
    ).as_dict()


@router.post("/units", response={201: InstalledUnitOut})
def installed_unit_create(request, payload: InstalledUnitIn):
    if not request.user.has_perm("support.add_installedunit"):
        raise PermissionDenied
    customer = customer_get(request.user, payload.customer_id)
    spec = _specification(payload.specification_id)
    unit = services.unit_create(
        actor=request.user,
        customer=customer,
        product=spec.product,
        specification=spec,
        serial_number=payload.serial_number,
        installed_on=payload.installed_on,
        warranty_starts_on=payload.warranty_starts_on,
        warranty_ends_on=payload.warranty_ends_on,
    )
    return Status(201, unit)


@router.get("/units/{unit_id}", response=InstalledUnitOut)
def installed_unit_read(request, unit_id: Id):
    return _get(unit_qs_visible_to(request.user).select_related("specification"), unit_id)


@router.patch("/units/{unit_id}", response=InstalledUnitOut)
def installed_unit_update(request, unit_id: Id, payload: InstalledUnitPatch):
    unit = _get(unit_qs_visible_to(request.user), unit_id)
    if not request.user.has_perm("support.change_installedunit"):
        raise PermissionDenied
    values = payload.dict(exclude_unset=True)
    if "specification_id" in values:
        spec_id = values.pop("specification_id")
        if spec_id is None:
            raise ValidationError({"specification_id": [_("A unit names its product's specification.")]})
        spec = _specification(spec_id)
        values.update(product=spec.product, specification=spec)
    if values.get("serial_number") is None:
        values.pop("serial_number", None)
    return services.unit_update(actor=request.user, unit=unit, **values)
