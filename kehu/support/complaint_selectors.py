"""Reads of complaints (投诉, SRV-2), each through the visibility door: a user with
support.view_complaint sees the complaints of the customers they see (their data scope and account
teams), the ones they manage and the ones with a step they own."""

from datetime import date, timedelta

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core import lookups
from kehu.customers.selectors import customer_qs_visible_to
from kehu.support.models_complaints import (
    COMPLAINT_OPEN_STATES,
    Complaint,
    ComplaintCategory,
    ComplaintState,
    ComplaintStep,
)
from kehu.users.models import User

# A deadline never lies further ahead than this (a calendar without working days would loop).
MAX_DAYS = 3 * 366


def add_working_days(calendar, start: date, days: int) -> date:
    """The `days`-th working day after `start` (`start` itself for none): a step begun on a Friday
    with one working day is due on Monday, or on the Tuesday when Monday is a holiday; a make-up
    working day (调休) on a weekend counts."""
    day = start
    left = days
    for _step in range(MAX_DAYS):
        if left <= 0:
            return day
        day += timedelta(days=1)
        if calendar.is_working_day(day):
            left -= 1
    raise ValueError("no working day within three years: check the company calendar")


def complaint_qs_visible_to(user: User) -> QuerySet[Complaint]:
    if not user.is_authenticated or not user.has_perm("support.view_complaint"):
        return Complaint.objects.none()
    customers = customer_qs_visible_to(user).filter(pk=OuterRef("customer_id"))
    own_steps = ComplaintStep.objects.filter(complaint=OuterRef("pk"), owner=user)
    return Complaint.objects.filter(Q(Exists(customers)) | Q(owner=user) | Q(Exists(own_steps)))


def complaint_get(user: User, pk) -> Complaint:
    try:
        return (
            complaint_qs_visible_to(user)
            .select_related(
                "customer",
                "contact",
                "owner",
                "order",
                "order_line",
                "product",
                "specification",
                "department",
                "unit__product",
            )
            .get(pk=int(pk))
        )
    except (Complaint.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


def complaint_steps(complaint: Complaint) -> list[ComplaintStep]:
    return list(complaint.steps.select_related("owner", "completed_by").order_by("position"))


def complaint_list(
    user: User,
    *,
    state: str = "open",
    overdue: bool = False,
    department_id: int | None = None,
    cause: str = "",
    category: str = "",
    customer_id: int | None = None,
    owner_id: int | None = None,
    first: date | None = None,
    last: date | None = None,
    today: date | None = None,
) -> QuerySet[Complaint]:
    """The complaints the user sees, filtered; newest registration first."""
    today = today or timezone.localdate()
    qs = complaint_qs_visible_to(user)
    if state == "open":
        qs = qs.filter(state__in=COMPLAINT_OPEN_STATES)
    elif state == "finished":
        qs = qs.exclude(state__in=COMPLAINT_OPEN_STATES)
    elif state and state != "all":
        qs = qs.filter(state=state)
    if overdue:
        qs = qs.filter(state__in=COMPLAINT_OPEN_STATES, due_on__lt=today)
    if department_id:
        qs = qs.filter(department_id=department_id)
    if cause:
        qs = qs.filter(cause=cause)
    if category:
        qs = qs.filter(category=category)
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    if owner_id:
        qs = qs.filter(owner_id=owner_id)
    if first:
        qs = qs.filter(registered_on__gte=first)
    if last:
        qs = qs.filter(registered_on__lte=last)
    return qs.select_related("customer", "owner", "department", "product").order_by("-registered_on", "-pk")


def open_complaints_of(user: User, customer, *, limit: int = 5) -> list[Complaint]:
    """The open complaints of a customer the user sees (customer_get), the earliest step deadline first
    (360° page). Who sees a customer and complaints sees all its complaints (complaint_qs_visible_to)."""
    if not user.has_perm("support.view_complaint"):
        return []
    return list(
        Complaint.objects.filter(customer=customer, state__in=COMPLAINT_OPEN_STATES).order_by("due_on", "pk")[:limit]
    )


def customers_with_open_complaints(customer_ids) -> set[int]:
    """Which of these customers have a complaint not yet closed, rejected or withdrawn (marketing
    refuses a promotional send to them); one query, whoever asks."""
    ids = [int(pk) for pk in customer_ids]
    if not ids:
        return set()
    return set(
        Complaint.objects.filter(customer_id__in=ids, state__in=COMPLAINT_OPEN_STATES)
        .values_list("customer_id", flat=True)
        .distinct()
    )


def open_complaint_items(ids) -> dict[int, list[lookups.ServiceItem]]:
    """The open complaints of these customers for the banner on sales views (OPEN_SERVICE)."""
    found: dict[int, list[lookups.ServiceItem]] = {}
    today = timezone.localdate()
    rows = (
        Complaint.objects.filter(customer_id__in=list(ids), state__in=COMPLAINT_OPEN_STATES)
        .order_by("customer_id", "due_on", "pk")
        .values_list("customer_id", "pk", "number", "category", "state", "due_on")
    )
    for customer_id, pk, number, category, state, due_on in rows:
        items = found.setdefault(customer_id, [])
        if len(items) < 5:
            items.append(
                lookups.ServiceItem(
                    kind="complaint",
                    reference=number,
                    label=_("%(subject)s (%(state)s)")
                    % {"subject": ComplaintCategory(category).label, "state": ComplaintState(state).label},
                    link=reverse("support:complaint-detail", args=[pk]),
                    perm="support.view_complaint",
                    is_late=due_on is not None and due_on < today,
                )
            )
    return found


def register_lookups() -> None:
    lookups.answer(lookups.OPEN_COMPLAINT, customers_with_open_complaints)
    lookups.answer(lookups.OPEN_SERVICE, open_complaint_items)
