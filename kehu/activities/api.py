"""Activities (visits, calls, meetings, emails, notes, commitments) in the REST API.

Visit plans, visit logs, check-ins, the week plan and the open commitments go through the same
selectors and services as the pages (SAL-7, SAL-12)."""

from datetime import date, datetime, time, timedelta
from typing import Annotated

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from pydantic import model_validator

from kehu.activities import selectors, services
from kehu.activities.models import Activity, ActivityKind, CheckInWarning
from kehu.core.api import Day, Id, LongText, Moment, Page, Text
from kehu.core.pagination import Limit, Offset, page_of
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
    check_in_latitude: float | None
    check_in_longitude: float | None
    check_in_accuracy_m: int | None
    check_in_distance_m: int | None = Field(description="Metres from the customer (or its city centre).")
    check_in_basis: str = Field(
        description="What the distance was measured from: `customer` (its coordinates), `place` (the centre of "
        "its city, from the address), or empty (no position, or no known place)."
    )
    check_in_place: str = Field(description="The city or district whose centre was used, for basis `place`.")
    check_in_days_off: int | None = Field(description="Days from the planned day to the check-in (negative: before).")
    check_in_warnings: list[str] = Field(description="`far`, `off_day`, `no_position`: what a manager should review.")
    version: int

    @staticmethod
    def resolve_check_in_warnings(obj) -> list[str]:
        return obj.check_in_warning_codes


class ActivityList(Page):
    items: list[ActivityOut]


class CommitmentOut(ActivityOut):
    overdue: bool = Field(description="Open and due before today.")
    customer_name: str

    @staticmethod
    def resolve_overdue(obj) -> bool:
        return obj.is_overdue

    @staticmethod
    def resolve_customer_name(obj) -> str:
        return obj.customer.name


class CommitmentList(Page):
    items: list[CommitmentOut]


class CommitmentQuery(Schema):
    user_id: Id | None = Field(None, description="A member of your team; default: yourself.")
    team: bool = Field(False, description="Everyone's in your data scope (a manager's team).")
    limit: Limit = 50
    offset: Offset = 0


class CommitmentStateIn(Schema):
    version: Annotated[int, Field(ge=1, le=2**31)] | None = Field(
        None, description="The version you saw; a stale one is refused with 409."
    )


class CheckInQuery(Schema):
    user_id: Id | None = Field(None, description="A member of your team; default: everyone you may see.")
    warning: CheckInWarning | None = Field(None, description="Only check-ins with this warning.")
    flagged: bool = Field(True, description="Only check-ins with a warning; false lists every check-in.")
    date_from: Day | None = Field(None, description="Checked in on or after this day.")
    date_to: Day | None = Field(None, description="Checked in on or before this day.")
    limit: Limit = 50
    offset: Offset = 0


class CheckInOut(ActivityOut):
    customer_name: str

    @staticmethod
    def resolve_customer_name(obj) -> str:
        return obj.customer.name


class CheckInList(Page):
    items: list[CheckInOut]


class WeekPlanQuery(Schema):
    user_id: Id | None = Field(None, description="A member of your team; default: yourself.")
    week: Day | None = Field(None, description="Any day of the week; default: this week.")


class WeekDayOut(Schema):
    day: date
    items: list[ActivityOut]


class WeekPlanOut(Schema):
    user_id: int
    start: date
    end: date = Field(description="The last day of the week (Sunday).")
    days: list[WeekDayOut]


class VisitPlanIn(Schema):
    customer_id: Id
    contact_id: Id | None = None
    planned_for: Moment
    subject: Text(200, blank=False)
    purpose: Text(200) = ""


class VisitLogIn(Schema):
    purpose: Text(200) | None = Field(None, description="Leave out to keep the planned purpose.")
    duration_minutes: Minutes | None = None
    content: LongText() = ""
    outcome: LongText() = ""
    next_step: Text(300) = ""
    version: Annotated[int, Field(ge=1, le=2**31)] | None = None


Coordinate = Annotated[float, Field(allow_inf_nan=False)]


class VisitCheckInIn(Schema):
    """The position is optional (time only without it); the time is always the server's."""

    latitude: Annotated[Coordinate, Field(ge=-90, le=90)] | None = None
    longitude: Annotated[Coordinate, Field(ge=-180, le=180)] | None = None
    accuracy: Annotated[Coordinate, Field(ge=0, le=1_000_000, description="Metres.")] | None = None
    version: Annotated[int, Field(ge=1, le=2**31)] | None = None

    @model_validator(mode="after")
    def both_or_neither(self):
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError(_("Give both latitude and longitude, or neither."))
        if self.accuracy is not None and self.latitude is None:
            raise ValueError(_("An accuracy belongs to a position: give latitude and longitude too."))
        return self


class ActivityIn(Schema):
    customer_id: Id
    contact_id: Id | None = None
    kind: ActivityKind = ActivityKind.NOTE
    subject: Text(200, blank=False)
    content: LongText() = ""
    occurred_at: Moment | None = None
    duration_minutes: Minutes | None = None
    due_on: Day | None = None


MailAddress = Annotated[Text(254), Field(json_schema_extra={"format": "email"})]


class CustomerMailIn(Schema):
    customer_id: Id
    contact_id: Id | None = None
    to: Annotated[list[MailAddress], Field(min_length=1, max_length=services.MAIL_MAX_RECIPIENTS)]
    subject: Text(200, blank=False)
    body: LongText()


class ActivityPatch(Schema):
    contact_id: Id | None = None
    kind: ActivityKind | None = None
    subject: Text(200, blank=False) | None = None
    content: LongText() | None = None
    occurred_at: Moment | None = None
    duration_minutes: Minutes | None = None
    due_on: Day | None = None
    is_done: bool | None = Field(None, description="true marks a commitment as kept; false reopens it.")
    version: Annotated[int, Field(ge=1, le=2**31)] | None = None


class ActivityQuery(Schema):
    customer_id: Id | None = None
    kind: ActivityKind | None = None
    open_commitments: bool = False
    planned: bool = Field(False, description="Only visit plans not yet logged.")
    date_from: Day | None = Field(None, description="From this day (when it happened or is planned).")
    date_to: Day | None = Field(None, description="Up to and including this day.")
    limit: Limit = 25
    offset: Offset = 0


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
    if query.planned:
        qs = qs.filter(kind=ActivityKind.VISIT, planned_for__isnull=False, is_done=False)
    if query.date_from and query.date_to and query.date_from > query.date_to:
        raise ValidationError({"date_to": [_("The end comes before the start.")]})
    tz = timezone.get_current_timezone()
    if query.date_from:
        qs = qs.filter(occurred_at__gte=datetime.combine(query.date_from, time.min, tzinfo=tz))
    if query.date_to:
        qs = qs.filter(occurred_at__lt=datetime.combine(query.date_to + timedelta(days=1), time.min, tzinfo=tz))
    qs = qs.order_by("-occurred_at", "-id")
    return page_of(qs, offset=query.offset, limit=query.limit).as_dict()


def _may_view(request) -> None:
    if not request.user.has_perm("activities.view_activity"):
        raise PermissionDenied


@router.get("/week", response=WeekPlanOut)
def week_plan(request, query: Query[WeekPlanQuery]):
    """One person's week, Monday to Sunday: planned and logged visits, calls, meetings, commitments due.
    Your own, or (for a manager) a member of your team; anyone else is 404."""
    _may_view(request)
    person = selectors.task_person(request.user, query.user_id, team=False)
    start = selectors.week_start(query.week or timezone.localdate())
    items = list(selectors.week_activities(request.user, start=start, person=person))
    return {
        "user_id": person.pk,
        "start": start,
        "end": start + timedelta(days=6),
        "days": selectors.week_days(items, start),
    }


@router.get("/commitments", response=CommitmentList)
def commitment_list(request, query: Query[CommitmentQuery]):
    """Open commitments (承诺), due soonest first, each flagged `overdue`: yours, a team member's, or with
    `team=true` everyone's you may see."""
    _may_view(request)
    person = selectors.task_person(request.user, query.user_id, team=query.team)
    qs = selectors.open_commitments_for(request.user, person=person)
    return page_of(qs, offset=query.offset, limit=query.limit).as_dict()


@router.get("/check-ins", response=CheckInList)
def check_in_list(request, query: Query[CheckInQuery]):
    """Visit check-ins (签到), newest first, with their distance and warnings: by default those with a
    warning (far from the customer, far from the planned day, no position) for a manager to review."""
    _may_view(request)
    if query.date_from and query.date_to and query.date_from > query.date_to:
        raise ValidationError({"date_to": [_("The end comes before the start.")]})
    person = selectors.person_for(request.user, query.user_id) if query.user_id else None
    filters = selectors.CheckInFilters(
        person=person,
        warning=query.warning or "",
        flagged=query.flagged,
        date_from=query.date_from,
        date_to=query.date_to,
    )
    qs = selectors.check_ins_for(request.user, filters)
    return page_of(qs, offset=query.offset, limit=query.limit).as_dict()


@router.post("/visits", response={201: ActivityOut})
def visit_plan(request, payload: VisitPlanIn):
    """Plan a visit (拜访计划) to a customer you may see; it shows on your week until it is logged."""
    customer = customer_selectors.customer_get(request.user, payload.customer_id)
    contact = _contact(request.user, customer, payload.contact_id)
    activity = services.visit_plan(
        customer=customer,
        actor=request.user,
        planned_for=payload.planned_for,
        subject=payload.subject,
        purpose=payload.purpose,
        contact=contact,
    )
    return Status(201, activity)


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


@router.post("/emails", response={201: ActivityOut})
def email_send(request, payload: CustomerMailIn):
    """Write to a customer: the mail is queued in the outbox (Reply-To: you) and kept on the customer's
    timeline as an e-mail activity; `content` holds the message. 400 names the bad address."""
    customer = customer_selectors.customer_get(request.user, payload.customer_id)
    contact = _contact(request.user, customer, payload.contact_id)
    activity = services.email_send(
        customer=customer,
        actor=request.user,
        to=payload.to,
        subject=payload.subject,
        body=payload.body,
        contact=contact,
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
    elif is_done is False and activity.kind == ActivityKind.COMMITMENT:
        activity = services.commitment_mark_undone(activity=activity, actor=request.user)
    return activity


@router.delete("/{activity_id}", response={204: None})
def activity_delete(request, activity_id: Id):
    services.activity_delete(activity=selectors.activity_get(request.user, activity_id), actor=request.user)
    return Status(204, None)


def _for_change(request, activity_id: int):
    activity = selectors.activity_get(request.user, activity_id)
    if activity.owner_id != request.user.pk and not request.user.has_perm("activities.change_activity"):
        raise PermissionDenied
    return activity


@router.post("/{activity_id}/check-in", response=ActivityOut)
def visit_check_in(request, activity_id: Id, payload: VisitCheckInIn):
    """Check in on a planned visit (签到): the server's time, and the position if given."""
    activity = _for_change(request, activity_id)
    check_version(activity, payload.version)
    return services.visit_check_in(
        activity=activity,
        actor=request.user,
        latitude=payload.latitude,
        longitude=payload.longitude,
        accuracy=payload.accuracy,
    )


@router.post("/{activity_id}/visit-log", response=ActivityOut)
def visit_log(request, activity_id: Id, payload: VisitLogIn):
    """Log how a planned visit went (拜访记录): it is done and lands on the customer's timeline."""
    activity = _for_change(request, activity_id)
    data = payload.dict()
    check_version(activity, data.pop("version"))
    return services.visit_log_result(activity=activity, actor=request.user, **data)


@router.post("/{activity_id}/done", response=ActivityOut)
def commitment_done(request, activity_id: Id, payload: CommitmentStateIn | None = None):
    """Mark a commitment as kept."""
    activity = selectors.activity_get(request.user, activity_id)
    check_version(activity, payload.version if payload else None)
    return services.commitment_mark_done(activity=activity, actor=request.user)


@router.post("/{activity_id}/undone", response=ActivityOut)
def commitment_undone(request, activity_id: Id, payload: CommitmentStateIn | None = None):
    """Reopen a commitment marked as kept by mistake."""
    activity = selectors.activity_get(request.user, activity_id)
    check_version(activity, payload.version if payload else None)
    return services.commitment_mark_undone(activity=activity, actor=request.user)
