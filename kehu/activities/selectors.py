from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Case, Q, QuerySet, Value, When
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.activities.models import Activity, ActivityKind
from kehu.core.pagination import top_ids
from kehu.customers.models import Contact, Customer
from kehu.customers.sharing import customer_scope_q
from kehu.users.models import User
from kehu.users.roles import DataScope
from kehu.users.scopes import is_in_team_of, scope_for, scope_q

# Open work (待办): commitments not yet kept and visits planned but not yet logged.
OPEN_WORK = Q(kind=ActivityKind.COMMITMENT, is_done=False) | Q(
    kind=ActivityKind.VISIT, planned_for__isnull=False, is_done=False
)


def activity_qs_visible_to(user: User) -> QuerySet[Activity]:
    """Activities on customers the user may see, and the user's own open work on customers in the
    public pool (kept by whoever released or handed them over there, so no promise is lost)."""
    if not user.is_authenticated or not user.has_perm("activities.view_activity"):
        return Activity.objects.none()
    scoped = customer_scope_q(user)  # the data scope and the account teams the user is in
    if scoped:  # an empty Q is "all"
        scoped |= Q(owner_id=user.pk, customer__owner__isnull=True) & OPEN_WORK
    return Activity.objects.filter(scoped, deleted_at__isnull=True, customer__deleted_at__isnull=True)


def newest_activities(user: User, *, limit: int, kind: str = "") -> list[Activity]:
    """The newest work of the people in `user`'s scope (the user alone for a rep; everyone, leavers
    included, for a whole-company scope), newest first, read through the visibility filter.

    Each person's newest walk their own index (owner, occurred_at; ties by id as the index holds
    them) and stop; one ORDER BY over every activity a manager may see sorted millions of rows at a
    million customers (over a minute). Others' work on a customer is on the customer's own page.
    """
    scope = scope_for(user)
    if scope.kind == DataScope.ALL:  # leavers included: their history stays the company's
        people = list(User.objects.order_by("pk").values_list("pk", flat=True))
    else:
        people = list(scope.owner_ids or (user.pk,))
    live = Activity.objects.filter(deleted_at__isnull=True, **({"kind": kind} if kind else {}))
    ids = top_ids([live.filter(owner_id=pk) for pk in people], ("-occurred_at", "id"), offset=0, top=limit)
    found = activity_qs_visible_to(user).select_related("customer", "owner", "contact").in_bulk(ids)
    return [found[pk] for pk in ids if pk in found]


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


def team_members(user: User) -> list[User]:
    """The people whose week and tasks `user` may look at: themselves and their team (ACC-3)."""
    if not user.is_authenticated:
        return []
    people = User.objects.filter(is_active=True).select_related("department").order_by("username")
    return [person for person in people if is_in_team_of(user, person)]


def person_for(user: User, raw) -> User | None:
    """The person a `?user=` parameter names, if `user` may see their work; None means "the whole team"."""
    if raw in (None, ""):
        return None
    try:
        person = User.objects.select_related("department").get(pk=int(raw))
    except (User.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None
    if not is_in_team_of(user, person):
        raise Http404
    return person


def week_activities(user: User, *, start: date, person: User | None) -> QuerySet[Activity]:
    """Visits (planned or logged), calls, meetings and commitments due in the 7 days from `start`."""
    tz = timezone.get_current_timezone()
    begin = datetime.combine(start, time.min, tzinfo=tz)
    end = begin + timedelta(days=7)
    qs = activity_qs_visible_to(user)
    if person is not None:
        qs = qs.filter(owner=person)
    in_week = (
        Q(planned_for__gte=begin, planned_for__lt=end)
        | Q(
            planned_for__isnull=True,
            kind__in=[ActivityKind.VISIT, ActivityKind.CALL, ActivityKind.MEETING],
            occurred_at__gte=begin,
            occurred_at__lt=end,
        )
        | Q(kind=ActivityKind.COMMITMENT, due_on__gte=start, due_on__lt=start + timedelta(days=7))
    )
    return qs.filter(in_week).select_related("customer", "owner", "contact").order_by("occurred_at", "id")


def week_start(day: date) -> date:
    """The Monday of the week `day` falls in."""
    return day - timedelta(days=day.weekday())


def week_days(items, start: date) -> list[dict]:
    """The 7 days from `start`, each with its activities: commitments on their due day, the rest on their
    planned (or logged) day in the current time zone."""
    days = []
    for offset in range(7):
        day = start + timedelta(days=offset)
        rows = [
            a
            for a in items
            if (
                a.due_on == day
                if a.kind == ActivityKind.COMMITMENT
                else timezone.localdate(a.planned_for or a.occurred_at) == day
            )
        ]
        days.append({"day": day, "items": rows})
    return days


def task_person(user: User, raw, *, team: bool) -> User | None:
    """Whose tasks to show: the whole team (None) if asked, else the person `raw` names (in the team of
    `user`, or 404), else the user themselves."""
    if team:
        return None
    return person_for(user, raw) if raw not in (None, "") else user


def open_commitments_for(user: User, *, person: User | None) -> QuerySet[Activity]:
    """Open commitments (承诺), due soonest first: one person's, or everyone's `user` may see."""
    qs = activity_qs_visible_to(user).filter(kind=ActivityKind.COMMITMENT, is_done=False)
    if person is not None:
        qs = qs.filter(owner=person)
    return qs.select_related("customer", "owner").order_by("due_on", "id")


def planned_visits_for(user: User, *, person: User | None) -> QuerySet[Activity]:
    qs = activity_qs_visible_to(user).filter(kind=ActivityKind.VISIT, planned_for__isnull=False, is_done=False)
    if person is not None:
        qs = qs.filter(owner=person)
    return qs.select_related("customer", "owner").order_by("planned_for", "id")


def _month_days(start: date, days: int) -> list[date]:
    return [start + timedelta(days=n) for n in range(days)]


def next_anniversary(day: date, today: date) -> date:
    """The next time the month and day of `day` come round, from `today` (29 Feb → 28 Feb)."""
    for year in (today.year, today.year + 1):
        try:
            candidate = day.replace(year=year)
        except ValueError:
            candidate = date(year, 2, 28)
        if candidate >= today:
            return candidate
    return today


def _days_match(field: str, today: date, days: int) -> Q:
    """Dates in `field` whose month and day come round in the `days` days from `today` (29 Feb on 28 Feb)."""
    match = Q(pk__in=[])
    for day in _month_days(today, days):
        match |= Q(**{f"{field}__month": day.month, f"{field}__day": day.day})
        if day.month == 2 and day.day == 28:
            match |= Q(**{f"{field}__month": 2, f"{field}__day": 29})
    return match


def _birthday_match(today: date, days: int) -> Q:
    """Birthdays coming round in the `days` days from `today`: full dates, and month-and-day
    birthdays whose year is not known (Contact.birthday_month/birthday_day)."""
    match = _days_match("birthday", today, days) & Q(birthday__isnull=False)
    for day in _month_days(today, days):
        match |= Q(birthday_month=day.month, birthday_day=day.day)
        if day.month == 2 and day.day == 28:
            match |= Q(birthday_month=2, birthday_day=29)
    return match


def _days_away(today: date, days: int) -> Case:
    """For ordering: in how many days a contact's birthday or anniversary nearest `today` comes round
    (the first day of the window that matches; 29 Feb on 28 Feb)."""
    whens = []
    for offset, day in enumerate(_month_days(today, days)):
        month_days = [(day.month, day.day)] + ([(2, 29)] if (day.month, day.day) == (2, 28) else [])
        for month, dom in month_days:
            on_day = (
                Q(birthday__month=month, birthday__day=dom)
                | Q(birthday__isnull=True, birthday_month=month, birthday_day=dom)
                | Q(anniversary__month=month, anniversary__day=dom)
            )
            whens.append(When(on_day, then=Value(offset)))
    return Case(*whens, default=Value(days))


def birthday_of(contact: Contact) -> date | None:
    """The contact's birthday as a date to count from: the full date, or month and day in a leap
    year (2000) when the year is not known."""
    if contact.birthday is not None:
        return contact.birthday
    if contact.birthday_month and contact.birthday_day:
        try:
            return date(2000, contact.birthday_month, contact.birthday_day)
        except ValueError:
            return None
    return None


def _contacts_with_private_dates(user: User, match: Q) -> QuerySet[Contact]:
    """Contacts matching `match` whose private file (birthday, anniversary) `user` may read: the
    customer's owner, or someone with `customers.view_sensitive` in scope."""
    qs = Contact.objects.filter(
        scope_q(user, owner="customer__owner"),
        match,
        deleted_at__isnull=True,
        customer__deleted_at__isnull=True,
    )
    if not (user.is_superuser or user.has_perm("customers.view_sensitive")):
        qs = qs.filter(customer__owner=user)
    return qs


def birthdays_upcoming(user: User, *, days: int = 14, today: date | None = None) -> list:
    """Contacts whose birthday (生日提醒) falls in the next `days` days, soonest first.

    A birthday is part of the contact's private file: shown only where the user may see it
    (the customer's owner, or someone with `customers.view_sensitive` in scope)."""
    if not user.is_authenticated or not user.has_perm("customers.view_customer"):
        return []
    today = today or timezone.localdate()
    qs = _contacts_with_private_dates(user, _birthday_match(today, days))
    found = []
    columns = ("id", "name", "birthday", "birthday_month", "birthday_day", "customer__id", "customer__name")
    for contact in qs.select_related("customer").only(*columns)[:200]:
        contact.next_birthday = next_anniversary(birthday_of(contact), today)
        contact.days_until = (contact.next_birthday - today).days
        found.append(contact)
    return sorted(found, key=lambda c: (c.next_birthday, c.name))


def anniversary_count(years: int) -> str:
    """ "5th anniversary" / "5 周年"."""
    if years % 100 in (11, 12, 13):
        text = _("%(years)sth anniversary")
    elif years % 10 == 1:
        text = _("%(years)sst anniversary")
    elif years % 10 == 2:
        text = _("%(years)snd anniversary")
    elif years % 10 == 3:
        text = _("%(years)srd anniversary")
    else:
        text = _("%(years)sth anniversary")
    return text % {"years": years}


def anniversary_years(anniversary: date, on: date) -> int | None:
    """How many years the anniversary on `on` marks; None when it is not a whole year after the first."""
    years = on.year - anniversary.year
    return years if years > 0 else None


@dataclass
class CareReminder:
    """A contact's birthday or anniversary coming round (关怀提醒)."""

    contact: Contact
    kind: str  # "birthday" or "anniversary"
    on: date
    days_until: int
    years: int | None = None  # anniversaries: the count, where the year is known

    @property
    def title(self) -> str:
        if self.kind == "birthday":
            return str(_("Birthday"))
        name = self.contact.anniversary_name or str(_("Anniversary"))
        return f"{name} · {anniversary_count(self.years)}" if self.years else name


def care_reminders(user: User, *, days: int = 14, today: date | None = None, limit: int = 200) -> list[CareReminder]:
    """Birthdays and anniversaries (生日和纪念日提醒) of contacts in the next `days` days, soonest first,
    where the user may read the contact's private file. One query."""
    if not user.is_authenticated or not user.has_perm("customers.view_customer"):
        return []
    today = today or timezone.localdate()
    match = _birthday_match(today, days) | (_days_match("anniversary", today, days) & Q(anniversary__isnull=False))
    qs = _contacts_with_private_dates(user, match).select_related("customer")
    qs = qs.only(
        "id",
        "name",
        "birthday",
        "birthday_month",
        "birthday_day",
        "anniversary",
        "anniversary_name",
        "customer__id",
        "customer__name",
    )
    found = []
    last = today + timedelta(days=days - 1)
    # Soonest first in the query too: the first `limit` contacts hold the `limit` soonest reminders.
    for contact in qs.order_by(_days_away(today, days), "name", "pk")[:limit]:
        if (birthday := birthday_of(contact)) is not None:
            on = next_anniversary(birthday, today)
            if on <= last:
                found.append(CareReminder(contact, "birthday", on, (on - today).days))
        if contact.anniversary is not None:
            on = next_anniversary(contact.anniversary, today)
            if on <= last:
                years = anniversary_years(contact.anniversary, on)
                found.append(CareReminder(contact, "anniversary", on, (on - today).days, years))
    return sorted(found, key=lambda r: (r.on, r.contact.name, r.kind))[:limit]


@dataclass
class CheckInFilters:
    person: User | None = None  # None: everyone `user` may see
    warning: str = ""  # one CheckInWarning code, or "" for any
    flagged: bool = True  # only check-ins with a warning
    date_from: date | None = None
    date_to: date | None = None


def check_ins_for(user: User, filters: CheckInFilters) -> QuerySet[Activity]:
    """Visit check-ins (签到), newest first: for a manager, the team's check-ins with warnings to review."""
    qs = activity_qs_visible_to(user).filter(kind=ActivityKind.VISIT, checked_in_at__isnull=False)
    if filters.person is not None:
        qs = qs.filter(owner=filters.person)
    if filters.warning:
        # Codes are stored comma-separated; no code is a part of another.
        qs = qs.filter(check_in_warnings__contains=filters.warning)
    elif filters.flagged:
        qs = qs.exclude(check_in_warnings="")
    tz = timezone.get_current_timezone()
    if filters.date_from:
        qs = qs.filter(checked_in_at__gte=datetime.combine(filters.date_from, time.min, tzinfo=tz))
    if filters.date_to:
        qs = qs.filter(checked_in_at__lt=datetime.combine(filters.date_to + timedelta(days=1), time.min, tzinfo=tz))
    return qs.select_related("customer", "owner").order_by("-checked_in_at", "-id")


def email_addresses_of(customer: Customer) -> list[tuple[str, str]]:
    """(address, "name <address>") of the customer's contacts' e-mail addresses, primary contacts first."""
    from kehu.customers.models import ContactPoint, Medium

    rows = (
        ContactPoint.objects.filter(medium=Medium.EMAIL, contact__customer=customer, contact__deleted_at__isnull=True)
        .order_by("-contact__is_primary", "contact__name", "position")
        .values_list("value", "contact__name")[:50]
    )
    found = {}
    for address, name in rows:
        found.setdefault(address.lower(), (address, f"{name} <{address}>"))
    if customer.email and customer.email.lower() not in found:
        found[customer.email.lower()] = (customer.email, f"{customer.name} <{customer.email}>")
    return list(found.values())
