"""Reads of dispatch and on-site visits: an engineer sees their own visits, whoever dispatches (the
service manager) sees all; the engineers' profiles; the catalog's parts for the visit form."""

from datetime import datetime, timedelta

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from kehu.catalog.models import Specification
from kehu.support.dispatch import engineers_qs
from kehu.support.models import EngineerProfile, ServiceVisit, VisitState
from kehu.users.models import User

ACTIVE_STATES = (VisitState.PLANNED, VisitState.ON_SITE)


def sees_all_visits(user: User) -> bool:
    return user.has_perm("support.view_servicevisit") and user.has_perm("support.dispatch_ticket")


def visit_qs_visible_to(user: User) -> QuerySet[ServiceVisit]:
    if not user.is_authenticated or not user.has_perm("support.view_servicevisit"):
        return ServiceVisit.objects.none()
    qs = ServiceVisit.objects.filter(ticket__deleted_at__isnull=True)
    return qs if sees_all_visits(user) else qs.filter(engineer=user)


def visit_get(user: User, pk) -> ServiceVisit:
    try:
        return (
            visit_qs_visible_to(user)
            .select_related("ticket__customer", "ticket__contact", "ticket__unit__product", "engineer")
            .get(pk=int(pk))
        )
    except (ServiceVisit.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


def visit_list(user: User, *, mine: bool = True, when: str = "upcoming", now: datetime | None = None):
    """Today's and upcoming visits (planned or on site; the ones planned earlier and not finished
    too), soonest first; or the finished ones, latest first."""
    now = now or timezone.now()
    qs = visit_qs_visible_to(user).select_related("ticket__customer", "ticket__contact", "engineer")
    if mine or not sees_all_visits(user):
        qs = qs.filter(engineer=user)
    if when == "done":
        return qs.filter(state=VisitState.DONE).order_by("-finished_at", "-pk")
    return qs.filter(state__in=ACTIVE_STATES).order_by("planned_for", "pk")


def day_of(visit: ServiceVisit, now: datetime) -> str:
    """ "today", "later" or "earlier" for a visit's planned moment (none: "today")."""
    if visit.planned_for is None:
        return "today"
    day, today = timezone.localdate(visit.planned_for), timezone.localdate(now)
    return "today" if day == today else ("later" if day > today else "earlier")


def visits_of_ticket(user: User, ticket) -> list[ServiceVisit]:
    return list(visit_qs_visible_to(user).filter(ticket=ticket).select_related("engineer").order_by("-created_at"))


def part_search(q: str, *, limit: int = 10) -> list[Specification]:
    """Active specifications whose code or name, or whose product's code or name, has `q`."""
    q = q.strip()
    if not q:
        return []
    return list(
        Specification.objects.filter(
            Q(code__icontains=q) | Q(name__icontains=q) | Q(product__name__icontains=q) | Q(product__code__icontains=q),
            is_active=True,
            product__deleted_at__isnull=True,
        )
        .select_related("product")
        .order_by("code")[:limit]
    )


def engineer_list() -> QuerySet[User]:
    return engineers_qs().prefetch_related(
        "engineer_profile__skills__product", "engineer_profile__skills__category", "engineer_profile__regions"
    )


def engineer_get(pk) -> User:
    try:
        return engineers_qs().get(pk=int(pk))
    except (User.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


def profile_of(user: User) -> EngineerProfile | None:
    return EngineerProfile.objects.filter(user=user).prefetch_related("skills", "regions").first()


UPCOMING = timedelta(days=14)
