"""Every write of the public pool (公海) and handover (交接): claim, assign, release, exempt,
the rule-driven recycle, and handing customers over (CUS-7, CUS-9).

Every move is recorded through the event door (timeline entry and audit row). Batch moves (the
recycle, large handovers) record a batch of events at a time: one query per kind of row, never one
per customer.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Max, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kehu.activities.models import Activity
from kehu.activities.services import WorkMoved, may_hold_work, open_work_move
from kehu.core import events, lookups
from kehu.core.audit import audit_record
from kehu.core.checkpoints import checkpoint
from kehu.core.mail import queue_email
from kehu.core.models import AuditAction
from kehu.core.text import check_text, text_field_errors
from kehu.customers import ownership
from kehu.customers.events import CustomerEvent
from kehu.customers.models import Customer, TimelineEntry
from kehu.pool.events import PoolEvent
from kehu.pool.models import (
    FOLLOW_UP_KINDS,
    NOT_YET_FOLLOWED_UP,
    CustomerPoolState,
    Handover,
    HandoverItem,
    HandoverStatus,
    MoveKind,
    Pool,
    PoolMove,
)
from kehu.pool.phrases import work_phrase
from kehu.users.models import User
from kehu.users.scopes import is_in_team_of

BATCH = 1000
# Handovers of up to this many customers run inline; larger ones run as a task.
INLINE_HANDOVER = 200
HANDOVER_NOTE_MAX_LENGTH = 2000
RULE_NO_FOLLOW_UP = "no_follow_up"
RULE_NO_DEAL = "no_deal"
CUSTOMER = "customers.customer"


class PoolConflictError(ValidationError):
    """A rule of the pool refuses the move (limit, cool-down, someone was faster): HTTP 409."""

    def __init__(self, message, code):
        super().__init__(message, code=code)
        self.conflict_code = code


# ---- which pool ----------------------------------------------------------------------------


def pools_all() -> list[Pool]:
    return list(Pool.objects.order_by("-is_default", "name"))


def pool_for(*, region: str, state_pool_id: int | None, pools: list[Pool]) -> Pool | None:
    """The customer's pool: the one remembered on its state, else the one naming its region,
    else the default pool (None when no pool is configured)."""
    if state_pool_id is not None:
        for pool in pools:
            if pool.pk == state_pool_id:
                return pool
    region = (region or "").strip()
    if region:
        for pool in pools:
            if region in pool.region_list:
                return pool
    return next((p for p in pools if p.is_default), None)


def _pool_of(customer: Customer, pools: list[Pool] | None = None) -> Pool | None:
    state = CustomerPoolState.objects.filter(customer_id=customer.pk).values_list("pool_id", flat=True).first()
    return pool_for(region=customer.region, state_pool_id=state, pools=pools if pools is not None else pools_all())


def rule_label(rule: str, days: int | None) -> str:
    if rule == RULE_NO_FOLLOW_UP:
        return _("no follow-up for %(days)s days") % {"days": days}
    if rule == RULE_NO_DEAL:
        return _("no won deal for %(days)s days") % {"days": days}
    return rule


# ---- single moves ----------------------------------------------------------------------------


def _state_set(customer_id: int, **values) -> None:
    CustomerPoolState.objects.update_or_create(customer_id=customer_id, defaults=values)


def _with_work(summary: str, moved: WorkMoved, customer_id: int, holder) -> str:
    commitments, visits = moved.per_customer.get(customer_id, (0, 0))
    phrase = work_phrase(commitments, visits, holder)
    return f"{summary}; {phrase}" if phrase else summary


def _work_payload(moved: WorkMoved, customer_id: int, holder) -> dict:
    commitments, visits = moved.per_customer.get(customer_id, (0, 0))
    if not commitments and not visits:
        return {}
    return {"work_to": holder.pk, "commitments_moved": commitments, "visits_moved": visits}


def _record(
    *, customer: Customer, kind: str, event: str, old, new, actor, pool, rule="", summary, now, work=None, notify=()
):
    """The move, its timeline line and its audit row; `work` is (WorkMoved, holder) when open
    commitments or planned visits went with it."""
    PoolMove.objects.create(
        customer=customer, kind=kind, at=now, from_owner=old, to_owner=new, actor=actor, pool=pool, rule=rule
    )
    extra = {}
    if work is not None:
        moved, holder = work
        summary = _with_work(summary, moved, customer.pk, holder)
        extra = _work_payload(moved, customer.pk, holder)
    events.record(
        event,
        customer_id=customer.pk,
        actor=actor,
        summary=summary[:300],
        subject=customer,
        payload={
            "from": old.pk if old else None,
            "to": new.pk if new else None,
            "pool": pool.pk if pool else None,
            "pool_name": pool.name if pool else "",
            **({"rule": rule} if rule else {}),
            **extra,
        },
        occurred_at=now,
        audit=AuditAction.UPDATE,
        changes={"owner": [str(old) if old else None, str(new) if new else None]},
        notify=notify,
        link=reverse("workspace:customer-detail", args=[customer.pk]),
    )


def _take(customer: Customer, new_owner: User, now) -> bool:
    """Give a pool customer an owner, unless someone was faster (conditional UPDATE)."""
    return bool(
        ownership.owner_set(
            customer=customer, owner=new_owner, only=Q(owner__isnull=True, deleted_at__isnull=True), now=now
        )
    )


def _count_alone(pool: Pool | None, user: User) -> None:
    """Lock the rep's row before counting towards the pool's limits, so two claims (or assignments)
    for the same rep at once count one after the other and cannot both pass a limit of one.
    (PostgreSQL; SQLite's IMMEDIATE transactions run writers one at a time already.)"""
    if pool is not None and (pool.max_owned is not None or pool.max_claims_per_day is not None):
        list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True))


def _check_owned_limit(pool: Pool | None, user: User) -> None:
    if pool is None or pool.max_owned is None:
        return
    owned = Customer.objects.filter(owner=user, deleted_at__isnull=True).count()
    if owned >= pool.max_owned:
        raise PoolConflictError(
            _("%(user)s already owns %(owned)s customers; the limit of pool %(pool)s is %(max)s.")
            % {"user": user, "owned": owned, "pool": pool.name, "max": pool.max_owned},
            "max_owned",
        )


def _check_claim_limits(pool: Pool | None, user: User, customer: Customer, now) -> None:
    if pool is None:
        return
    if pool.max_claims_per_day is not None:
        day_start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
        claims = PoolMove.objects.filter(to_owner=user, kind=MoveKind.CLAIM, at__gte=day_start, at__lte=now).count()
        if claims >= pool.max_claims_per_day:
            raise PoolConflictError(
                _("You have claimed %(n)s customers today; pool %(pool)s allows %(max)s a day.")
                % {"n": claims, "pool": pool.name, "max": pool.max_claims_per_day},
                "max_claims_per_day",
            )
    if pool.reclaim_cooldown_days:
        last_lost = (
            PoolMove.objects.filter(customer=customer, from_owner=user)
            .exclude(kind__in=[MoveKind.CLAIM, MoveKind.ASSIGN])
            .aggregate(last=Max("at"))["last"]
        )
        if last_lost is not None:
            free_at = last_lost + timedelta(days=pool.reclaim_cooldown_days)
            if free_at > now:
                raise PoolConflictError(
                    _("You gave up this customer on %(lost)s; you may claim it again from %(free)s (cool-down).")
                    % {
                        "lost": timezone.localtime(last_lost).strftime("%Y-%m-%d"),
                        "free": timezone.localtime(free_at).strftime("%Y-%m-%d %H:%M"),
                    },
                    "cooldown",
                )


def _check_in_pool(customer: Customer) -> None:
    if customer.owner_id is not None or customer.deleted_at is not None:
        raise PoolConflictError(_("This customer is no longer in the public pool."), "not_in_pool")


def _take_from_pool(customer: Customer, new_owner: User, pool: Pool | None, now) -> None:
    if not _take(customer, new_owner, now):
        raise PoolConflictError(_("Someone else took this customer a moment ago."), "not_in_pool")
    _state_set(customer.pk, pool=pool, owned_since=now, warned_at=None, due_at=None, due_rule="")


@transaction.atomic
def pool_claim(*, customer: Customer, actor: User, now: datetime | None = None) -> Customer:
    """A rep takes a customer from the pool (领取), within the pool's limits."""
    if not actor.has_perm("pool.claim_customer"):
        raise PermissionDenied
    _check_in_pool(customer)
    pool = _pool_of(customer)
    _count_alone(pool, actor)
    now = now or timezone.now()  # after the lock: the claims counted are all before it
    _check_owned_limit(pool, actor)
    _check_claim_limits(pool, actor, customer, now)
    _take_from_pool(customer, actor, pool, now)
    # The customer's promises come with it: whoever kept them while it sat in the pool hands them on.
    moved = open_work_move(customer_ids=[customer.pk], to_user=actor, actor=actor, reason=_("claimed"), now=now)
    _record(
        work=(moved, actor),
        customer=customer,
        kind=MoveKind.CLAIM,
        event=PoolEvent.POOL_CLAIMED,
        old=None,
        new=actor,
        actor=actor,
        pool=pool,
        summary=_("%(user)s claimed the customer from pool %(pool)s")
        % {"user": actor, "pool": pool.name if pool else "—"},
        now=now,
    )
    return customer


@transaction.atomic
def pool_assign(*, customer: Customer, to_user: User, actor: User, now: datetime | None = None) -> Customer:
    """A manager gives a pool customer to someone in their team (分配)."""
    if not actor.has_perm("pool.assign_customer"):
        raise PermissionDenied
    now = now or timezone.now()
    if not to_user.is_active or not is_in_team_of(actor, to_user):
        raise ValidationError({"to_user": _("You may not assign customers to this user.")})
    _check_in_pool(customer)
    pool = _pool_of(customer)
    _count_alone(pool, to_user)
    _check_owned_limit(pool, to_user)
    _take_from_pool(customer, to_user, pool, now)
    moved = open_work_move(customer_ids=[customer.pk], to_user=to_user, actor=actor, reason=_("assigned"), now=now)
    _record(
        work=(moved, to_user),
        customer=customer,
        kind=MoveKind.ASSIGN,
        event=PoolEvent.POOL_ASSIGNED,
        notify=[to_user],
        old=None,
        new=to_user,
        actor=actor,
        pool=pool,
        summary=_("%(actor)s assigned the customer to %(user)s from pool %(pool)s")
        % {"actor": actor, "user": to_user, "pool": pool.name if pool else "—"},
        now=now,
    )
    return customer


def may_release(actor: User, customer: Customer) -> bool:
    """The owner, or a manager whose scope covers the owner."""
    if customer.owner_id is None:
        return False
    if customer.owner_id == actor.pk:
        return actor.has_perm("pool.claim_customer") or actor.has_perm("pool.assign_customer")
    return actor.has_perm("pool.assign_customer") and is_in_team_of(actor, customer.owner)


@transaction.atomic
def pool_release(*, customer: Customer, actor: User, reason: str = "", now: datetime | None = None) -> Customer:
    """Give a customer back to the pool (退回公海)."""
    if not may_release(actor, customer):
        raise PermissionDenied
    reason = check_text((reason or "").strip(), field="reason", max_length=200)
    now = now or timezone.now()
    old = customer.owner
    pools = pools_all()
    pool = _pool_of(customer, pools)
    if not ownership.owner_set(customer=customer, owner=None, only=Q(owner=old), now=now):
        raise PoolConflictError(_("The owner of this customer changed a moment ago."), "owner_changed")
    _state_set(
        customer.pk,
        pool=pool,
        owned_since=None,
        entered_pool_at=now,
        previous_owner=old,
        warned_at=None,
        due_at=None,
        due_rule="",
    )
    # Nobody owns the customer now: its open commitments and planned visits stay with the person who
    # released it (the owner, or the manager), who can still see it in the pool.
    moved = open_work_move(
        customer_ids=[customer.pk], to_user=actor, actor=actor, reason=_("released to the public pool"), now=now
    )
    summary = _("%(actor)s released the customer of %(owner)s to pool %(pool)s") % {
        "actor": actor,
        "owner": old,
        "pool": pool.name if pool else "—",
    }
    _record(
        customer=customer,
        kind=MoveKind.RELEASE,
        event=PoolEvent.POOL_RELEASED,
        old=old,
        new=None,
        actor=actor,
        pool=pool,
        rule="manual",
        summary=f"{summary}: {reason}" if reason else summary,
        now=now,
        work=(moved, actor),
    )
    return customer


@transaction.atomic
def pool_exempt(*, customer: Customer, actor: User, until, reason: str) -> CustomerPoolState:
    """A manager keeps a customer out of the automatic recycle until a date, and says why."""
    if not (
        actor.has_perm("pool.assign_customer") and (customer.owner is None or is_in_team_of(actor, customer.owner))
    ):
        raise PermissionDenied
    reason = check_text((reason or "").strip(), field="exempt_reason", max_length=200)
    if until is not None and not reason:
        raise ValidationError({"exempt_reason": _("Say why this customer is exempt.")})
    if until is not None and until < timezone.localdate():
        raise ValidationError({"exempt_until": _("Choose a date from today on.")})
    state, _created = CustomerPoolState.objects.get_or_create(customer_id=customer.pk)
    before = [str(state.exempt_until) if state.exempt_until else None, state.exempt_reason]
    state.exempt_until = until
    state.exempt_reason = reason if until else ""
    state.save(update_fields=["exempt_until", "exempt_reason"])
    events.record(
        PoolEvent.POOL_EXEMPTED,
        actor=actor,
        subject=customer,
        audit=AuditAction.UPDATE,
        changes={"pool_exempt": [before, [str(until) if until else None, state.exempt_reason]]},
    )
    return state


POOL_FIELDS = [
    "name",
    "regions",
    "is_default",
    "followup_days_prospect",
    "followup_days_ordinary",
    "followup_days_key",
    "deal_days_prospect",
    "deal_days_ordinary",
    "deal_days_key",
    "warn_days",
    "exempt_open_deals",
    "exempt_signed_contracts",
    "exempt_open_tickets",
    "max_owned",
    "max_claims_per_day",
    "reclaim_cooldown_days",
]


@transaction.atomic
def pool_save(*, actor: User, pool: Pool | None = None, **fields) -> Pool:
    """Create or change a pool and its rules (administrators)."""
    if not actor.has_perm("pool.manage_pools"):
        raise PermissionDenied
    creating = pool is None
    pool = pool or Pool()
    before = {k: getattr(pool, k) for k in POOL_FIELDS} if not creating else {}
    for name, value in fields.items():
        if name not in POOL_FIELDS:
            raise ValidationError({name: _("This field cannot be changed.")})
        setattr(pool, name, value)
    pool.name = (pool.name or "").strip()
    if not pool.name:
        raise ValidationError({"name": _("Give the pool a name.")})
    if errors := text_field_errors(pool, names=set(fields)):
        raise ValidationError(errors)
    if Pool.objects.filter(name=pool.name).exclude(pk=pool.pk).exists():
        raise ValidationError({"name": _("Another pool has this name.")})
    if pool.is_default:
        Pool.objects.filter(is_default=True).exclude(pk=pool.pk).update(is_default=False)
    pool.updated_at = timezone.now()
    pool.save()
    after = {k: getattr(pool, k) for k in POOL_FIELDS}
    changes = {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}
    audit_record(
        actor=actor, action=AuditAction.CREATE if creating else AuditAction.UPDATE, instance=pool, changes=changes
    )
    return pool


# ---- the recycle (自动收回) -------------------------------------------------------------------


@dataclass
class RecycleResult:
    recycled: list[int] = field(default_factory=list)
    warned: list[int] = field(default_factory=list)


def _due(pool: Pool, tier: str, since, last_follow_up, last_deal) -> tuple[datetime | None, str, int | None]:
    """The earliest moment a rule returns this customer to the pool, and which rule."""
    best = (None, "", None)
    for rule, days, base in (
        (RULE_NO_FOLLOW_UP, pool.followup_days(tier), max(d for d in (since, last_follow_up) if d is not None)),
        (RULE_NO_DEAL, pool.deal_days(tier), max(d for d in (since, last_deal) if d is not None)),
    ):
        if days is None:
            continue
        due = base + timedelta(days=days)
        if best[0] is None or due < best[0]:
            best = (due, rule, days)
    return best


def pool_recycle(*, now: datetime | None = None, batch: int = BATCH) -> RecycleResult:
    """Return customers to the pool by rule and warn owners ahead (the periodic job).

    Walks owned customers in primary-key batches; per batch one query each for the customers,
    their pool states, their last follow-up and the writes. Idempotent: recycled customers have
    no owner any more, and a warning is sent once per due date.
    """
    now = now or timezone.now()
    result = RecycleResult()
    pools = pools_all()
    if not any(p.has_rules for p in pools):
        return result
    today = timezone.localdate(now)
    last_id = 0
    with translation.override(settings.LANGUAGE_CODE):
        while True:
            rows = list(
                Customer.objects.filter(owner__isnull=False, deleted_at__isnull=True, pk__gt=last_id)
                .order_by("pk")
                .values("pk", "owner_id", "tier", "region", "name", "created_at")[:batch]
            )
            if not rows:
                break
            last_id = rows[-1]["pk"]
            _recycle_batch(rows, pools, now, today, result)
    return result


def _recycle_batch(rows, pools, now, today, result: RecycleResult) -> None:
    ids = [r["pk"] for r in rows]
    states = {s.customer_id: s for s in CustomerPoolState.objects.filter(customer_id__in=ids)}
    follow_ups = dict(
        Activity.objects.filter(customer_id__in=ids, kind__in=FOLLOW_UP_KINDS, deleted_at__isnull=True)
        .exclude(NOT_YET_FOLLOWED_UP)
        .values("customer_id")
        .annotate(last=Max("occurred_at"))
        .values_list("customer_id", "last")
    )
    # An owner set through the customer form (not through the pool) starts the clock too.
    owner_changes = dict(
        TimelineEntry.objects.filter(customer_id__in=ids, kind=CustomerEvent.OWNER_CHANGED)
        .values("customer_id")
        .annotate(last=Max("occurred_at"))
        .values_list("customer_id", "last")
    )
    # Asked of the apps above the pool (sales, later contracts and orders) through the registry.
    open_deals = lookups.ask(lookups.OPEN_DEAL, ids)
    signed = lookups.ask(lookups.SIGNED_CONTRACT, ids)
    in_service = lookups.ask(lookups.OPEN_TICKET, ids)  # a customer waiting for a repair is not taken away
    deals = lookups.ask(lookups.LAST_WON, ids)
    to_recycle, to_warn, to_clear = [], [], []
    for row in rows:
        pk = row["pk"]
        state = states.get(pk)
        pool = pool_for(region=row["region"], state_pool_id=state.pool_id if state else None, pools=pools)
        if pool is None or not pool.has_rules:
            continue
        if state and state.exempt_until and state.exempt_until >= today:
            continue
        if (
            (pool.exempt_open_deals and pk in open_deals)
            or (pool.exempt_signed_contracts and pk in signed)
            or (pool.exempt_open_tickets and pk in in_service)
        ):
            if state is not None and state.due_at is not None:
                to_clear.append(state)  # no longer on its way back: the warning no longer applies
            continue
        taken = (row["created_at"], state.owned_since if state else None, owner_changes.get(pk))
        since = max(d for d in taken if d is not None)
        due, rule, days = _due(pool, row["tier"], since, follow_ups.get(pk), deals.get(pk))
        if due is None:
            continue
        if due <= now:
            to_recycle.append((row, pool, rule, days, state))
        elif due - timedelta(days=pool.warn_days) <= now:
            if state is None or state.due_at != due or state.warned_at is None:
                to_warn.append((row, pool, rule, days, state, due))
        elif state is not None and state.due_at is not None:
            to_clear.append(state)
    if to_recycle:
        result.recycled += _apply_recycle(to_recycle, now)
    if to_warn:
        result.warned += _apply_warnings(to_warn, now)
    if to_clear:
        for state in to_clear:
            state.due_at, state.warned_at, state.due_rule = None, None, ""
        CustomerPoolState.objects.bulk_update(to_clear, ["due_at", "warned_at", "due_rule"])


@transaction.atomic
def _apply_recycle(items, now) -> list[int]:
    # Lock the rows and keep only those whose owner is still the one the rule looked at.
    wanted = {row["pk"]: row["owner_id"] for row, *_rest in items}
    current = dict(
        Customer.objects.select_for_update()
        .filter(pk__in=list(wanted), deleted_at__isnull=True)
        .values_list("pk", "owner_id")
    )
    items = [it for it in items if current.get(it[0]["pk"]) == wanted[it[0]["pk"]]]
    if not items:
        return []
    ids = [it[0]["pk"] for it in items]
    ownership.owner_set(ids=ids, owner=None, now=now)
    owners = User.objects.in_bulk({it[0]["owner_id"] for it in items})
    keepers, moved = _recycle_open_work(items, owners, now)
    new_states, old_states, moves, recorded = [], [], [], []
    for row, pool, rule, days, state in items:
        owner = owners.get(row["owner_id"])
        values = {
            "pool": pool,
            "owned_since": None,
            "entered_pool_at": now,
            "previous_owner": owner,
            "warned_at": None,
            "due_at": None,
            "due_rule": "",
        }
        if state is None:
            new_states.append(CustomerPoolState(customer_id=row["pk"], **values))
        else:
            for k, v in values.items():
                setattr(state, k, v)
            old_states.append(state)
        moves.append(
            PoolMove(customer_id=row["pk"], kind=MoveKind.RECYCLE, at=now, from_owner=owner, pool=pool, rule=rule)
        )
        recorded.append(
            events.build(
                PoolEvent.POOL_RECYCLED,
                customer_id=row["pk"],
                occurred_at=now,
                subject=Customer(pk=row["pk"], name=row["name"]),
                summary=_with_work(
                    _("Returned to pool %(pool)s from %(owner)s: %(rule)s")
                    % {"pool": pool.name, "owner": owner, "rule": rule_label(rule, days)},
                    moved,
                    row["pk"],
                    keepers.get(row["owner_id"]),
                )[:300],
                payload={
                    "rule": rule,
                    "days": days,
                    "pool": pool.pk,
                    "pool_name": pool.name,
                    "from": row["owner_id"],
                    **(_work_payload(moved, row["pk"], keepers[row["owner_id"]]) if row["owner_id"] in keepers else {}),
                },
                audit=AuditAction.UPDATE,
                changes={"owner": [str(owner) if owner else None, None], "rule": [None, rule]},
            )
        )
    CustomerPoolState.objects.bulk_create(new_states)
    CustomerPoolState.objects.bulk_update(
        old_states, ["pool", "owned_since", "entered_pool_at", "previous_owner", "warned_at", "due_at", "due_rule"]
    )
    PoolMove.objects.bulk_create(moves)
    events.record_many(recorded)
    checkpoint("recycle.batch")  # the crash tests stop here (kehu.core.checkpoints)
    return ids


def pool_work_keeper(previous: User | None) -> User | None:
    """Who keeps the open work of a customer the rules returned to the pool: the previous owner's
    manager, who decides what happens to it; else the previous owner; else an administrator."""
    if previous is not None:
        manager = previous.manager if previous.manager_id else None
        for candidate in (manager, previous):
            if may_hold_work(candidate, None):
                return candidate
    for admin in User.objects.filter(is_active=True, is_superuser=True).order_by("pk")[:5]:
        if may_hold_work(admin, None):
            return admin
    return None


def _recycle_open_work(items, owners: dict, now) -> tuple[dict, WorkMoved]:
    """Hand the open work of recycled customers to each previous owner's keeper: one move per keeper."""
    by_owner: dict[int, list[int]] = {}
    for row, *_rest in items:
        by_owner.setdefault(row["owner_id"], []).append(row["pk"])
    keepers, moved = {}, WorkMoved()
    for owner_id, customer_ids in by_owner.items():
        keeper = pool_work_keeper(owners.get(owner_id))
        if keeper is None:
            continue
        keepers[owner_id] = keeper
        moved.add(
            open_work_move(
                customer_ids=customer_ids,
                to_user=keeper,
                actor=None,
                reason=_("returned to the public pool by rule"),
                now=now,
            )
        )
    return keepers, moved


@transaction.atomic
def _apply_warnings(items, now) -> list[int]:
    new_states, old_states, recorded, by_owner = [], [], [], {}
    for row, pool, rule, days, state, due in items:
        if state is None:
            new_states.append(
                CustomerPoolState(customer_id=row["pk"], pool=None, warned_at=now, due_at=due, due_rule=rule)
            )
        else:
            state.warned_at, state.due_at, state.due_rule = now, due, rule
            old_states.append(state)
        recorded.append(
            events.build(
                PoolEvent.POOL_WARNED,
                customer_id=row["pk"],
                occurred_at=now,
                subject=Customer(pk=row["pk"], name=row["name"]),
                summary=(
                    _("Returns to pool %(pool)s on %(due)s unless followed up: %(rule)s")
                    % {
                        "pool": pool.name,
                        "due": timezone.localtime(due).strftime("%Y-%m-%d"),
                        "rule": rule_label(rule, days),
                    }
                )[:300],
                payload={"rule": rule, "days": days, "pool": pool.pk, "due_at": due.isoformat(), "to": row["owner_id"]},
            )
        )
        by_owner.setdefault(row["owner_id"], []).append(
            {"id": row["pk"], "name": row["name"], "due": due, "rule": rule}
        )
    CustomerPoolState.objects.bulk_create(new_states)
    CustomerPoolState.objects.bulk_update(old_states, ["warned_at", "due_at", "due_rule"])
    owners = list(User.objects.filter(pk__in=list(by_owner), is_active=True))
    for owner in owners:
        if owner.email:
            queue_email(
                "pool/email/warning",
                {"user": owner, "customers": by_owner[owner.pk]},
                [owner.email],
                owner.language or None,
            )
        # One notice per owner and run, however many of their customers are due.
        customers = by_owner[owner.pk]
        recorded.append(
            events.build(
                PoolEvent.POOL_RETURN_WARNING,
                occurred_at=now,
                summary=", ".join(c["name"] for c in customers[:5]) + (" …" if len(customers) > 5 else ""),
                payload={"count": len(customers)},
                notify=[owner],
                link=reverse("workspace:home"),
            )
        )
    events.record_many(recorded)
    return [row["pk"] for row, *_rest in items]


# ---- handover (交接) --------------------------------------------------------------------------


def may_hand_over(actor: User, to_user: User | None) -> bool:
    if not actor.has_perm("customers.handover_customer"):
        return False
    return to_user is None or (to_user.is_active and is_in_team_of(actor, to_user))


def work_keeper(*, actor: User, to_user: User | None, work_to: User | None) -> User:
    """Who will hold the handed-over customers' open work: `work_to` if named, else the new owner, else
    (a handover to the pool) the manager doing it. Whoever it is must be active, in the manager's
    team, and able to see the customers afterwards."""
    keeper = work_to or to_user or actor
    if keeper.pk != actor.pk and not is_in_team_of(actor, keeper):
        raise ValidationError({"work_to": _("Choose someone in your team.")})
    if not may_hold_work(keeper, to_user):
        if to_user is None:
            message = _(
                "%(user)s cannot see customers in the public pool: choose someone who can keep their "
                "open commitments and planned visits."
            ) % {"user": keeper}
        elif not keeper.is_active:
            message = _("%(user)s is no longer active.") % {"user": keeper}
        else:
            message = _(
                "%(user)s would not see these customers once they belong to %(owner)s: choose the new owner "
                "or someone whose data scope covers them."
            ) % {"user": keeper, "owner": to_user}
        raise ValidationError({"work_to": message})
    return keeper


@transaction.atomic
def handover_start(
    *,
    actor: User,
    customers,
    to_user: User | None,
    from_user: User | None = None,
    note: str = "",
    base_url: str = "",
    work_to: User | None = None,
) -> Handover:
    """Hand customers (a queryset the actor may see) to `to_user`, or to the pool when None.

    Their open commitments and planned visits go to the new owner, or to `work_to` when the manager
    names someone (for a handover to the pool, by default the manager): never to nobody.
    Small handovers finish before this returns; large ones run as a task and the brief page
    shows their progress. History stays where it is: only the owner and the open work change.
    """
    if not actor.has_perm("customers.handover_customer"):
        raise PermissionDenied
    note = check_text((note or "").strip(), field="note", multiline=True, max_length=HANDOVER_NOTE_MAX_LENGTH)
    if to_user is not None and not may_hand_over(actor, to_user):
        raise ValidationError({"to_user": _("You may not hand customers over to this user.")})
    work_to = work_keeper(actor=actor, to_user=to_user, work_to=work_to)
    rows = list(customers.filter(owner__isnull=False).values_list("pk", "owner_id"))
    if to_user is not None:
        rows = [r for r in rows if r[1] != to_user.pk]
    if not rows:
        raise ValidationError({"customers": _("There are no customers to hand over.")})
    handover = Handover.objects.create(
        actor=actor, from_user=from_user, to_user=to_user, work_to=work_to, note=note, total=len(rows)
    )
    HandoverItem.objects.bulk_create(
        [HandoverItem(handover=handover, customer_id=pk, from_owner_id=owner) for pk, owner in rows], batch_size=BATCH
    )
    if len(rows) <= INLINE_HANDOVER:
        handover_run(handover_id=handover.pk, base_url=base_url)
        handover.refresh_from_db()
    else:
        from kehu.pool.tasks import run_handover

        transaction.on_commit(lambda: run_handover.enqueue(handover.pk, base_url))
    return handover


def handover_run(*, handover_id: int, base_url: str = "", batch: int = 500) -> Handover:
    """Move the customers of a handover, a batch per transaction, writing progress as it goes."""
    handover = Handover.objects.select_related("actor", "to_user", "from_user", "work_to").get(pk=handover_id)
    if handover.status != HandoverStatus.RUNNING:
        return handover
    try:
        with translation.override(settings.LANGUAGE_CODE):
            while _handover_batch(handover, batch):
                pass
    except Exception as exc:
        Handover.objects.filter(pk=handover.pk).update(status=HandoverStatus.FAILED, error=str(exc)[:2000])
        raise
    now = timezone.now()
    with transaction.atomic():
        Handover.objects.filter(pk=handover.pk).update(status=HandoverStatus.DONE, finished_at=now)
        handover.refresh_from_db(fields=["done", "commitments_moved", "visits_moved"])
        handover.status, handover.finished_at = HandoverStatus.DONE, now
        _send_briefs(handover, base_url)
    return handover


def handover_lost(handover_id: int, base_url: str = "", *, reason) -> None:
    """Its worker died again and again (kehu.core.lost_tasks gave up resuming): the handover stops
    as failed with the reason; the customers moved so far stay moved, the others stay where they were."""
    with translation.override(settings.LANGUAGE_CODE):
        Handover.objects.filter(pk=handover_id, status=HandoverStatus.RUNNING).update(
            status=HandoverStatus.FAILED, error=str(reason)
        )


@transaction.atomic
def _handover_batch(handover: Handover, batch: int) -> int:
    items = list(HandoverItem.objects.filter(handover=handover, is_done=False).order_by("pk")[:batch])
    if not items:
        return 0
    now = timezone.now()
    to_user = handover.to_user
    actor = handover.actor
    current = {
        c["pk"]: c
        for c in Customer.objects.select_for_update()
        .filter(pk__in=[i.customer_id for i in items], deleted_at__isnull=True)
        .values("pk", "owner_id", "name", "region")
    }
    moving = [
        c for c in current.values() if c["owner_id"] is not None and c["owner_id"] != (to_user.pk if to_user else None)
    ]
    ids = [c["pk"] for c in moving]
    if ids:
        ownership.owner_set(ids=ids, owner=to_user, now=now)
    owners = User.objects.in_bulk({c["owner_id"] for c in moving})
    keeper = handover.work_to
    if keeper is not None and not keeper.is_active:
        # Deactivated while a large handover ran in the background: the new owner (or the manager) keeps it.
        keeper = to_user or actor
        Handover.objects.filter(pk=handover.pk).update(work_to=keeper)
        handover.work_to = keeper
    moved = WorkMoved()
    if keeper is not None and ids:
        moved = open_work_move(
            customer_ids=ids,
            to_user=keeper,
            actor=actor,
            reason=_("handover #%(n)s") % {"n": handover.pk},
            now=now,
        )
    states = {s.customer_id: s for s in CustomerPoolState.objects.filter(customer_id__in=ids)}
    pools = pools_all() if to_user is None else []
    new_states, old_states, moves, recorded = [], [], [], []
    for c in moving:
        old = owners.get(c["owner_id"])
        state = states.get(c["pk"])
        pool = (
            pool_for(region=c["region"], state_pool_id=state.pool_id if state else None, pools=pools)
            if to_user is None
            else (state.pool if state else None)
        )
        values = {
            "owned_since": now if to_user else None,
            "entered_pool_at": None if to_user else now,
            "previous_owner": old,
            "warned_at": None,
            "due_at": None,
            "due_rule": "",
            "pool": pool,
        }
        if state is None:
            new_states.append(CustomerPoolState(customer_id=c["pk"], **values))
        else:
            for k, v in values.items():
                setattr(state, k, v)
            old_states.append(state)
        moves.append(
            PoolMove(
                customer_id=c["pk"],
                kind=MoveKind.HANDOVER,
                at=now,
                from_owner=old,
                to_owner=to_user,
                actor=actor,
                pool=pool,
            )
        )
        target = str(to_user) if to_user else _("the public pool")
        recorded.append(
            events.build(
                PoolEvent.HANDED_OVER,
                customer_id=c["pk"],
                occurred_at=now,
                actor=actor,
                subject=Customer(pk=c["pk"], name=c["name"]),
                summary=_with_work(
                    _("Handed over from %(old)s to %(new)s") % {"old": old, "new": target}, moved, c["pk"], keeper
                )[:300],
                payload={
                    "handover": handover.pk,
                    "from": c["owner_id"],
                    "to": to_user.pk if to_user else None,
                    **(_work_payload(moved, c["pk"], keeper) if keeper else {}),
                },
                audit=AuditAction.UPDATE,
                changes={
                    "owner": [str(old) if old else None, str(to_user) if to_user else None],
                    "handover": [None, handover.pk],
                },
            )
        )
    CustomerPoolState.objects.bulk_create(new_states)
    CustomerPoolState.objects.bulk_update(
        old_states, ["owned_since", "entered_pool_at", "previous_owner", "warned_at", "due_at", "due_rule", "pool"]
    )
    PoolMove.objects.bulk_create(moves)
    events.record_many(recorded)
    HandoverItem.objects.filter(pk__in=[i.pk for i in items]).update(is_done=True)
    Handover.objects.filter(pk=handover.pk).update(
        done=F("done") + len(items),
        commitments_moved=F("commitments_moved") + moved.commitments,
        visits_moved=F("visits_moved") + moved.visits,
    )
    checkpoint("handover.batch")  # the crash tests stop here (kehu.core.checkpoints)
    return len(items)


def _send_briefs(handover: Handover, base_url: str) -> None:
    """The handover brief (交接简报) by email: to the new owner and to their manager (or whoever
    handed over)."""
    recipients = []
    if handover.to_user is not None:
        recipients.append(handover.to_user)
        manager = handover.to_user.manager
        recipients.append(manager if manager is not None and manager.is_active else handover.actor)
    else:
        recipients.append(handover.actor)
    if handover.work_to is not None and handover.work_to.is_active:
        recipients.append(handover.work_to)  # whoever now holds the open commitments must know
    link = f"{base_url.rstrip('/')}{reverse('pool:handover-detail', args=[handover.pk])}"
    from kehu.pool.selectors import handover_summary

    summary = handover_summary(handover)
    told = {user.pk: user for user in recipients if user is not None}
    for user in told.values():
        if user.email:
            queue_email(
                "pool/email/brief",
                {"user": user, "handover": handover, "link": link, **summary},
                [user.email],
                user.language or None,
            )
    with transaction.atomic():
        events.record(
            PoolEvent.HANDOVER_DONE,
            actor=handover.actor,
            summary=f"{handover.from_user or ''} → {handover.to_user or _('the public pool')}",
            payload={"count": handover.done},
            notify=[pk for pk in told if pk != handover.actor_id],
            link=reverse("pool:handover-detail", args=[handover.pk]),
        )
