"""Every read of the information-collection workflow: what a user may see, what waits for them,
and what is overdue (CUS-3, WRN-6)."""

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from kehu.collection.models import CalendarDay, InfoForm, InfoFormStatus, InfoFormStep, RegionRoute
from kehu.users.models import User
from kehu.users.scopes import scope_q

S = InfoFormStatus
LIST_COLUMNS = (
    "id",
    "name",
    "region",
    "status",
    "source",
    "collected_on",
    "filing_deadline",
    "filed_late",
    "due_on",
    "updated_at",
    "customer_id",
    "owner_id",
    "owner__username",
    "owner__first_name",
    "owner__last_name",
)


def infoform_qs_visible_to(user: User) -> QuerySet[InfoForm]:
    """A collector sees their own forms; a manager (approve_form) their team's, by data scope;
    the archivist (archive_form) every approved and archived form."""
    if not user.is_authenticated or not user.is_active:
        return InfoForm.objects.none()
    may_file = user.has_perm("collection.file_form")
    may_review = user.has_perm("collection.approve_form")
    may_archive = user.has_perm("collection.archive_form")
    if not (may_file or may_review or may_archive):
        return InfoForm.objects.none()
    own = scope_q(user) if may_review else Q(owner_id=user.pk) if may_file else None
    if own is not None and not own:
        return InfoForm.objects.all()  # an empty Q is "everything" (data scope: all)
    archived = Q(status__in=[S.APPROVED, S.ARCHIVED]) if may_archive else None
    parts = [q for q in (own, archived) if q is not None]
    return InfoForm.objects.filter(parts[0] | parts[1] if len(parts) == 2 else parts[0])


def infoform_get(user: User, pk) -> InfoForm:
    try:
        return infoform_qs_visible_to(user).select_related("owner", "customer").get(pk=int(pk))
    except (InfoForm.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


def infoform_list(user: User, *, status: str = "", waiting: bool = False) -> QuerySet[InfoForm]:
    """Visible forms, newest change first; `waiting` keeps those that wait for this user."""
    qs = infoform_qs_visible_to(user)
    if status:
        qs = qs.filter(status=status)
    if waiting:
        qs = qs.filter(_waiting_q(user))
    return qs.select_related("owner").only(*LIST_COLUMNS).order_by("-updated_at", "-id")


@dataclass
class FormPage:
    rows: list[InfoForm]
    has_next: bool


def infoform_page(user: User, *, status: str = "", waiting: bool = False, offset: int = 0, limit: int = 25) -> FormPage:
    """One page plus one row, so the page knows whether a next one exists (one query)."""
    rows = list(infoform_list(user, status=status, waiting=waiting)[offset : offset + limit + 1])
    return FormPage(rows[:limit], len(rows) > limit)


def _waiting_q(user: User) -> Q:
    q = Q(owner_id=user.pk, status__in=[S.DRAFT, S.RETURNED])
    if user.has_perm("collection.approve_form"):
        q |= Q(status=S.FILED) & ~Q(owner_id=user.pk) & scope_q(user)
    if user.has_perm("collection.archive_form"):
        q |= Q(status=S.APPROVED)
    return q


@dataclass
class Overdue:
    """Overdue steps the user is responsible for: filing (their own drafts and returned forms),
    approval (filed forms of the people reporting to them) and archiving (approved forms, for the
    archivist)."""

    filing: list[InfoForm]
    approval: list[InfoForm]
    archiving: list[InfoForm]

    def __bool__(self) -> bool:
        return bool(self.filing or self.approval or self.archiving)


def overdue_for(user: User, *, today=None, limit: int = 10) -> Overdue:
    """At most three small indexed queries (status, due_on); none for a role without the workflow."""
    today = today or timezone.localdate()
    empty = Overdue([], [], [])
    if not user.is_authenticated or not user.is_active:
        return empty
    base = InfoForm.objects.filter(due_on__lt=today).select_related("owner").order_by("due_on", "id")
    if user.has_perm("collection.file_form"):
        empty.filing = list(base.filter(owner_id=user.pk, status__in=[S.DRAFT, S.RETURNED])[:limit])
    if user.has_perm("collection.approve_form"):
        # The collector's own manager answers for the review (the chain above sees it in the list).
        empty.approval = list(base.filter(owner__manager_id=user.pk, status=S.FILED)[:limit])
    if user.has_perm("collection.archive_form"):
        empty.archiving = list(base.filter(status=S.APPROVED)[:limit])
    return empty


def steps_of(form: InfoForm) -> list[InfoFormStep]:
    return list(form.steps.select_related("actor").order_by("at", "id"))


def routes() -> QuerySet[RegionRoute]:
    return RegionRoute.objects.select_related("rep").order_by("region")


def route_get(pk) -> RegionRoute:
    try:
        return routes().get(pk=int(pk))
    except (RegionRoute.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


def may_see_routes(user: User) -> bool:
    """The routing table is shown to those who file, review or configure it."""
    return user.is_authenticated and (
        user.has_perm("collection.file_form")
        or user.has_perm("collection.approve_form")
        or user.has_perm("users.manage_users")
    )


def calendar_days(limit: int = 200) -> list[CalendarDay]:
    """The recorded exceptions from a year ago on, soonest first."""
    since = timezone.localdate().replace(month=1, day=1)
    return list(CalendarDay.objects.filter(day__gte=since).order_by("day")[:limit])


def calendar_day_get(pk) -> CalendarDay:
    try:
        return CalendarDay.objects.get(pk=int(pk))
    except (CalendarDay.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None
