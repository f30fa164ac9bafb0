"""Contact anniversaries (纪念日) as care reminders next to birthdays: form, API, masking, task list,
dashboard and calendar feed (SAL-7, INT-3)."""

from datetime import date, timedelta

import pytest
from django.utils import timezone, translation
from icalendar import Calendar

from kehu.activities import calendar, selectors
from kehu.customers.models import Contact
from kehu.customers.services import contact_create
from kehu.customers.tests.permissions import build_world


@pytest.fixture
def world(team):
    return build_world(team)


def _soon(days: int, year: int) -> date:
    day = timezone.localdate() + timedelta(days=days)
    try:
        return day.replace(year=year)
    except ValueError:  # 29 Feb
        return day.replace(year=year, day=28)


def _years_before(days: int, years: int) -> date:
    """The date `years` years before the day `days` from today: its anniversary count then is `years`."""
    day = timezone.localdate() + timedelta(days=days)
    return _soon(days, day.year - years)


def test_anniversary_count_in_both_languages():
    with translation.override("en"):
        assert [selectors.anniversary_count(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 103)] == [
            "1st anniversary",
            "2nd anniversary",
            "3rd anniversary",
            "4th anniversary",
            "11th anniversary",
            "12th anniversary",
            "13th anniversary",
            "21st anniversary",
            "22nd anniversary",
            "103rd anniversary",
        ]
    with translation.override("zh-hans"):
        assert selectors.anniversary_count(5) == "5 周年"


def test_reminders_hold_birthdays_and_anniversaries_with_the_year_count(team, world):
    today = timezone.localdate()
    wed = _years_before(3, 5)
    both = contact_create(
        customer=world.customer,
        actor=team.rep1,
        name="李娜",
        birthday=_soon(1, 1980),
        anniversary=wed,
        anniversary_name="结婚纪念日",
    )
    later = contact_create(customer=world.customer, actor=team.rep1, name="王强", anniversary=_soon(30, 2020))
    reminders = selectors.care_reminders(team.rep1, today=today)
    assert [(r.contact.pk, r.kind, r.days_until, r.years) for r in reminders] == [
        (both.pk, "birthday", 1, None),
        (both.pk, "anniversary", 3, 5),
    ]
    with translation.override("en"):
        assert reminders[1].title == "结婚纪念日 · 5th anniversary" and reminders[0].title == "Birthday"
    with translation.override("zh-hans"):
        assert reminders[1].title == "结婚纪念日 · 5 周年"
    assert later.pk not in [r.contact.pk for r in reminders]


def test_the_soonest_reminders_come_when_more_contacts_match_than_the_limit(team, world):
    """The contacts are read soonest first, so a limit keeps the soonest (not the first stored)."""
    today = timezone.localdate()
    made = {}
    for days, name in ((9, "甲"), (1, "乙"), (12, "丙"), (4, "丁")):  # stored in another order than their dates
        made[days] = contact_create(customer=world.customer, actor=team.rep1, name=name, birthday=_soon(days, 1985))
    contact_create(customer=world.customer, actor=team.rep1, name="戊", anniversary=_years_before(2, 3))
    reminders = selectors.care_reminders(team.rep1, today=today, limit=3)
    assert [(r.contact.name, r.kind, r.days_until) for r in reminders] == [
        ("乙", "birthday", 1),
        ("戊", "anniversary", 2),
        ("丁", "birthday", 4),
    ]


def test_an_anniversary_in_its_first_year_has_no_count_and_a_default_title(team, world):
    today = timezone.localdate()
    contact_create(customer=world.customer, actor=team.rep1, name="赵敏", anniversary=today)
    [reminder] = selectors.care_reminders(team.rep1, today=today)
    assert reminder.years is None and reminder.days_until == 0
    with translation.override("en"):
        assert reminder.title == "Anniversary"


def test_anniversaries_are_reminded_only_to_who_may_read_the_private_file(team, world):
    contact_create(
        customer=world.customer, actor=team.rep1, name="李娜", anniversary=_soon(2, 2015), anniversary_name="合作纪念日"
    )
    assert [r.contact.name for r in selectors.care_reminders(team.rep1)] == ["李娜"]
    assert [r.contact.name for r in selectors.care_reminders(team.manager1)] == ["李娜"]
    assert selectors.care_reminders(team.rep2) == []
    assert selectors.care_reminders(team.rep3) == []
    assert selectors.care_reminders(team.marketing1) == []  # sees customers, not their private file


def test_task_list_and_dashboard_show_the_anniversary(client, team, world):
    contact_create(
        customer=world.customer,
        actor=team.rep1,
        name="李娜",
        anniversary=_years_before(2, 10),
        anniversary_name="入职纪念日",
    )
    client.force_login(team.rep1)
    for url in ("/activities/tasks/", "/"):
        body = client.get(url).content.decode()
        assert 'id="care-reminders"' in body and "入职纪念日 · 10th anniversary" in body, url
    client.force_login(team.rep2)
    assert "入职纪念日" not in client.get("/").content.decode()


def test_reminder_lists_run_a_fixed_number_of_queries(client, team, world, django_assert_max_num_queries):
    for n in range(12):
        contact_create(
            customer=world.customer,
            actor=team.rep1,
            name=f"联系人{n}",
            birthday=_soon(n % 10, 1980),
            anniversary=_soon(n % 7, 2010),
        )
    client.force_login(team.rep1)
    with django_assert_max_num_queries(1):
        assert len(selectors.care_reminders(team.rep1)) == 24
    with django_assert_max_num_queries(8):  # with the bell's count of unread notifications
        assert client.get("/activities/tasks/").status_code == 200


def test_the_feed_has_the_next_two_anniversaries_with_their_count(team, world):
    today = timezone.localdate()
    contact = contact_create(
        customer=world.customer,
        actor=team.rep1,
        name="李娜",
        anniversary=date(2019, 5, 20),
        anniversary_name="结婚纪念日",
    )
    with translation.override("en"):
        cal = Calendar.from_ical(calendar.calendar_build(team.rep1))
    events = [e for e in cal.walk("VEVENT") if str(e["uid"]).startswith("anniversary")]
    first = selectors.next_anniversary(date(2019, 5, 20), today)
    assert [e.decoded("dtstart") for e in events] == [first, first.replace(year=first.year + 1)]
    assert str(events[0]["uid"]) == f"anniversary-{contact.pk}-{first.year}@kehu"
    count = first.year - 2019
    with translation.override("en"):
        assert (
            str(events[0]["summary"])
            == f"结婚纪念日 · {selectors.anniversary_count(count)}: 李娜 · {world.customer.name}"
        )
        assert str(events[1]["summary"]).startswith(f"结婚纪念日 · {selectors.anniversary_count(count + 1)}: ")
    # not in another user's feed
    assert "anniversary" not in calendar.calendar_build(team.manager1).decode()


# --- the contact form and the API ------------------------------------------------------------------


def test_the_contact_form_saves_the_anniversary(client, team, world):
    client.force_login(team.rep1)
    response = client.post(
        f"/customers/contacts/{world.contact.pk}/edit/",
        {
            "name": world.contact.name,
            "mobile": world.contact.mobile,
            "anniversary": "2018-09-01",
            "anniversary_name": "合作纪念日",
            "version": world.contact.version,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    contact = Contact.objects.get(pk=world.contact.pk)
    assert (contact.anniversary, contact.anniversary_name) == (date(2018, 9, 1), "合作纪念日")
    body = client.get(f"/customers/{world.customer.pk}/").content.decode()
    assert "2018-09-01 · 合作纪念日" in body


def test_the_api_writes_and_masks_the_anniversary_like_the_birthday(api_client, team, world):
    rep1 = api_client(team.rep1)
    response = rep1.patch(
        f"/api/v1/contacts/{world.contact.pk}", {"anniversary": "2016-04-18", "anniversary_name": "结婚纪念日"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["anniversary"] == "2016-04-18" and response.json()["anniversary_name"] == "结婚纪念日"
    created = rep1.post(
        "/api/v1/contacts/",
        {"customer_id": world.customer.pk, "name": "李娜", "anniversary": "2020-01-02", "anniversary_name": "入职"},
    ).json()
    assert created["anniversary"] == "2020-01-02"
    marketing = api_client(team.marketing1).get(f"/api/v1/contacts/{world.contact.pk}").json()
    assert marketing["anniversary"] is None and marketing["anniversary_name"] == ""
    listed = api_client(team.marketing1).get(f"/api/v1/contacts/?customer_id={world.customer.pk}").json()
    assert all(c["anniversary"] is None and c["anniversary_name"] == "" for c in listed["items"])
    assert rep1.patch(f"/api/v1/contacts/{world.contact.pk}", {"anniversary": "0001-01-01"}).status_code == 422
    assert rep1.patch(f"/api/v1/contacts/{world.contact.pk}", {"anniversary_name": "x" * 51}).status_code == 422
