"""Data scopes (ACC-3) as index-friendly filters, resolved once per request."""

from dataclasses import dataclass

from django.db.models import Q

from kehu.users.models import User
from kehu.users.roles import DataScope


@dataclass(frozen=True)
class Scope:
    kind: str
    user_id: int
    owner_ids: tuple[int, ...] = ()


def subordinate_ids(user: User) -> list[int]:
    """Everyone who reports to `user`, directly or down the chain."""
    reports: dict[int, list[int]] = {}
    for uid, manager_id in User.objects.filter(manager__isnull=False).values_list("id", "manager_id"):
        reports.setdefault(manager_id, []).append(uid)
    found, queue = [], [user.pk]
    seen = {user.pk}
    while queue:
        for uid in reports.get(queue.pop(), []):
            if uid not in seen:
                seen.add(uid)
                found.append(uid)
                queue.append(uid)
    return found


def scope_for(user: User) -> Scope:
    """The user's scope, with the ids of every owner in it read once (cached on the user object)."""
    cached = getattr(user, "_kehu_scope", None)
    if cached is not None:
        return cached
    kind = user.data_scope
    scope = Scope(kind=kind, user_id=user.pk)
    if kind == DataScope.OWN_SUBORDINATES:
        scope = Scope(kind=kind, user_id=user.pk, owner_ids=(user.pk, *subordinate_ids(user)))
    elif kind in (DataScope.DEPARTMENT, DataScope.DEPARTMENT_TREE):
        if user.department_id is None:
            scope = Scope(kind=DataScope.OWN, user_id=user.pk)
        else:
            if kind == DataScope.DEPARTMENT_TREE:  # departments keep a materialised path: a prefix match
                members = Q(department__path__startswith=user.department.path)
            else:
                members = Q(department_id=user.department_id)
            ids = User.objects.filter(Q(pk=user.pk) | members).order_by("pk").values_list("pk", flat=True)
            scope = Scope(kind=kind, user_id=user.pk, owner_ids=tuple(ids))
    user._kehu_scope = scope
    return scope


def scope_q(user: User, *, owner: str = "owner") -> Q:
    """A filter for records whose owner (the field named `owner`) is in `user`'s scope.

    The owner's current department decides (read once per request), so a rep's customers follow
    the rep when they move.
    """
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    scope = scope_for(user)
    own = Q(**{f"{owner}_id": user.pk})
    if scope.kind == DataScope.ALL:
        return Q()
    if scope.owner_ids:
        # A list of ids rather than a join to the owner's department: big tables then stay on
        # their own sort indexes whatever the planner thinks of the users table.
        return Q(**{f"{owner}_id__in": scope.owner_ids})
    return own


def is_in_team_of(user: User, owner: User | None) -> bool:
    """Whether records owned by `owner` fall in `user`'s scope."""
    if owner is None:
        return False
    if owner.pk == user.pk:
        return True
    scope = scope_for(user)
    return scope.kind == DataScope.ALL or owner.pk in scope.owner_ids
