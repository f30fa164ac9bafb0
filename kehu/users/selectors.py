from django.db.models import Q, QuerySet

from kehu.users.models import ApiToken, Department, User
from kehu.users.roles import DataScope
from kehu.users.scopes import scope_for


def user_list_for_admin() -> QuerySet[User]:
    return User.objects.select_related("department", "manager").order_by("-is_active", "department__path", "username")


def pending_registrations() -> QuerySet[User]:
    return User.objects.filter(is_active=False, last_login__isnull=True).order_by("-date_joined")


def department_tree() -> QuerySet[Department]:
    return Department.objects.order_by("path")


def api_tokens_of(user: User) -> QuerySet[ApiToken]:
    return user.api_tokens.filter(revoked_at__isnull=True)


def assignable_owners(user: User) -> QuerySet[User]:
    """People a user may give customers to: themselves, or their scope's team for managers."""
    qs = User.objects.filter(is_active=True).select_related("department")
    if not user.has_perm("customers.view_sensitive"):
        return qs.filter(pk=user.pk)
    return qs.filter(scope_users_q(user))


def scope_users_q(user: User) -> Q:
    """The users whose records fall in `user`'s scope: the owner ids `scope_for` read."""
    scope = scope_for(user)
    if scope.kind == DataScope.ALL:
        return Q()
    return Q(pk__in=scope.owner_ids or (user.pk,))
