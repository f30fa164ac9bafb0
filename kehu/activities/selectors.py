from django.db.models import QuerySet
from django.http import Http404

from kehu.activities.models import Activity, ActivityKind
from kehu.customers.models import Customer
from kehu.users.models import User
from kehu.users.scopes import scope_q


def activity_qs_visible_to(user: User) -> QuerySet[Activity]:
    """Activities on customers the user may see."""
    if not user.is_authenticated or not user.has_perm("activities.view_activity"):
        return Activity.objects.none()
    return Activity.objects.filter(
        scope_q(user, owner="customer__owner"),
        deleted_at__isnull=True,
        customer__deleted_at__isnull=True,
    )


def activity_get(user: User, pk) -> Activity:
    try:
        return activity_qs_visible_to(user).select_related("customer", "contact", "owner").get(pk=int(pk))
    except (Activity.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


def open_commitments_of(customer: Customer) -> QuerySet[Activity]:
    return (
        customer.activities.filter(kind=ActivityKind.COMMITMENT, is_done=False, deleted_at__isnull=True)
        .select_related("owner")
        .order_by("due_on", "id")
    )
