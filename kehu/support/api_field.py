"""Dispatch and on-site visits in the REST API (SRV-1), under /api/v1/service: engineers' profiles,
the ranking of engineers for a ticket and assigning from it, the engineer's visits (check in,
submit the report once per client token), and the catalog's parts for the report."""

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from kehu.core.api import Id, LongText, Page, Text
from kehu.core.pagination import Limit, Offset, page_of
from kehu.support import selectors, visit_selectors, visit_services
from kehu.support.dispatch import engineers_qs, rank_engineers
from kehu.support.visit_services import MAX_IMAGE_BYTES, PartLine, SkillLine, VisitReport

router = Router(tags=["service"])


class EngineerSkillOut(Schema):
    product_id: int | None
    category_id: int | None
    level: int
    certificate_number: str
    valid_until: date | None


class EngineerRegionOut(Schema):
    province: str
    city: str


class EngineerOut(Schema):
    id: int
    username: str
    name: str
    on_leave: bool
    leave_until: date | None
    hourly_rate: Decimal
    note: str
    skills: list[EngineerSkillOut]
    regions: list[EngineerRegionOut]


class EngineerPage(Page):
    items: list[EngineerOut]


class EngineerSkillIn(Schema):
    product_id: Id | None = None
    category_id: Id | None = Field(None, description="A product category: the skill covers its products.")
    level: int = Field(1, ge=1, le=5)
    certificate_number: Text(60) = ""
    valid_until: date | None = Field(None, description="An expired certificate does not count in dispatch.")


class EngineerRegionIn(Schema):
    province: Text(50)
    city: Text(50) = ""


class EngineerProfileIn(Schema):
    on_leave: bool = False
    leave_until: date | None = None
    hourly_rate: Decimal = Field(Decimal(0), ge=0, le=100000, max_digits=10, decimal_places=2)
    note: Text(200) = ""
    regions: list[EngineerRegionIn] = Field(default_factory=list, max_length=100)
    skills: list[EngineerSkillIn] = Field(default_factory=list, max_length=100)


class DispatchCandidateOut(Schema):
    engineer_id: int
    name: str
    score: int
    excluded: bool = Field(description="On leave: not to be sent.")
    reasons: list[str] = Field(description="Why, in the reader's language.")
    open_tickets: int
    visits_today: int
    first_fixed: int
    first_visits: int


class DispatchIn(Schema):
    engineer_id: Id
    planned_for: datetime | None = None
    version: int | None = Field(None, ge=0, le=2**31, description="The ticket's version you saw; 409 if it changed.")


class VisitPartOut(Schema):
    specification_id: int
    quantity: Decimal
    unit_cost: Decimal
    charged: bool


class ServiceVisitOut(Schema):
    id: int
    ticket_id: int
    engineer_id: int
    state: str
    client_token: str
    planned_for: datetime | None
    checked_in_at: datetime | None
    latitude: Decimal | None
    longitude: Decimal | None
    accuracy_m: int | None
    finished_at: datetime | None
    work_done: str
    fixed: bool
    minutes_spent: int
    travel_km: Decimal
    travel_cost: Decimal
    labour_cost: Decimal
    confirmation: str
    confirmed_by: str
    confirmed_at: datetime | None
    satisfaction: int | None
    customer_comment: str
    parts: list[VisitPartOut]

    @staticmethod
    def resolve_client_token(obj) -> str:
        return str(obj.client_token)

    @staticmethod
    def resolve_parts(obj) -> list:
        return list(obj.parts.all())


class ServiceVisitPage(Page):
    items: list[ServiceVisitOut]


class ServiceVisitSubmitted(ServiceVisitOut):
    replay: bool = Field(description="True when this report had been taken already (a retry): nothing changed.")


class ServiceVisitQuery(Schema):
    when: Literal["upcoming", "done"] = "upcoming"
    everyone: bool = Field(False, description="Everyone's visits (for those who dispatch).")
    limit: Limit = 50
    offset: Offset = 0


class VisitPositionIn(Schema):
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    accuracy: float | None = Field(None, ge=0, le=1_000_000)


class VisitPartIn(Schema):
    specification_id: Id
    quantity: Decimal = Field(gt=0, le=100000, max_digits=12, decimal_places=3)
    charged: bool = False


# An image of MAX_IMAGE_BYTES as base64 in a data: URL, with its header.
DATA_URL_MAX_LENGTH = MAX_IMAGE_BYTES * 4 // 3 + 100


class VisitReportIn(VisitPositionIn):
    client_token: Text(36) = Field(description="The visit's client_token: the report is taken once.")
    work_done: LongText(10000)
    fixed: bool = False
    resolve: bool = Field(False, description="Fixed: resolve the ticket too.")
    minutes_spent: int = Field(0, ge=0, le=1440)
    travel_km: Decimal = Field(Decimal(0), ge=0, le=100000, max_digits=8, decimal_places=1)
    travel_cost: Decimal = Field(Decimal(0), ge=0, le=10**9, max_digits=12, decimal_places=2)
    parts: list[VisitPartIn] = Field(default_factory=list, max_length=50)
    photos: list[str] = Field(
        default_factory=list, max_length=6, description="data: URLs of JPEG, PNG or WebP images (4 MB each)."
    )
    signature: Text(DATA_URL_MAX_LENGTH) = Field("", description="The customer's signature: a data: URL of a PNG.")
    confirmed_by: Text(100) = ""
    satisfaction: int | None = Field(None, ge=1, le=5)
    checked_in_at: datetime | None = Field(None, description="When checked in offline (else: now).")


class ServicePartOut(Schema):
    id: int
    code: str
    name: str
    unit: str
    cost: Decimal


def _engineer(user) -> dict:
    profile = getattr(user, "engineer_profile", None)
    return {
        "id": user.pk,
        "username": user.username,
        "name": user.display_name,
        "on_leave": bool(profile and profile.on_leave),
        "leave_until": profile.leave_until if profile else None,
        "hourly_rate": profile.hourly_rate if profile else Decimal(0),
        "note": profile.note if profile else "",
        "skills": list(profile.skills.all()) if profile else [],
        "regions": list(profile.regions.all()) if profile else [],
    }


def _use(user, perm: str):
    if not user.has_perm(perm):
        raise PermissionDenied


@router.get("/engineers", response=EngineerPage)
def engineer_list(request, limit: Limit = 50, offset: Offset = 0):
    """Service engineers with their skills, certificates, regions and leave."""
    _use(request.user, "support.dispatch_ticket")
    qs = engineers_qs().prefetch_related("engineer_profile__skills", "engineer_profile__regions")
    page = page_of(qs, offset=offset, limit=limit)
    return {**page.as_dict(), "items": [_engineer(u) for u in page.rows]}


@router.get("/engineers/{engineer_id}", response=EngineerOut)
def engineer_read(request, engineer_id: Id):
    _use(request.user, "support.dispatch_ticket")
    return _engineer(visit_selectors.engineer_get(engineer_id))


@router.put("/engineers/{engineer_id}", response=EngineerOut)
def engineer_update(request, engineer_id: Id, payload: EngineerProfileIn):
    """Replace the engineer's profile: leave, labour rate, regions and skills (needs manage_service)."""
    _use(request.user, "support.manage_service")
    engineer = visit_selectors.engineer_get(engineer_id)
    visit_services.engineer_profile_save(
        engineer=engineer,
        actor=request.user,
        on_leave=payload.on_leave,
        leave_until=payload.leave_until,
        hourly_rate=payload.hourly_rate,
        note=payload.note,
        regions=list(dict.fromkeys((r.province.strip(), r.city.strip()) for r in payload.regions)),
        skills=[SkillLine(**s.dict()) for s in payload.skills],
    )
    return _engineer(visit_selectors.engineer_get(engineer_id))


@router.get("/tickets/{ticket_id}/dispatch", response=list[DispatchCandidateOut])
def dispatch_ranking(request, ticket_id: Id):
    """Engineers ranked for the ticket (best first; those on leave last, excluded) with the reasons."""
    _use(request.user, "support.dispatch_ticket")
    ticket = selectors.ticket_get(request.user, ticket_id)
    return [
        {
            "engineer_id": c.engineer.pk,
            "name": c.engineer.display_name,
            "score": c.score,
            "excluded": c.excluded,
            "reasons": c.reasons,
            "open_tickets": c.open_tickets,
            "visits_today": c.visits_today,
            "first_fixed": c.first_fixed,
            "first_visits": c.first_visits,
        }
        for c in rank_engineers(ticket)
    ]


@router.post("/tickets/{ticket_id}/dispatch", response={201: ServiceVisitOut})
def dispatch_assign(request, ticket_id: Id, payload: DispatchIn):
    """Send the engineer to the ticket and plan their visit."""
    _use(request.user, "support.dispatch_ticket")
    ticket = selectors.ticket_get(request.user, ticket_id)
    engineer = engineers_qs().filter(pk=payload.engineer_id).first()
    if engineer is None:
        raise ValidationError({"engineer_id": [_("No such engineer.")]})
    visit = visit_services.visit_plan(
        ticket=ticket,
        engineer=engineer,
        actor=request.user,
        planned_for=payload.planned_for,
        expected_version=payload.version,
    )
    return Status(201, visit)


@router.get("/visits", response=ServiceVisitPage)
def visit_list(request, query: Query[ServiceVisitQuery]):
    """Your visits to do (planned or on site, soonest first) or done (latest first)."""
    _use(request.user, "support.view_servicevisit")
    qs = visit_selectors.visit_list(request.user, mine=not query.everyone, when=query.when).prefetch_related("parts")
    return page_of(qs, offset=query.offset, limit=query.limit).as_dict()


@router.get("/visits/{visit_id}", response=ServiceVisitOut)
def visit_read(request, visit_id: Id):
    _use(request.user, "support.view_servicevisit")
    return visit_selectors.visit_get(request.user, visit_id)


@router.post("/visits/{visit_id}/check-in", response=ServiceVisitOut)
def visit_check_in(request, visit_id: Id, payload: VisitPositionIn):
    """On site now, with the phone's position if it gave one."""
    _use(request.user, "support.change_servicevisit")
    visit = visit_selectors.visit_get(request.user, visit_id)
    return visit_services.visit_check_in(
        visit=visit,
        actor=request.user,
        latitude=payload.latitude,
        longitude=payload.longitude,
        accuracy=payload.accuracy,
    )


@router.post("/visits/{visit_id}/submit", response=ServiceVisitSubmitted)
def visit_submit(request, visit_id: Id, payload: VisitReportIn):
    """Finish the visit with its report; sent again with the same client_token: the first answer."""
    _use(request.user, "support.change_servicevisit")
    visit = visit_selectors.visit_get(request.user, visit_id)
    report = VisitReport(
        client_token=payload.client_token,
        work_done=payload.work_done,
        fixed=payload.fixed,
        resolve=payload.resolve,
        minutes_spent=payload.minutes_spent,
        travel_km=payload.travel_km,
        travel_cost=payload.travel_cost,
        parts=[PartLine(p.specification_id, p.quantity, p.charged) for p in payload.parts],
        photos=payload.photos,
        signature=payload.signature,
        confirmed_by=payload.confirmed_by,
        satisfaction=payload.satisfaction,
        latitude=payload.latitude,
        longitude=payload.longitude,
        accuracy=payload.accuracy,
        checked_in_at=payload.checked_in_at,
    )
    visit, replay = visit_services.visit_submit(visit=visit, actor=request.user, report=report)
    visit.replay = replay
    return visit


@router.get("/parts", response=list[ServicePartOut])
def part_search(request, q: Text(50) = ""):
    """Catalog specifications whose code or name (or product's) has `q`, for a visit's parts (10 at most)."""
    _use(request.user, "support.change_servicevisit")
    return [
        {
            "id": s.pk,
            "code": s.code,
            "name": f"{s.product.name} {s.name}",
            "unit": s.product.unit,
            "cost": (s.product.cost or Decimal(0)).quantize(Decimal("0.01")),
        }
        for s in visit_selectors.part_search(q)
    ]
