"""Activities (visits, calls, meetings, emails, notes, commitments) in the REST API."""

from datetime import date, datetime
from typing import Annotated

from django.db import transaction
from ninja import Field, Query, Router, Schema, Status

from kehu.activities import selectors, services
from kehu.activities.models import Activity, ActivityKind
from kehu.core.api import Day, Id, Moment, Page, Text
from kehu.customers import selectors as customer_selectors
from kehu.customers.api import check_version, model_values

router = Router(tags=["activities"])
Minutes = Annotated[int, Field(ge=0, le=24 * 60)]


class ActivityOut(Schema):
    id: int
    customer_id: int
    contact_id: int | None
    kind: str
    subject: str
    content: str
    occurred_at: datetime
    duration_minutes: int | None
    due_on: date | None
    is_done: bool
    done_at: datetime | None
    owner_id: int
    planned_for: datetime | None
    purpose: str
    outcome: str
    next_step: str
    checked_in_at: datetime | None
    version: int


class ActivityList(Page):
    items: list[ActivityOut]


class ActivityIn(Schema):
    customer_id: Id
    contact_id: Id | None = None
    kind: ActivityKind = ActivityKind.NOTE
    subject: Text(200)
    content: Text(20_000) = ""
    occurred_at: Moment | None = None
    duration_minutes: Minutes | None = None
    due_on: Day | None = None


class ActivityPatch(Schema):
    contact_id: Id | None = None
    kind: ActivityKind | None = None
    subject: Text(200) | None = None
    content: Text(20_000) | None = None
    occurred_at: Moment | None = None
    duration_minutes: Minutes | None = None
    due_on: Day | None = None
    is_done: bool | None = Field(None, description="Set true to mark a commitment as kept.")
    version: Annotated[int, Field(ge=1, le=2**31)] | None = None


class ActivityQuery(Schema):
    customer_id: Id | None = None
    kind: ActivityKind | None = None
    open_commitments: bool = False
    limit: Annotated[int, Field(ge=1, le=200)] = 25
    offset: Annotated[int, Field(ge=0, le=100_000)] = 0


def _contact(user, customer, contact_id):
    if contact_id is None:
        return None
    return customer_selectors.contact_get(user, contact_id)


@router.get("/", response=ActivityList)
def activity_list(request, query: Query[ActivityQuery]):
    qs = selectors.activity_qs_visible_to(request.user)
    if query.customer_id:
        qs = qs.filter(customer_id=query.customer_id)
    if query.kind:
        qs = qs.filter(kind=query.kind)
    if query.open_commitments:
        qs = qs.filter(kind=ActivityKind.COMMITMENT, is_done=False)
    qs = qs.order_by("-occurred_at", "-id")
    count, capped = customer_selectors.capped_count(qs)
    return {"items": list(qs[query.offset : query.offset + query.limit]), "count": count, "count_is_capped": capped}


@router.post("/", response={201: ActivityOut})
def activity_create(request, payload: ActivityIn):
    data = payload.dict()
    customer = customer_selectors.customer_get(request.user, data.pop("customer_id"))
    contact = _contact(request.user, customer, data.pop("contact_id"))
    if data["occurred_at"] is None:
        data.pop("occurred_at")
    activity = services.activity_log(
        customer=customer, actor=request.user, contact=contact, **model_values(Activity, data)
    )
    return Status(201, activity)


@router.get("/{activity_id}", response=ActivityOut)
def activity_read(request, activity_id: Id):
    return selectors.activity_get(request.user, activity_id)


@router.patch("/{activity_id}", response=ActivityOut)
@transaction.atomic
def activity_update(request, activity_id: Id, payload: ActivityPatch):
    """Change an activity; `is_done: true` marks a commitment as kept. All of it happens, or none."""
    activity = selectors.activity_get(request.user, activity_id)
    data = payload.dict(exclude_unset=True)
    version = check_version(activity, data.pop("version", None))
    is_done = data.pop("is_done", None)
    if "contact_id" in data:
        data["contact"] = _contact(request.user, activity.customer, data.pop("contact_id"))
    # null on a required field means "leave it as it is"
    data = {k: v for k, v in data.items() if v is not None or k not in ("occurred_at", "kind", "subject")}
    if data:
        activity = services.activity_update(
            activity=activity, actor=request.user, expected_version=version, **model_values(Activity, data)
        )
    if is_done:
        activity = services.commitment_mark_done(activity=activity, actor=request.user)
    return activity


@router.delete("/{activity_id}", response={204: None})
def activity_delete(request, activity_id: Id):
    services.activity_delete(activity=selectors.activity_get(request.user, activity_id), actor=request.user)
    return Status(204, None)
