"""Every read of the public pool and of handovers."""

from dataclasses import dataclass, field

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.http import Http404
from django.utils import timezone

from kehu.activities.models import Activity, ActivityKind
from kehu.activities.selectors import OPEN_WORK, activity_qs_visible_to
from kehu.core import lookups
from kehu.core.pagination import PageOf, capped_count, page_of
from kehu.customers.models import BuyingRole, Contact, Customer
from kehu.customers.search import search_candidates
from kehu.customers.selectors import customer_qs_visible_to
from kehu.pool.models import FOLLOW_UP_KINDS, NOT_YET_FOLLOWED_UP, CustomerPoolState, Handover, HandoverItem, Pool
from kehu.pool.phrases import work_phrase
from kehu.users.models import User
from kehu.users.scopes import scope_q
from kehu.users.selectors import scope_users_q

POOL_PERMS = ("pool.claim_customer", "pool.assign_customer", "pool.manage_pools")
POOL_COLUMNS = (
    "id",
    "name",
    "region",
    "city",
    "tier",
    "industry",
    "status",
    "updated_at",
    "pool_state__entered_pool_at",
    "pool_state__pool_id",
    "pool_state__previous_owner__username",
    "pool_state__previous_owner__first_name",
    "pool_state__previous_owner__last_name",
)


def may_use_pool(user: User) -> bool:
    return user.is_authenticated and any(user.has_perm(p) for p in POOL_PERMS)


def pool_customer_qs_visible_to(user: User) -> QuerySet[Customer]:
    """Customers in the pool (no owner, not deleted): every pool user sees every pool."""
    if not may_use_pool(user):
        return Customer.objects.none()
    return Customer.objects.filter(owner__isnull=True, deleted_at__isnull=True)


def pool_customer_get(user: User, pk) -> Customer:
    try:
        return pool_customer_qs_visible_to(user).get(pk=int(pk))
    except (Customer.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


def pool_q(pool: Pool, pools: list[Pool]) -> Q:
    """Customers that belong to `pool`: remembered there, or by region, or by default."""
    unassigned = Q(pool_state__pool__isnull=True)
    q = Q(pool_state__pool=pool)
    if pool.region_list:
        q |= unassigned & Q(region__in=pool.region_list)
    if pool.is_default:
        listed = sorted({r for p in pools for r in p.region_list})
        q |= unassigned & ~Q(region__in=listed)
    return q


@dataclass
class PoolFilters:
    pool: int | None = None
    region: str = ""
    tier: str = ""
    q: str = ""


def pool_customer_list(user: User, filters: PoolFilters, pools: list[Pool] | None = None) -> QuerySet[Customer]:
    """Pool customers matching the filters, the latest changed first (walks the
    (owner, updated_at, id) index with owner IS NULL)."""
    qs = pool_customer_qs_visible_to(user)
    if filters.pool:
        pools = pools if pools is not None else list(Pool.objects.all())
        pool = next((p for p in pools if p.pk == filters.pool), None)
        qs = qs.filter(pool_q(pool, pools)) if pool else qs.none()
    if filters.region:
        qs = qs.filter(region=filters.region)
    if filters.tier:
        qs = qs.filter(tier=filters.tier)
    if filters.q:
        _candidates, _complete, every = search_candidates(filters.q)
        qs = qs.filter(every)
    return qs.order_by("-updated_at", "-id")


def pool_customer_page(user: User, filters: PoolFilters, *, offset: int, limit: int, pools=None) -> PageOf:
    qs = pool_customer_list(user, filters, pools).select_related("pool_state__previous_owner").only(*POOL_COLUMNS)
    return page_of(qs, offset=offset, limit=limit)


def customers_due_soon(user: User, limit: int = 10) -> list[CustomerPoolState]:
    """The user's customers a rule will soon return to the pool (warned, not followed up since)."""
    if not user.is_authenticated:
        return []
    followed_up = Activity.objects.filter(
        customer_id=OuterRef("customer_id"),
        kind__in=FOLLOW_UP_KINDS,
        deleted_at__isnull=True,
        occurred_at__gt=OuterRef("warned_at"),
    ).exclude(NOT_YET_FOLLOWED_UP)
    # The owner is checked per warned state, soonest first (their own index): a join on the owner
    # let the planner read every customer of the owner first (2 s for an owner of 300,000).
    owned = Customer.objects.filter(pk=OuterRef("customer_id"), owner=user, deleted_at__isnull=True)
    return list(
        CustomerPoolState.objects.filter(due_at__isnull=False, warned_at__isnull=False)
        .filter(Exists(owned))
        .exclude(Exists(followed_up))
        .select_related("customer")
        .only("customer__id", "customer__name", "customer__tier", "due_at", "due_rule", "warned_at")
        .order_by("due_at")[:limit]
    )


def pool_state_of(customer: Customer) -> CustomerPoolState | None:
    return CustomerPoolState.objects.filter(customer_id=customer.pk).select_related("pool", "previous_owner").first()


# ---- handovers -------------------------------------------------------------------------------


def handover_qs_visible_to(user: User) -> QuerySet[Handover]:
    """Handovers the user made, received or holds the open work of, and, for managers, those to or
    from their team."""
    if not user.is_authenticated:
        return Handover.objects.none()
    q = Q(actor=user) | Q(to_user=user) | Q(work_to=user)
    if user.has_perm("customers.handover_customer"):
        team = User.objects.filter(scope_users_q(user)).values("pk")
        q |= Q(to_user__in=team) | Q(from_user__in=team)
    return Handover.objects.filter(q).select_related("actor", "to_user", "from_user", "work_to")


def handover_get(user: User, pk) -> Handover:
    try:
        return handover_qs_visible_to(user).get(pk=int(pk))
    except (Handover.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


def handover_summary(handover: Handover) -> dict:
    """Counts, what open work moved to whom, and the first open commitments and planned visits: the
    e-mailed brief."""
    ids = HandoverItem.objects.filter(handover=handover).values("customer_id")
    open_commitments = Activity.objects.filter(
        customer_id__in=ids, kind=ActivityKind.COMMITMENT, is_done=False, deleted_at__isnull=True
    )
    planned = Activity.objects.filter(
        customer_id__in=ids, kind=ActivityKind.VISIT, planned_for__isnull=False, is_done=False, deleted_at__isnull=True
    )
    overdue = open_commitments.filter(due_on__lt=timezone.localdate()).count()
    first = list(open_commitments.select_related("customer", "owner").order_by("due_on", "id")[:20])
    visits = list(planned.select_related("customer", "owner").order_by("planned_for", "id")[:20])
    return {
        "customer_count": handover.total,
        "commitment_count": open_commitments.count(),
        "overdue_count": overdue,
        "first_commitments": first,
        "visit_count": planned.count(),
        "first_visits": visits,
        "work_to": handover.work_to,
        "work_moved": handover_work_moved(handover),
    }


def handover_work_moved(handover: Handover) -> str:
    """'3 open commitments and 2 planned visits now with 王芳', or '' when nothing was open."""
    holder = handover.work_to.display_name if handover.work_to else "—"
    return work_phrase(handover.commitments_moved, handover.visits_moved, holder)


KEPT_PAGE = 50


def open_work_count(customers: QuerySet[Customer]) -> dict:
    """How many open commitments and planned visits the customers of a handover form have: two counts."""
    qs = Activity.objects.filter(OPEN_WORK, customer_id__in=customers.values("pk"), deleted_at__isnull=True)
    return {
        "commitments": qs.filter(kind=ActivityKind.COMMITMENT).count(),
        "visits": qs.filter(kind=ActivityKind.VISIT).count(),
    }


def handover_kept_work(user: User, handover: Handover, limit: int = KEPT_PAGE) -> tuple[list[Activity], int]:
    """The open commitments and planned visits of a handover's customers the reader may see (the
    keeper's own, for customers now in the pool), due or planned first, and how many there are."""
    ids = HandoverItem.objects.filter(handover=handover).values("customer_id")
    qs = (
        activity_qs_visible_to(user)
        .filter(OPEN_WORK, customer_id__in=ids)
        .select_related("customer", "owner")
        .order_by("due_on", "planned_for", "id")
    )
    return list(qs[:limit]), capped_count(qs)[0]


@dataclass
class BriefRow:
    customer: Customer
    previous_owner: User | None
    sensitive: bool
    commitments: list
    visits: list
    recent: list
    contacts: list
    warnings: list
    # Open contracts, orders and receivables (lookups.OPEN_MONEY, answered by the money apps).
    money: list = field(default_factory=list)


BRIEF_PAGE = 20
RECENT_PER_CUSTOMER = 3
KEY_ROLES = (BuyingRole.DECISION_MAKER, BuyingRole.INFLUENCER)


def handover_brief(user: User, handover: Handover, *, offset: int = 0, limit: int = BRIEF_PAGE):
    """One page of the brief: per customer the open commitments, the latest activities, key
    contacts (private file only where the reader may see it) and warnings. Fixed query count."""
    items = list(
        HandoverItem.objects.filter(handover=handover)
        .select_related("from_owner")
        .only("customer_id", "from_owner__username", "from_owner__first_name", "from_owner__last_name")
        .order_by("pk")[offset : offset + limit + 1]
    )
    has_next = len(items) > limit
    items = items[:limit]
    page_ids = [i.customer_id for i in items]
    previous = {i.customer_id: i.from_owner for i in items}
    customers = {c.pk: c for c in customer_qs_visible_to(user).filter(pk__in=page_ids).select_related("owner")}
    commitments, recent, contacts = {}, {}, {}
    visits = {}
    for a in (
        Activity.objects.filter(OPEN_WORK, customer_id__in=list(customers), deleted_at__isnull=True)
        .select_related("owner")
        .order_by("due_on", "planned_for", "id")
    ):
        (commitments if a.kind == ActivityKind.COMMITMENT else visits).setdefault(a.customer_id, []).append(a)
    ranked = (
        Activity.objects.filter(customer_id__in=list(customers), deleted_at__isnull=True)
        .exclude(NOT_YET_FOLLOWED_UP)  # plans are listed under planned visits
        .annotate(
            rank=Window(
                RowNumber(), partition_by=[F("customer_id")], order_by=[F("occurred_at").desc(), F("id").desc()]
            )
        )
        .filter(rank__lte=RECENT_PER_CUSTOMER)
        .select_related("owner")
        .order_by("customer_id", "rank")
    )
    for a in ranked:
        recent.setdefault(a.customer_id, []).append(a)
    for c in (
        Contact.objects.filter(customer_id__in=list(customers), deleted_at__isnull=True)
        .filter(Q(is_primary=True) | Q(buying_role__in=KEY_ROLES))
        .order_by("-is_primary", "name")
    ):
        contacts.setdefault(c.customer_id, []).append(c)
    money = lookups.ask_items(lookups.OPEN_MONEY, list(customers))  # one call for the page
    may_see = user.has_perm("customers.view_sensitive") or user.is_superuser
    today = timezone.localdate()
    rows = []
    for pk in page_ids:
        customer = customers.get(pk)
        if customer is None:
            continue
        open_ones = commitments.get(pk, [])
        warnings = []
        overdue = [a for a in open_ones if a.due_on and a.due_on < today]
        if overdue:
            warnings.append(("overdue", len(overdue)))
        last = recent.get(pk, [])
        if not last or (timezone.now() - last[0].occurred_at).days > 90:
            warnings.append(("quiet", (timezone.now() - last[0].occurred_at).days if last else None))
        rows.append(
            BriefRow(
                customer=customer,
                previous_owner=previous.get(pk),
                sensitive=may_see or customer.owner_id == user.pk,
                commitments=open_ones,
                visits=visits.get(pk, []),
                recent=last,
                contacts=contacts.get(pk, []),
                warnings=warnings,
                money=money.get(pk, []),
            )
        )
    return rows, has_next


def handover_candidates(user: User, *, from_user: User | None, region: str = "", tier: str = "", ids=None):
    """The customers a handover form would move: in the manager's scope (not merely shared with
    their people through an account team), filtered."""
    qs = customer_qs_visible_to(user).filter(scope_q(user), owner__isnull=False)
    if from_user is not None:
        qs = qs.filter(owner=from_user)
    if region:
        qs = qs.filter(region=region)
    if tier:
        qs = qs.filter(tier=tier)
    if ids:
        qs = qs.filter(pk__in=ids)
    return qs


def customer_pool_block(user: User, customer: Customer) -> dict:
    """What the 360° page shows about the pool: due date, exemption, and which buttons apply.
    Two queries at most (the state, and the scope check for managers)."""
    from kehu.users.scopes import is_in_team_of

    state = CustomerPoolState.objects.filter(customer_id=customer.pk).first()
    owner = customer.owner
    owns = owner is not None and owner.pk == user.pk
    manages = owner is not None and user.has_perm("pool.assign_customer") and is_in_team_of(user, owner)
    today = timezone.localdate()
    block = {
        "state": state,
        "exempt": state is not None and state.exempt_until is not None and state.exempt_until >= today,
        "may_release": owner is not None and ((owns and user.has_perm("pool.claim_customer")) or manages),
        "may_hand_over": user.has_perm("customers.handover_customer") and owner is not None,
        "may_exempt": manages,
        "may_claim": owner is None and user.has_perm("pool.claim_customer"),
    }
    actions = ("exempt", "may_release", "may_hand_over", "may_exempt", "may_claim")
    block["show"] = any(block[k] for k in actions) or (state is not None and state.due_at is not None)
    return block
