"""The iCalendar feed of one user (INT-3): planned visits, open commitments, contact birthdays and anniversaries."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.activities import selectors
from kehu.activities.models import ActivityKind, CalendarFeed
from kehu.core.audit import audit_record
from kehu.core.models import AuditAction
from kehu.core.text import printable
from kehu.customers.models import Contact
from kehu.users.models import User, hash_token

FEED_CAP = 2000


@transaction.atomic
def calendar_token_regenerate(*, user: User) -> str:
    """Issue a new secret feed token for `user`; the old URL stops working. Returns the raw token once."""
    raw = secrets.token_urlsafe(32)
    CalendarFeed.objects.update_or_create(
        user=user, defaults={"token_hash": hash_token(raw), "created_at": timezone.now(), "last_used_at": None}
    )
    audit_record(actor=user, action=AuditAction.UPDATE, instance=user, changes={"calendar_feed": ["", "regenerated"]})
    return raw


def calendar_feed_owner(raw: str) -> User | None:
    """The active user whose feed `raw` opens, or None."""
    if not raw or len(raw) > 100:
        return None
    feed = CalendarFeed.objects.select_related("user").filter(token_hash=hash_token(raw)).first()
    if feed is None or not feed.user.is_active:
        return None
    CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=timezone.now())
    return feed.user


def _line(summary: str) -> str:
    # A control character stored before the input rule would break calendar clients.
    return printable(summary, multiline=False)


def _uid(kind: str, pk: int) -> str:
    return f"{kind}-{pk}@kehu"


def calendar_build(user: User) -> bytes:
    """The user's own planned visits and open commitments, and the birthdays and anniversaries of contacts of
    customers they own."""
    # Imported here: the library costs each web worker ~10 MiB, and only the feed needs it.
    from icalendar import Calendar, Event, Todo

    cal = Calendar()
    cal.add("prodid", "-//Kehu CRM//kehu//")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", _("Kehu: visits and commitments"))
    cal.add("x-wr-timezone", settings.TIME_ZONE)
    stamp = timezone.now()
    mine = selectors.activity_qs_visible_to(user).filter(owner=user).select_related("customer")
    visits = mine.filter(kind=ActivityKind.VISIT, planned_for__isnull=False, is_done=False).order_by("planned_for")
    for visit in visits[:FEED_CAP]:
        event = Event()
        event.add("uid", _uid("visit", visit.pk))
        event.add("dtstamp", stamp)
        event.add("dtstart", visit.planned_for)
        event.add("dtend", visit.planned_for + timedelta(minutes=visit.duration_minutes or 60))
        event.add("summary", _line(f"{_('Visit')}: {visit.subject} · {visit.customer.name}"))
        if visit.purpose:
            event.add("description", printable(visit.purpose))
        cal.add_component(event)
    commitments = mine.filter(kind=ActivityKind.COMMITMENT, is_done=False).order_by("due_on")
    for commitment in commitments[:FEED_CAP]:
        todo = Todo()
        todo.add("uid", _uid("commitment", commitment.pk))
        todo.add("dtstamp", stamp)
        todo.add("due", commitment.due_on)
        todo.add("summary", _line(f"{_('Commitment')}: {commitment.subject} · {commitment.customer.name}"))
        todo.add("status", "NEEDS-ACTION")
        cal.add_component(todo)
    contacts = (
        Contact.objects.filter(
            Q(birthday__isnull=False) | Q(birthday_month__isnull=False) | Q(anniversary__isnull=False),
            customer__owner=user,
            deleted_at__isnull=True,
            customer__deleted_at__isnull=True,
        )
        .select_related("customer")
        .order_by("pk")
    )
    if user.has_perm("customers.view_customer"):
        today = timezone.localdate()
        for contact in contacts[:FEED_CAP]:
            birthday = selectors.birthday_of(contact)
            if birthday is not None and contact.birthday is None:
                # Without its year: from the next time it comes round, yearly.
                birthday = selectors.next_anniversary(birthday, today)
            if birthday is not None:
                event = Event()
                event.add("uid", _uid("birthday", contact.pk))
                event.add("dtstamp", stamp)
                event.add("dtstart", birthday)
                event.add("dtend", birthday + timedelta(days=1))
                event.add("rrule", {"freq": "yearly"})
                event.add(
                    "summary",
                    _line(
                        _("Birthday: %(name)s · %(customer)s")
                        % {"name": contact.name, "customer": contact.customer.name}
                    ),
                )
                event.add("transp", "TRANSPARENT")
                cal.add_component(event)
            if contact.anniversary:
                for event in _anniversary_events(contact, today, stamp):
                    cal.add_component(event)
    return cal.to_ical()


def _anniversary_events(contact: Contact, today, stamp) -> list:
    """The next two times a contact's anniversary comes round, each titled with its year count
    ("5th anniversary" / 5 周年): a yearly rule could not say which anniversary it is."""
    from icalendar import Event

    events = []
    first = selectors.next_anniversary(contact.anniversary, today)
    for on in (first, selectors.next_anniversary(contact.anniversary, first + timedelta(days=1))):
        years = selectors.anniversary_years(contact.anniversary, on)
        title = contact.anniversary_name or _("Anniversary")
        if years:
            title = f"{title} · {selectors.anniversary_count(years)}"
        event = Event()
        event.add("uid", f"anniversary-{contact.pk}-{on.year}@kehu")
        event.add("dtstamp", stamp)
        event.add("dtstart", on)
        event.add("dtend", on + timedelta(days=1))
        event.add(
            "summary",
            _line(
                _("%(title)s: %(name)s · %(customer)s")
                % {"title": title, "name": contact.name, "customer": contact.customer.name}
            ),
        )
        event.add("transp", "TRANSPARENT")
        events.append(event)
    return events
