"""A birthday known without its year (a vCard's --12-24) is reminded like any other: task list,
dashboard, upcoming birthdays and the calendar feed; only to who may read the private file."""

from datetime import date, timedelta

import pytest
from django.utils import timezone
from icalendar import Calendar

from kehu.activities import calendar, selectors
from kehu.customers.services import contact_create
from kehu.customers.tests.permissions import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(team):
    return build_world(team)


def _in(days: int) -> date:
    return timezone.localdate() + timedelta(days=days)


def test_month_and_day_birthdays_are_reminded(team, world):
    soon, later = _in(3), _in(40)
    contact_create(
        customer=world.customer, actor=team.rep1, name="李娜", birthday_month=soon.month, birthday_day=soon.day
    )
    contact_create(
        customer=world.customer, actor=team.rep1, name="王芳", birthday_month=later.month, birthday_day=later.day
    )
    reminders = selectors.care_reminders(team.rep1)
    assert [(r.contact.name, r.kind, r.on, r.days_until) for r in reminders] == [("李娜", "birthday", soon, 3)]
    assert [(c.name, c.next_birthday, c.days_until) for c in selectors.birthdays_upcoming(team.rep1)] == [
        ("李娜", soon, 3)
    ]
    assert [r.contact.name for r in selectors.care_reminders(team.manager1)] == ["李娜"]
    assert selectors.care_reminders(team.rep2) == [] and selectors.care_reminders(team.marketing1) == []


def test_29_february_without_a_year_is_reminded_on_28_february_in_other_years(team, world):
    contact_create(customer=world.customer, actor=team.rep1, name="李娜", birthday_month=2, birthday_day=29)
    reminders = selectors.care_reminders(team.rep1, today=date(2027, 2, 20))
    assert [(r.contact.name, r.on) for r in reminders] == [("李娜", date(2027, 2, 28))]
    reminders = selectors.care_reminders(team.rep1, today=date(2028, 2, 20))
    assert [(r.contact.name, r.on) for r in reminders] == [("李娜", date(2028, 2, 29))]


def test_the_task_list_shows_it(client, team, world):
    soon = _in(1)
    contact_create(
        customer=world.customer, actor=team.rep1, name="李娜", birthday_month=soon.month, birthday_day=soon.day
    )
    client.force_login(team.rep1)
    body = client.get("/activities/tasks/").content.decode()
    assert 'data-reminder="birthday"' in body and "李娜" in body and soon.strftime("%m-%d") in body


def test_the_feed_repeats_it_yearly_from_its_next_day(team, world):
    contact = contact_create(customer=world.customer, actor=team.rep1, name="李娜", birthday_month=12, birthday_day=24)
    cal = Calendar.from_ical(calendar.calendar_build(team.rep1))
    (event,) = [e for e in cal.walk("VEVENT") if str(e["uid"]) == f"birthday-{contact.pk}@kehu"]
    assert event.decoded("dtstart") == selectors.next_anniversary(date(2000, 12, 24), timezone.localdate())
    assert event["rrule"]["FREQ"] == ["YEARLY"]
