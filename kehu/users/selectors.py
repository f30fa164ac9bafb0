from datetime import timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from kehu.users.models import ApiToken, Department, Invitation, User
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


def invitations_open() -> QuerySet[Invitation]:
    """Not used and not withdrawn: pending and expired ones (an expired one may be resent)."""
    return (
        Invitation.objects.filter(accepted_user__isnull=True, accepted_at__isnull=True, revoked_at__isnull=True)
        .select_related("department", "invited_by", "manager")
        .order_by("-created_at", "-id")
    )


def open_invitation_for(email: str | None) -> Invitation | None:
    if not email:
        return None
    return invitations_open().filter(email__iexact=email.strip()).first()


def invitations_recently_closed(days: int = 30, limit: int = 20) -> list[Invitation]:
    """Used, revoked or replaced in the last `days`, newest first."""
    since = timezone.now() - timedelta(days=days)
    return list(
        Invitation.objects.filter(Q(accepted_at__gte=since) | Q(revoked_at__gte=since))
        .select_related("accepted_user", "revoked_by", "invited_by", "department")
        .order_by("-id")[:limit]
    )


def invitations_replaced_by(invitation: Invitation) -> bool:
    return Invitation.objects.filter(replaced_by=invitation).exists()
