"""Account teams as a part of visibility (ACC-3 sharing, KAM-1): which customers a user sees beyond
their data scope, resolved once per request.

A member sees a customer as the owner's manager would, and a manager sees what is shared with the
people in their scope (ACC-3: "a manager sees their team's"). The set is small — a rep shares tens or
a few hundred customers — and read on the `(user, customer)` index, so the visibility selectors add it
as a literal id list, `owner_id IN (…) OR id IN (…)`; past `LITERAL_CAP` ids (a large department
whose people share thousands) it becomes a subquery on the same index. The customer list reads it as
a second top-N (see `selectors.customer_page`), never as a join on every row.
"""

from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone

from kehu.customers.models import SENSITIVE_TEAM_ROLES, AccountTeamMember
from kehu.users.models import User
from kehu.users.roles import DataScope
from kehu.users.scopes import scope_for, scope_q

LITERAL_CAP = 1000


@dataclass(frozen=True)
class Shares:
    roles: dict[int, str] = field(default_factory=dict)  # customer id → the user's own team role
    # Customers shared with someone in the scope (≤ LITERAL_CAP; some may be in the scope too)…
    outside: tuple[int, ...] = ()
    # … or, when there are more, None: read through a subquery over the memberships of `people`.
    overflow: bool = False
    people: tuple[int, ...] = ()


def active_q(today=None, prefix: str = "") -> Q:
    """Memberships still running: no end date, or the end date not yet past (the last day counts)."""
    today = today or timezone.localdate()
    return Q(**{f"{prefix}ends_on__isnull": True}) | Q(**{f"{prefix}ends_on__gte": today})


def _memberships(people) -> "QuerySet[AccountTeamMember]":  # noqa: F821
    # No join to the customers: the visibility filter drops deleted ones, and the list's second part
    # leaves out those the scope covers, so the ids are read from the (user, customer) index alone.
    return AccountTeamMember.objects.filter(active_q(), user_id__in=people)


def shares_for(user: User) -> Shares:
    """The user's memberships and what the people of their scope share, read once per request (cached
    on the user object, like the scope) from the (user, customer) index: one query for a rep, two for
    a manager, none beyond the roles for "all records"."""
    cached = getattr(user, "_kehu_shares", None)
    if cached is not None:
        return cached
    if not user.is_authenticated or not user.is_active:
        return Shares()
    roles = dict(_memberships([user.pk]).values_list("customer_id", "role"))
    scope = scope_for(user)
    people: tuple[int, ...] = (user.pk,)
    if scope.kind == DataScope.ALL:
        outside: list[int] = []
    elif not scope.owner_ids:
        outside = sorted(roles)
    else:
        people = scope.owner_ids
        outside = list(
            _memberships(people)
            .order_by("customer_id")
            .values_list("customer_id", flat=True)
            .distinct()[: LITERAL_CAP + 1]
        )
    overflow = len(outside) > LITERAL_CAP
    shares = Shares(roles=roles, outside=() if overflow else tuple(outside), overflow=overflow, people=people)
    user._kehu_shares = shares
    return shares


def forget_shares(*users) -> None:
    """Drop the cached memberships (a service changed them for someone in this request)."""
    for user in users:
        if user is not None and hasattr(user, "_kehu_shares"):
            del user._kehu_shares


def shared_q(user: User, *, field: str = "pk") -> Q | None:
    """`field IN (customers shared beyond the scope)`, or None when there are none; never a query for
    "all records". The ids may include customers the scope covers (the subquery form): OR them only."""
    if not user.is_authenticated or scope_for(user).kind == DataScope.ALL:
        return None
    shares = shares_for(user)
    if shares.overflow:
        return Q(**{f"{field}__in": _memberships(shares.people).values("customer_id")})
    if shares.outside:
        return Q(**{f"{field}__in": shares.outside})
    return None


def customer_scope_q(user: User, *, customer: str = "customer") -> Q:
    """A filter for rows of customers the user may see (by scope or by team): for contacts,
    activities and other customer-level records. `customer` names the foreign key."""
    q = scope_q(user, owner=f"{customer}__owner")
    if (shared := shared_q(user, field=f"{customer}_id")) is not None:
        q |= shared
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
