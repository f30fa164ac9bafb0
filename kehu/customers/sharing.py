"""Account teams as a part of visibility (ACC-3 sharing, KAM-1): which customers a user shares
beyond their data scope, resolved once per request.

A member sees a customer as the owner's manager would. The set is small (a rep shares tens or a few
hundred customers) and read with one query on the `(user, customer)` index, so the visibility
selectors add it as a literal id list — `owner_id IN (…) OR id IN (…)` — and the customer list
reads it as a second top-N (see `selectors.customer_page`), never as a join on every row.
"""

from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone

from kehu.customers.models import SENSITIVE_TEAM_ROLES, AccountTeamMember
from kehu.users.models import User
from kehu.users.roles import DataScope
from kehu.users.scopes import scope_for, scope_q


@dataclass(frozen=True)
class Shares:
    roles: dict[int, str] = field(default_factory=dict)  # customer id → team role, active memberships
    outside: tuple[int, ...] = ()  # of those, the customers outside the user's data scope


def active_q(today=None, prefix: str = "") -> Q:
    """Memberships still running: no end date, or the end date not yet past (the last day counts)."""
    today = today or timezone.localdate()
    return Q(**{f"{prefix}ends_on__isnull": True}) | Q(**{f"{prefix}ends_on__gte": today})


def shares_for(user: User) -> Shares:
    """The user's active memberships, read once per request (cached on the user object, like the scope)."""
    cached = getattr(user, "_kehu_shares", None)
    if cached is not None:
        return cached
    if not user.is_authenticated or not user.is_active:
        return Shares()
    rows = list(
        AccountTeamMember.objects.filter(active_q(), user_id=user.pk, customer__deleted_at__isnull=True).values_list(
            "customer_id", "role", "customer__owner_id"
        )
    )
    scope = scope_for(user)
    if scope.kind == DataScope.ALL:
        outside = ()
    else:
        owners = set(scope.owner_ids) or {user.pk}
        outside = tuple(sorted(cid for cid, _role, owner_id in rows if owner_id not in owners))
    shares = Shares(roles={cid: role for cid, role, _owner in rows}, outside=outside)
    user._kehu_shares = shares
    return shares


def forget_shares(*users) -> None:
    """Drop the cached memberships (a service changed them for someone in this request)."""
    for user in users:
        if user is not None and hasattr(user, "_kehu_shares"):
            del user._kehu_shares


def shared_outside_scope(user: User) -> tuple[int, ...]:
    """Shared customers the scope does not cover: none for "all records" (and no query then)."""
    if not user.is_authenticated or scope_for(user).kind == DataScope.ALL:
        return ()
    return shares_for(user).outside


def customer_scope_q(user: User, *, customer: str = "customer") -> Q:
    """A filter for rows of customers the user may see (by scope or by team): for contacts,
    activities and other customer-level records. `customer` names the foreign key."""
    q = scope_q(user, owner=f"{customer}__owner")
    shared = shared_outside_scope(user) if user.is_authenticated else ()
    if shared:
        q |= Q(**{f"{customer}_id__in": shared})
    return q


def member_sees_sensitive(user: User, customer_id: int) -> bool:
    """An active member whose team role, or own role, lets them see levels 3–4, phones and the private file."""
    role = shares_for(user).roles.get(customer_id)
    if role is None:
        return False
    return role in SENSITIVE_TEAM_ROLES or user.has_perm("customers.view_sensitive")


def sees_sensitive_in_list(user: User, customer) -> bool:
    """`selectors.can_see_sensitive` for a row of a visible list, without a query per row."""
    return (
        user.is_superuser
        or customer.owner_id == user.pk
        or user.has_perm("customers.view_sensitive")
        or member_sees_sensitive(user, customer.pk)
    )


def team_of(customer, *, today=None) -> list[AccountTeamMember]:
    """The customer's account team as the 360° page and the API show it: active members only (an
    expired membership is kept for the record but hidden), the team leader first."""
    order = {role: i for i, role in enumerate(AccountTeamMember._meta.get_field("role").choices)}
    members = list(
        AccountTeamMember.objects.filter(active_q(today), customer_id=customer.pk).select_related("user", "added_by")
    )
    return sorted(members, key=lambda m: (order.get(m.role, 99), m.user.username))
