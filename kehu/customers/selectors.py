"""Every read of customers, contacts, facts and the timeline goes through here."""

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.http import Http404

from kehu.core.masking import mask  # noqa: F401  (re-exported for callers)
from kehu.customers.models import Contact, Customer, CustomerFact, InfoLevel, TimelineEntry
from kehu.customers.search import customer_search_ids
from kehu.users.models import User
from kehu.users.roles import DataScope
from kehu.users.scopes import scope_for, scope_q

LIST_COLUMNS = (
    "id",
    "name",
    "kind",
    "segment",
    "industry",
    "region",
    "city",
    "status",
    "tier",
    "phone",
    "updated_at",
    "version",
    "owner_id",
    "department_id",
)
COUNT_CAP = 10_000
SORTS = {
    "updated": "-updated_at",
    "-updated": "updated_at",
    "name": "name",
    "-name": "-name",
    "created": "-created_at",
    "-created": "created_at",
}


def customer_qs_visible_to(user: User) -> QuerySet[Customer]:
    """Live customers in the user's data scope (ACC-3); the one door for reading customers."""
    if not user.is_authenticated or not user.has_perm("customers.view_customer"):
        return Customer.objects.none()
    return Customer.objects.filter(scope_q(user), deleted_at__isnull=True)


def customer_get(user: User, pk) -> Customer:
    try:
        return customer_qs_visible_to(user).select_related("owner", "department").get(pk=int(pk))
    except (Customer.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


@dataclass
class CustomerFilters:
    q: str = ""
    owner: int | None = None
    region: str = ""
    industry: str = ""
    tier: str = ""
    status: str = ""
    sort: str = "updated"


def customer_list(user: User, filters: CustomerFilters) -> QuerySet[Customer]:
    qs = customer_qs_visible_to(user)
    if filters.q:
        ids = customer_search_ids(filters.q)
        if ids is None:
            term = filters.q.strip().lower()
            ids = list(
                Customer.objects.filter(search_text__contains=term, deleted_at__isnull=True)
                .order_by("-id")
                .values_list("id", flat=True)[:2000]
            )
        qs = qs.filter(pk__in=ids)
    if filters.owner:
        qs = qs.filter(owner_id=filters.owner)
    for name in ("region", "industry", "tier", "status"):
        if value := getattr(filters, name):
            qs = qs.filter(**{name: value})
    return qs.order_by(SORTS.get(filters.sort, "-updated_at"), "-id")


def capped_count(qs: QuerySet, cap: int = COUNT_CAP) -> tuple[int, bool]:
    """Exact up to `cap`; beyond it the list says "10,000+" instead of counting a million rows."""
    n = qs.order_by().values("pk")[: cap + 1].count()
    return min(n, cap), n > cap


def can_see_sensitive(user: User, customer: Customer) -> bool:
    """Phones, the contacts' private file and level 3–4 facts: the account team and managers (CUS-4)."""
    if customer.owner_id == user.pk or user.is_superuser:
        return True
    if not user.has_perm("customers.view_sensitive"):
        return False
    scope = scope_for(user)
    if scope.kind == DataScope.ALL:
        return True
    return customer_qs_visible_to(user).filter(pk=customer.pk).exists()


def contact_qs_visible_to(user: User) -> QuerySet[Contact]:
    if not user.is_authenticated or not user.has_perm("customers.view_customer"):
        return Contact.objects.none()
    return Contact.objects.filter(
        scope_q(user, owner="customer__owner", department="customer__department"),
        deleted_at__isnull=True,
        customer__deleted_at__isnull=True,
    )


def contact_get(user: User, pk) -> Contact:
    try:
        return contact_qs_visible_to(user).select_related("customer").get(pk=int(pk))
    except (Contact.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


def contacts_of(customer: Customer) -> QuerySet[Contact]:
    return customer.contacts.filter(deleted_at__isnull=True).order_by("-is_primary", "name")


def facts_of(customer: Customer, *, sensitive: bool) -> QuerySet[CustomerFact]:
    qs = customer.facts.filter(deleted_at__isnull=True).select_related("recorded_by")
    return qs if sensitive else qs.filter(level__lte=InfoLevel.INDUSTRY)


def timeline_page(customer: Customer, *, before: tuple | None = None, size: int = 30) -> list[TimelineEntry]:
    """One page of the timeline, newest first; `before` is the (occurred_at, id) of the last row seen."""
    qs = TimelineEntry.objects.filter(customer=customer).select_related("actor")
    if before is not None:
        occurred_at, pk = before
        qs = qs.filter(Q(occurred_at__lt=occurred_at) | Q(occurred_at=occurred_at, id__lt=pk))
    return list(qs.order_by("-occurred_at", "-id")[:size])


def deleted_customers_for(user: User) -> QuerySet[Customer]:
    """The recycle bin: deleted customers this user may restore (owner or administrator)."""
    qs = Customer.objects.filter(deleted_at__isnull=False).select_related("deleted_by", "owner")
    if user.has_perm("users.manage_users"):
        return qs.order_by("-deleted_at")
    return qs.filter(owner=user).order_by("-deleted_at")
