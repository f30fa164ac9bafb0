"""The iCalendar feed of one user behind a secret URL (INT-3)."""

from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone
from icalendar import Calendar

from kehu.activities import services
from kehu.activities.models import CalendarFeed
from kehu.customers.services import contact_create
from kehu.customers.tests.permissions import build_world, db_state


@pytest.fixture
def world(team):
    w = build_world(team)  # rep1: a logged visit and an open commitment due 2030-01-10
    rep1 = team.rep1
    w.plan = services.visit_plan(
        customer=w.customer,
        actor=rep1,
        planned_for=timezone.make_aware(datetime(2026, 12, 2, 9, 30)),
        subject="拜访技术部",
        purpose="介绍新品",
    )
    done = services.activity_log(
        customer=w.customer, actor=rep1, kind="commitment", subject="已完成", due_on=date(2026, 1, 1)
    )
    services.commitment_mark_done(activity=done, actor=rep1)
    w.birthday = contact_create(customer=w.customer, actor=rep1, name="李娜", birthday=date(1980, 3, 14))
    contact_create(customer=w.customer, actor=rep1, name="王强")  # no birthday
    other = services.activity_log  # rep3's items must never show in rep1's feed
    from kehu.customers.services import customer_create

    c3 = customer_create(actor=team.rep3, owner=team.rep3, name="广州南方电机")
    other(customer=c3, actor=team.rep3, kind="commitment", subject="rep3 的承诺", due_on=date(2030, 1, 1))
    contact_create(customer=c3, actor=team.rep3, name="陈静", birthday=date(1985, 6, 1))
    return w


def _feed_url(client, user):
    client.force_login(user)
    response = client.post("/activities/calendar/")
    client.logout()
    return response.context["url"].replace("http://testserver", "")


def test_the_feed_parses_and_holds_exactly_the_owners_items(client, world):
    url = _feed_url(client, world.team.rep1)
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    cal = Calendar.from_ical(response.content)
    uids = sorted(str(c["uid"]) for c in cal.walk() if c.name in ("VEVENT", "VTODO"))
    assert uids == sorted(
        [f"visit-{world.plan.pk}@kehu", f"commitment-{world.commitment.pk}@kehu", f"birthday-{world.birthday.pk}@kehu"]
    )
    todo = next(c for c in cal.walk("VTODO"))
    assert todo.decoded("due") == date(2030, 1, 10)
    visit = next(c for c in cal.walk("VEVENT") if str(c["uid"]).startswith("visit"))
    assert visit.decoded("dtstart") == timezone.make_aware(datetime(2026, 12, 2, 9, 30))
    assert visit.decoded("dtend") - visit.decoded("dtstart") == timedelta(hours=1)
    birthday = next(c for c in cal.walk("VEVENT") if str(c["uid"]).startswith("birthday"))
    assert birthday["rrule"]["FREQ"] == ["YEARLY"] and birthday.decoded("dtstart") == date(1980, 3, 14)


def test_only_the_owners_token_opens_it_and_a_new_token_replaces_the_old(client, world):
    url = _feed_url(client, world.team.rep1)
    other = _feed_url(client, world.team.rep3)
    assert "rep3 的承诺" not in client.get(url).content.decode()
    assert "rep3 的承诺" in client.get(other).content.decode()
    assert client.get("/activities/calendar/not-a-real-token.ics").status_code == 404
    new = _feed_url(client, world.team.rep1)
    assert new != url
    assert client.get(url).status_code == 404
    assert client.get(new).status_code == 200
    assert CalendarFeed.objects.filter(user=world.team.rep1).count() == 1
    assert len(CalendarFeed.objects.get(user=world.team.rep1).token_hash) == 64
    assert new.split("/")[-1][:-4] not in CalendarFeed.objects.get(user=world.team.rep1).token_hash


def test_a_deactivated_user_feed_stops_working(client, world):
    url = _feed_url(client, world.team.rep1)
    world.team.rep1.is_active = False
    world.team.rep1.save()
    assert client.get(url).status_code == 404


def test_calendar_settings_needs_a_login_and_anonymous_posts_change_nothing(client, world):
    before = db_state()
    response = client.post("/activities/calendar/")
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    assert db_state() == before and not CalendarFeed.objects.exists()
    assert client.get("/activities/calendar/").url.startswith("/accounts/login/")


def test_the_profile_page_links_to_the_calendar_subscription(client, team):
    client.force_login(team.rep1)
    assert "/activities/calendar/" in client.get("/accounts/profile/").content.decode()
