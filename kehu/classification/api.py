"""Classification in the REST API (CLS-1..6): suggestions and decisions, evaluations, revenue
inputs, credit and the sales-time report, through the same selectors and services as the pages."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from kehu.classification import approval, selectors, services
from kehu.classification.models import (
    Attractiveness,
    CreditRating,
    CreditRecord,
    CustomerRevenue,
    DealerEvaluation,
    KeyAccountEvaluation,
    RelationshipLevel,
    RelationshipState,
    SuggestionStatus,
)
from kehu.core.api import Day, Id, LongText, Page
from kehu.core.pagination import Limit, Offset, page_of
from kehu.customers.selectors import customer_get

router = Router(tags=["classification"])

Money = Annotated[Decimal, Field(ge=0, max_digits=16, decimal_places=2)]
Percent = Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)]
Score = Annotated[int, Field(ge=1, le=5)]
Year = Annotated[int, Field(ge=1900, le=2999)]
Reason = Annotated[LongText(2000), Field(min_length=1)]


# --- suggestions --------------------------------------------------------------------------------


class SuggestionOut(Schema):
    id: int
    customer_id: int
    customer_name: str = Field(alias="customer.name")
    current_tier: str
    proposed_tier: str
    is_promotion: bool
    year: int
    revenue: Decimal
    potential: Decimal
    rank: int
    ranked: int
    revenue_share: Decimal
    status: str
    created_at: datetime
    decided_by_id: int | None
    decided_at: datetime | None
    reason: str


class SuggestionList(Page):
    items: list[SuggestionOut]


class SuggestionQuery(Schema):
    status: SuggestionStatus = SuggestionStatus.OPEN
    direction: str = Field("", pattern="^(|up|down)$")
    limit: Limit = 25
    offset: Offset = 0


class DecisionIn(Schema):
    reason: Reason


def _decider(request):
    if not request.user.has_perm("classification.decide_tier"):
        raise PermissionDenied


@router.get("/suggestions", response=SuggestionList)
def suggestion_list(request, query: Query[SuggestionQuery]):
    """Tier suggestions on customers in your scope, best ranked first (needs classification.decide_tier)."""
    _decider(request)
    qs = selectors.suggestion_list(request.user, status=query.status, direction=query.direction)
    return page_of(qs, offset=query.offset, limit=query.limit).as_dict()


@router.post("/suggestions/{suggestion_id}/accept", response=SuggestionOut)
def suggestion_accept(request, suggestion_id: Id, payload: DecisionIn):
    """Accept: the customer's tier changes (timeline and audit trail record it)."""
    _decider(request)
    suggestion = selectors.suggestion_get(request.user, suggestion_id)
    return services.suggestion_accept(suggestion=suggestion, actor=request.user, reason=payload.reason)


@router.post("/suggestions/{suggestion_id}/reject", response=SuggestionOut)
def suggestion_reject(request, suggestion_id: Id, payload: DecisionIn):
    _decider(request)
    suggestion = selectors.suggestion_get(request.user, suggestion_id)
    return services.suggestion_reject(suggestion=suggestion, actor=request.user, reason=payload.reason)


# --- evaluations, revenue, credit ---------------------------------------------------------------


class EvaluationListQuery(Schema):
    customer_id: Id | None = None
    limit: Limit = 25
    offset: Offset = 0


def _records(request, model, query: EvaluationListQuery, order):
    qs = selectors.evaluations_visible_to(request.user, model)
    if query.customer_id:
        qs = qs.filter(customer=customer_get(request.user, query.customer_id))
    return page_of(qs.order_by(*order), offset=query.offset, limit=query.limit).as_dict()


class KeyEvaluationIn(Schema):
    customer_id: Id
    evaluated_on: Day | None = None
    attractiveness: Attractiveness
    potential_volume: Money
    potential_margin: Percent
    relationship_state: RelationshipState
    relationship_level: RelationshipLevel
    notes: LongText() = ""


class KeyEvaluationOut(Schema):
    id: int
    customer_id: int
    evaluated_on: date
    attractiveness: str
    potential_volume: Decimal
    potential_margin: Decimal
    relationship_state: str
    relationship_level: str
    notes: str
    evaluated_by_id: int | None
    created_at: datetime


class KeyEvaluationList(Page):
    items: list[KeyEvaluationOut]


class DealerEvaluationIn(Schema):
    customer_id: Id
    evaluated_on: Day | None = None
    enthusiasm: Score
    enthusiasm_notes: LongText() = ""
    capability: Score
    capability_notes: LongText() = ""
    credit: Score
    credit_notes: LongText() = ""
    social: Score
    social_notes: LongText() = ""


class DealerEvaluationOut(Schema):
    id: int
    customer_id: int
    evaluated_on: date
    enthusiasm: int
    enthusiasm_notes: str
    capability: int
    capability_notes: str
    credit: int
    credit_notes: str
    social: int
    social_notes: str
    total: int
    evaluated_by_id: int | None
    created_at: datetime


class DealerEvaluationList(Page):
    items: list[DealerEvaluationOut]


def _values(payload: Schema) -> tuple[int, dict]:
    data = payload.dict()
    customer_id = data.pop("customer_id")
    for key in ("evaluated_on", "investigated_on"):
        if key in data and data[key] is None:
            data.pop(key)
    return customer_id, {k: getattr(v, "value", v) for k, v in data.items()}


@router.get("/evaluations/key-account", response=KeyEvaluationList)
def key_evaluation_list(request, query: Query[EvaluationListQuery]):
    """Key-account evaluations (CLS-2, CLS-5), newest first; history is kept."""
    return _records(request, KeyAccountEvaluation, query, ("-evaluated_on", "-id"))


@router.post("/evaluations/key-account", response={201: KeyEvaluationOut})
def key_evaluation_create(request, payload: KeyEvaluationIn):
    customer_id, data = _values(payload)
    customer = customer_get(request.user, customer_id)
    return Status(201, services.key_evaluation_create(customer=customer, actor=request.user, **data))


@router.get("/evaluations/dealer", response=DealerEvaluationList)
def dealer_evaluation_list(request, query: Query[EvaluationListQuery]):
    """Dealer evaluations (经销商评价, CLS-3), newest first."""
    return _records(request, DealerEvaluation, query, ("-evaluated_on", "-id"))


@router.post("/evaluations/dealer", response={201: DealerEvaluationOut})
def dealer_evaluation_create(request, payload: DealerEvaluationIn):
    customer_id, data = _values(payload)
    customer = customer_get(request.user, customer_id)
    return Status(201, services.dealer_evaluation_create(customer=customer, actor=request.user, **data))


class RevenueIn(Schema):
    customer_id: Id
    year: Year
    revenue: Money
    potential: Money


class RevenueOut(Schema):
    id: int
    customer_id: int
    year: int
    revenue: Decimal
    potential: Decimal
    recorded_by_id: int | None
    recorded_at: datetime


class RevenueList(Page):
    items: list[RevenueOut]


@router.get("/revenue", response=RevenueList)
def revenue_list(request, query: Query[EvaluationListQuery]):
    """Revenue and potential per customer and year: what the tier ranking reads."""
    return _records(request, CustomerRevenue, query, ("-year", "customer_id"))


@router.post("/revenue", response=RevenueOut)
def revenue_record(request, payload: RevenueIn):
    """Record or correct a customer's revenue and potential for a year."""
    customer_id, data = _values(payload)
    customer = customer_get(request.user, customer_id)
    return services.revenue_record(customer=customer, actor=request.user, **data)


class CreditIn(Schema):
    customer_id: Id
    rating: CreditRating
    limit: Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]
    investigated_on: Day | None = None
    investigation: LongText() = ""


class CreditOut(Schema):
    id: int
    customer_id: int
    rating: str
    limit: Decimal
    currency: str = "CNY"
    investigated_on: date
    investigation: str
    set_by_id: int | None
    created_at: datetime


class CreditList(Page):
    items: list[CreditOut]


@router.get("/credit", response=CreditList)
def credit_list(request, query: Query[EvaluationListQuery]):
    """Credit records, newest first: the first one of a customer is in force (CLS-4)."""
    return _records(request, CreditRecord, query, ("-created_at", "-id"))


class CreditPending(Schema):
    detail: str
    approval_request_id: int


@router.post("/credit", response={201: CreditOut, 202: CreditPending})
def credit_set(request, payload: CreditIn):
    """Set a customer's credit rating and limit (needs classification.set_credit). A limit above
    the tier's default answers 202 with the approval request: it takes effect once approved."""
    customer_id, data = _values(payload)
    customer = customer_get(request.user, customer_id)
    saved = services.credit_set(customer=customer, actor=request.user, **data)
    if approval.is_request(saved):
        return Status(202, {"detail": _("Sent for approval."), "approval_request_id": saved.pk})
    return Status(201, saved)


# --- sales-time report --------------------------------------------------------------------------


class TimeQuery(Schema):
    start: Day | None = None
    end: Day | None = None


class TimeRowOut(Schema):
    label: str
    minutes: dict[str, int]
    total: int
    activities: int
    untimed: int
    key_share: Decimal


class TimeReportOut(Schema):
    start: date
    end: date
    target: Decimal
    reps: list[TimeRowOut]
    teams: list[TimeRowOut]
    total: TimeRowOut


@router.get("/time-report", response=TimeReportOut)
def time_report(request, query: Query[TimeQuery]):
    """Minutes logged per tier, per rep and per team, against the key-account target (CLS-6).
    The period defaults to this month so far."""
    if not request.user.has_perm("classification.view_time_report"):
        raise PermissionDenied
    today = timezone.localdate()
    start, end = query.start or today.replace(day=1), query.end or today
    if end < start:
        raise HttpError(400, _("The end comes before the start."))
    if (end - start).days > 366 * 3:
        raise HttpError(400, _("Choose a period of at most three years."))
    return selectors.time_report(request.user, start, end)
