"""公海 and handover (CUS-7): pools with recycle rules, claim / assign / release, handover briefs."""

from datetime import datetime
from typing import Annotated

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from kehu.core.api import Id, LongText, Page, Text
from kehu.core.pagination import Limit, Offset
from kehu.customers.selectors import customer_qs_visible_to
from kehu.pool import selectors, services
from kehu.pool.models import Handover
from kehu.users.models import User
from kehu.users.selectors import assignable_owners, scope_users_q

router = Router(tags=["pool"])
MAX_HANDOVER_IDS = 10_000


class PoolConflict(Schema):
    detail: str
    code: str


class PoolOut(Schema):
    id: int
    name: str
    regions: list[str]
    is_default: bool
    followup_days_prospect: int | None
    followup_days_ordinary: int | None
    followup_days_key: int | None
    deal_days_prospect: int | None
    deal_days_ordinary: int | None
    deal_days_key: int | None
    warn_days: int
    max_owned: int | None
    max_claims_per_day: int | None
    reclaim_cooldown_days: int

    @staticmethod
    def resolve_regions(obj):
        return obj.region_list


class PoolCustomerOut(Schema):
    id: int
    name: str
    region: str
    city: str
    tier: str
    industry: str
    previous_owner_id: int | None
    entered_pool_at: datetime | None

    @staticmethod
    def _state(obj):
        try:
            return obj.pool_state
        except Exception:  # noqa: BLE001 - no state row: never moved by the pool
            return None

    @staticmethod
    def resolve_previous_owner_id(obj):
        state = PoolCustomerOut._state(obj)
        return state.previous_owner_id if state else None

    @staticmethod
    def resolve_entered_pool_at(obj):
        state = PoolCustomerOut._state(obj)
        return state.entered_pool_at if state else None


class PoolCustomerList(Page):
    items: list[PoolCustomerOut]


class PoolQuery(Schema):
    pool: Id | None = None
    region: Text(50) = ""
    tier: Text(10) = ""
    q: Text(100) = ""
    limit: Limit = 25
    offset: Offset = 0


class OwnerOut(Schema):
    id: int
    owner_id: int | None
    version: int


class PoolAssignIn(Schema):
    user_id: Id


class ReleaseIn(Schema):
    reason: Text(200) = ""


class HandoverIn(Schema):
    customer_ids: Annotated[list[Id], Field(max_length=MAX_HANDOVER_IDS)] | None = Field(
        None, description="These customers; or leave out and give from_user_id for all of theirs."
    )
    from_user_id: Id | None = Field(None, description="All customers of this person (a leaving rep).")
    to_user_id: Id | None = Field(None, description="The new owner; null hands the customers to the public pool.")
    work_to_user_id: Id | None = Field(
        None,
        description="Who keeps the customers' open commitments and planned visits; default: the new owner, or "
        "for a handover to the pool, you. They must be able to see the customers afterwards.",
    )
    note: LongText(2000) = ""


class HandoverOut(Schema):
    id: int
    status: str
    total: int
    done: int
    from_user_id: int | None
    to_user_id: int | None
    actor_id: int | None
    work_to_id: int | None = Field(description="Who now holds the customers' open commitments and planned visits.")
    commitments_moved: int
    visits_moved: int
    created_at: datetime
    finished_at: datetime | None


def _conflict(exc: services.PoolConflictError):
    return Status(409, {"detail": " ".join(exc.messages), "code": exc.conflict_code})


def _team_member(user, pk, field: str) -> User:
    member = assignable_owners(user).filter(pk=pk).first()
    if member is None:
        raise ValidationError({field: [_("Choose someone in your team.")]})
    return member


@router.get("/pools", response=list[PoolOut])
def pool_list(request):
    if not selectors.may_use_pool(request.user):
        raise PermissionDenied
    return services.pools_all()


@router.get("/customers", response=PoolCustomerList)
def pool_customers(request, query: Query[PoolQuery]):
    if not selectors.may_use_pool(request.user):
        raise PermissionDenied
    filters = selectors.PoolFilters(pool=query.pool, region=query.region, tier=query.tier, q=query.q)
    page = selectors.pool_customer_page(request.user, filters, offset=query.offset, limit=query.limit)
    return page.as_dict()


def _target(user, customer_id):
    try:
        return selectors.pool_customer_get(user, customer_id)
    except Http404:
        if customer_qs_visible_to(user).filter(pk=customer_id).exists():
            raise services.PoolConflictError(
                _("This customer is no longer in the public pool."), "not_in_pool"
            ) from None
        raise


@router.post("/customers/{customer_id}/claim", response={200: OwnerOut, 409: PoolConflict})
def claim(request, customer_id: Id):
    """Claim a customer from the pool (领取): 409 when a limit, the cool-down or another rep stops it."""
    if not request.user.has_perm("pool.claim_customer"):
        raise PermissionDenied
    try:
        customer = _target(request.user, customer_id)
        return services.pool_claim(customer=customer, actor=request.user)
    except services.PoolConflictError as exc:
        return _conflict(exc)


@router.post("/customers/{customer_id}/assign", response={200: OwnerOut, 409: PoolConflict})
def assign(request, customer_id: Id, payload: PoolAssignIn):
    """Assign a pool customer to someone in the manager's team (分配)."""
    if not request.user.has_perm("pool.assign_customer"):
        raise PermissionDenied
    try:
        customer = _target(request.user, customer_id)
        to_user = _team_member(request.user, payload.user_id, "user_id")
        return services.pool_assign(customer=customer, to_user=to_user, actor=request.user)
    except services.PoolConflictError as exc:
        return _conflict(exc)


@router.post("/customers/{customer_id}/release", response={200: OwnerOut, 409: PoolConflict})
def release(request, customer_id: Id, payload: ReleaseIn):
    """Return a customer to the pool (退回公海): its owner, or a manager of the owner."""
    customer = customer_qs_visible_to(request.user).select_related("owner").filter(pk=customer_id).first()
    if customer is None:
        raise Http404
    if not services.may_release(request.user, customer):
        raise PermissionDenied
    try:
        return services.pool_release(customer=customer, actor=request.user, reason=payload.reason)
    except services.PoolConflictError as exc:
        return _conflict(exc)


@router.post("/handovers", response={201: HandoverOut})
def handover_create(request, payload: HandoverIn):
    """Hand over customers (交接): a list of ids, or all customers of `from_user_id`, to `to_user_id`
    or the pool. Up to 200 customers finish at once; more run as a task (poll the handover)."""
    user = request.user
    if not user.has_perm("customers.handover_customer"):
        raise PermissionDenied
    if not payload.customer_ids and payload.from_user_id is None:
        raise ValidationError({"customer_ids": [_("Give customer_ids or from_user_id.")]})
    from_user = None
    if payload.from_user_id:
        # A leaving rep's account may be deactivated already.
        from_user = User.objects.filter(scope_users_q(user), pk=payload.from_user_id).first()
        if from_user is None:
            raise ValidationError({"from_user_id": [_("Choose someone in your team.")]})
    customers = selectors.handover_candidates(user, from_user=from_user)
    if payload.customer_ids:
        ids = set(payload.customer_ids)
        customers = customers.filter(pk__in=ids)
        if customers.count() != len(ids):
            raise Http404
    to_user = _team_member(user, payload.to_user_id, "to_user_id") if payload.to_user_id else None
    work_to = _team_member(user, payload.work_to_user_id, "work_to_user_id") if payload.work_to_user_id else None
    try:
        handover = services.handover_start(
            actor=user, customers=customers, to_user=to_user, from_user=from_user, note=payload.note, work_to=work_to
        )
    except ValidationError as exc:
        if hasattr(exc, "error_dict") and "work_to" in exc.error_dict:
            raise ValidationError({"work_to_user_id": exc.error_dict["work_to"]}) from None
        raise
    return Status(201, handover)


@router.get("/handovers/{handover_id}", response=HandoverOut)
def handover_read(request, handover_id: Id) -> Handover:
    return selectors.handover_get(request.user, handover_id)
