"""The ticket pages (SRV-1) and the open tickets on the customer's 360° page (CUS-6): the queue
(visibility, filters, most urgent first, a fixed number of queries), phone intake, the detail page
with its clock, history and actions, and denied writes that change nothing."""

import re

import pytest
from django.template.loader import render_to_string
from django.utils import timezone, translation

from kehu.customers.services import contact_create
from kehu.notifications.models import Notification
from kehu.support import selectors, services
from kehu.support.models import Priority, Ticket, TicketState, TicketStateChange
from kehu.support.tests.tickets_setup import Desk, at
from kehu.support.workhours import WorkCalendar

pytestmark = pytest.mark.django_db
S = TicketState
QUEUE = "/service/tickets/"


@pytest.fixture
def desk(team, customer_of):
    return Desk(team, customer_of)


def numbers(response) -> list[str]:
    return [t.number for t in response.context["tickets"]]


@pytest.fixture
def queue(desk):
    """Five open tickets in the order the queue must show them, and a closed one (clock at Fri 25 Sep
    16:45): a and d breached (a due earlier), then what is due first — the first response while nobody
    has answered, else the resolution: c (answer due Fri 17:00), b (answer due Mon 09:00; resolution
    Mon 16:00), then e (paused: no due)."""
    team = desk.team
    a = desk.open(subject="a", now=at(21, 9, 9))
    b = desk.open(subject="b", category=desk.repairs, owner=desk.csr)
    c = desk.open(subject="c", priority=Priority.URGENT)
    d = desk.open(subject="d", now=at(24, 9, 9))
    e = desk.open(subject="e")
    services.ticket_transition(ticket=e, actor=team.service1, to=S.WAITING_CUSTOMER, now=at(25, 9, 16, 30))
    f = desk.open(subject="f", customer=desk.theirs)
    services.ticket_transition(ticket=f, actor=team.service1, to=S.RESOLVED, now=at(25, 9, 16, 10))
    services.ticket_transition(ticket=f, actor=team.service1, to=S.CLOSED, now=at(25, 9, 16, 20))
    services.sla_scan(now=at(25, 9, 16, 45))
    services.ticket_assign(ticket=c, actor=team.service1, engineer=desk.engineer, now=at(25, 9, 16, 50))
    return {t.subject: Ticket.objects.get(pk=t.pk) for t in (a, b, c, d, e, f)}


def test_the_queue_puts_breached_first_then_the_earliest_due_and_the_paused_last(client, desk, queue):
    t = queue
    assert (t["a"].resolution_due_at, t["d"].resolution_due_at) == (at(23, 9, 9), at(28, 9, 9))
    assert (t["b"].resolution_due_at, t["c"].resolution_due_at) == (at(28, 9, 16), at(29, 9, 16))
    assert t["e"].resolution_due_at is None and t["c"].state == S.ASSIGNED
    client.force_login(desk.team.service1)
    response = client.get(QUEUE)
    assert numbers(response) == [t[k].number for k in "adcbe"]
    html = response.content.decode()
    # a and d are breached; b and c are overdue too once their due moment has passed on the real clock.
    late = sum(t[k].resolution_due_at <= timezone.now() for k in "bc")
    assert html.count("sla-overdue") == 2 + late and html.count("sla-due") == 2 - late
    assert html.count("sla-paused") == 1
    assert 'id="new-ticket"' in html
    response = client.get(QUEUE + "?state=all")  # every open one first, in the queue's order, then f
    assert numbers(response) == [t[k].number for k in "adcbef"]
    assert "sla-met" in response.content.decode()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("state=paused", "e"),
        ("state=closed", "f"),
        ("sla=breached", "ad"),
        ("priority=urgent", "c"),
        ("state=all&priority=urgent", "c"),
        ("category={repairs}", "b"),
        ("mine=on", "adce"),  # service1 is responsible for all but b (csr1's)
        ("state=bogus&page=x&category=99999", "adcbe"),  # unknown values: the unfiltered queue
    ],
)
def test_the_queue_filters(client, desk, queue, query, expected):
    client.force_login(desk.team.service1)
    response = client.get(QUEUE + "?" + query.format(repairs=desk.repairs.pk))
    assert response.status_code == 200
    assert numbers(response) == [queue[k].number for k in expected]


def test_who_sees_which_tickets(client, desk, queue):
    team = desk.team
    client.force_login(team.rep1)  # rep1's customer only; may log tickets
    response = client.get(QUEUE + "?state=all")
    assert numbers(response) == [queue[k].number for k in "adcbe"]
    assert 'id="new-ticket"' in response.content.decode()
    client.force_login(team.rep3)  # rep3's customer: the closed one
    assert numbers(client.get(QUEUE + "?state=all")) == [queue["f"].number]
    client.force_login(desk.engineer)  # only what was sent to them
    assert numbers(client.get(QUEUE + "?mine=on")) == [queue["c"].number]
    assert numbers(client.get(QUEUE)) == [queue["c"].number]
    assert 'id="new-ticket"' not in client.get(QUEUE).content.decode()
    client.force_login(team.marketing1)
    assert client.get(QUEUE).status_code == 403
    client.logout()
    assert client.get(QUEUE).status_code == 302


def test_the_queue_runs_a_fixed_number_of_queries(client, desk, django_assert_max_num_queries):
    client.force_login(desk.team.service1)
    for i in range(3):
        desk.open(subject=f"少{i}", category=desk.repairs, contact=None)
    with django_assert_max_num_queries(7) as few:
        client.get(QUEUE)
    for i in range(60):
        ticket = desk.open(subject=f"多{i}", customer=desk.theirs if i % 2 else desk.mine)
        if i % 3 == 0:
            services.ticket_assign(ticket=ticket, actor=desk.team.service1, engineer=desk.engineer)
    with django_assert_max_num_queries(7) as many:
        response = client.get(QUEUE)
    assert len(response.context["tickets"]) == 50 and response.context["result"].has_next
    assert len(many.captured_queries) == len(few.captured_queries)
    assert len(client.get(QUEUE + "?page=2").context["tickets"]) == 13


def test_the_sla_cell_says_how_much_working_time_is_left(desk):
    ticket = desk.open(category=desk.repairs)  # first response due Monday 09:00
    calendar = WorkCalendar.load()
    ticket.sla = selectors.sla_cell(ticket, calendar, at(25, 9, 16, 45))
    assert (ticket.sla.kind, ticket.sla.due_at, ticket.sla.remaining) == ("due", at(28, 9, 9), 75 * 60)
    with translation.override("en"):
        html = render_to_string("support/tickets/_sla.html", {"ticket": ticket})
    assert re.sub(r"<[^>]+>", "", html).strip() == "due in 1 h 15 min of working time"
    with translation.override("zh-hans"):
        html = render_to_string("support/tickets/_sla.html", {"ticket": ticket})
    assert re.sub(r"<[^>]+>", "", html).strip() == "剩余工作时间 1 小时 15 分钟"
    # Answered: the resolution clock is the one counting (Monday 16:00: 45 min on Friday, 390 on Monday).
    ticket = services.ticket_transition(
        ticket=ticket, actor=desk.team.service1, to=S.IN_PROGRESS, now=at(25, 9, 16, 45)
    )
    cell = selectors.sla_cell(ticket, calendar, at(25, 9, 16, 45))
    assert (cell.kind, cell.due_at, cell.remaining) == ("due", at(28, 9, 16), 435 * 60)
    assert selectors.sla_cell(ticket, calendar, at(28, 9, 16)).kind == "overdue"


# Intake


def test_new_ticket_picks_a_visible_customer_first(client, desk):
    client.force_login(desk.team.rep1)
    response = client.get("/service/tickets/new/")
    assert response.templates[0].name == "support/tickets/ticket_pick_customer.html"
    found = client.get("/service/tickets/customers/?q=精工", headers={"HX-Request": "true"}).content.decode()
    assert f"?customer={desk.mine.pk}" in found
    assert "南方" not in client.get("/service/tickets/customers/?q=南方").content.decode()
    assert client.get(f"/service/tickets/new/?customer={desk.theirs.pk}").status_code == 404


def test_phone_intake_opens_the_ticket_and_shows_its_due_moments(client, desk):
    contact = contact_create(customer=desk.mine, actor=desk.team.rep1, name="张工", mobile="13900001111")
    client.force_login(desk.team.service1)
    form = client.get(f"/service/tickets/new/?customer={desk.mine.pk}")
    assert list(form.context["form"].fields["contact"].queryset) == [contact]
    response = client.post(
        "/service/tickets/new/",
        {
            "customer": desk.mine.pk,
            "contact": contact.pk,
            "category": desk.repairs.pk,
            "priority": "normal",
            "channel": "phone",
            "subject": "  主轴异响  ",
            "description": "开机后有异响",
        },
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/service/tickets/{ticket.pk}/"
    assert (ticket.customer, ticket.contact, ticket.subject, ticket.owner) == (
        desk.mine,
        contact,
        "主轴异响",
        desk.team.service1,
    )
    calendar = WorkCalendar.load()
    assert ticket.response_due_at == calendar.add(ticket.created_at, 120 * 60)
    assert ticket.resolution_due_at == calendar.add(ticket.created_at, 480 * 60)
    page = client.get(response["Location"]).content.decode()
    local = ticket.response_due_at.astimezone(calendar.tz).strftime("%Y-%m-%d %H:%M")
    assert ticket.number in page and local in page and 'id="clock-resolution"' in page


def test_intake_errors_are_in_the_users_language_and_nothing_is_saved(client, desk, customer_of):
    other = contact_create(customer=desk.theirs, actor=desk.team.rep3, name="李工")
    client.force_login(desk.team.service1)
    data = {"customer": desk.mine.pk, "priority": "normal", "channel": "phone", "subject": "   "}
    response = client.post("/service/tickets/new/", {**data, "contact": other.pk}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    errors = response.context["form"].errors
    assert set(errors) == {"subject", "contact"}
    assert errors["subject"] == ["此项为必填项。"]
    response = client.post("/service/tickets/new/", {**data, "subject": "x", "priority": "soon"})
    assert "priority" in response.context["form"].errors
    assert Ticket.objects.count() == 0


def test_intake_permissions(client, desk):
    data = {"customer": desk.mine.pk, "priority": "normal", "channel": "phone", "subject": "漏油"}
    client.force_login(desk.team.marketing1)
    assert client.post("/service/tickets/new/", data).status_code == 403
    client.force_login(desk.team.rep3)  # may log tickets, not for a customer they do not see
    assert client.post("/service/tickets/new/", data).status_code == 404
    client.logout()
    assert client.post("/service/tickets/new/", data).status_code == 302
    assert Ticket.objects.count() == 0
    client.force_login(desk.team.rep1)
    assert client.post("/service/tickets/new/", data).status_code == 302
    assert Ticket.objects.get().owner == desk.team.rep1


# The detail page and its actions


def test_the_detail_page_shows_the_clock_and_the_history(client, desk):
    ticket = desk.open(category=desk.repairs)
    services.ticket_transition(
        ticket=ticket, actor=desk.team.service1, to=S.IN_PROGRESS, note="已电话联系", now=at(28, 9, 8, 45)
    )
    client.force_login(desk.team.rep1)
    response = client.get(f"/service/tickets/{ticket.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert f'href="/customers/{desk.mine.pk}/"' in html
    assert "2026-09-28 09:00" in html and "2026-09-28 16:00" in html  # both due moments
    assert "2026-09-28 08:45" in html and "已电话联系" in html and "New → In progress" in html
    assert response.context["moves"] == [] and 'id="moves"' not in html  # rep1 may not change it
    client.force_login(desk.team.rep3)
    assert client.get(f"/service/tickets/{ticket.pk}/").status_code == 404
    client.force_login(desk.team.service1)
    response = client.get(f"/service/tickets/{ticket.pk}/")
    assert [s.value for s in response.context["moves"]] == [
        "assigned", "waiting_customer", "waiting_parts", "resolved", "cancelled"
    ]  # fmt: skip


def _snapshot(ticket):
    ticket = Ticket.objects.get(pk=ticket.pk)
    return (ticket.state, ticket.version, ticket.owner_id, ticket.engineer_id, ticket.first_responded_at)


def test_a_transition_with_a_note_and_a_stale_version(client, desk):
    ticket = desk.open()
    client.force_login(desk.team.service1)
    url = f"/service/tickets/{ticket.pk}/transition/"
    response = client.post(url, {"to": "in_progress", "note": "上门检查", "version": ticket.version}, follow=True)
    ticket.refresh_from_db()
    assert ticket.state == S.IN_PROGRESS and ticket.version == 2
    last = TicketStateChange.objects.filter(ticket=ticket).last()
    assert (last.from_state, last.to_state, last.actor, last.note) == (
        "new",
        "in_progress",
        desk.team.service1,
        "上门检查",
    )
    assert [str(m) for m in response.context["messages"]] == ["The ticket is now In progress."]
    # The page was loaded at version 1: someone moved the ticket since.
    response = client.post(url, {"to": "resolved", "version": 1}, follow=True, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert _snapshot(ticket)[:2] == ("in_progress", 2)
    assert [str(m) for m in response.context["messages"]] == [
        "在您打开后，有人修改了这个工单（现在是处理中）。请重新查看后再试。"
    ]
    response = client.post(url, {"to": "closed", "version": 2}, follow=True)
    assert _snapshot(ticket)[:2] == ("in_progress", 2)
    assert [str(m) for m in response.context["messages"]] == ["A ticket that is In progress cannot become Closed."]


def test_denied_writes_change_nothing(client, desk):
    ticket = desk.open()
    before = _snapshot(ticket)
    posts = [
        ("transition", {"to": "in_progress", "version": 1}),
        ("respond", {"note": "x"}),
        ("assign", {"owner": desk.csr.pk, "version": 1}),
    ]
    for user, status in [(desk.team.rep1, 403), (desk.engineer, 404), (desk.team.rep3, 404), (None, 302)]:
        if user is None:
            client.logout()
        else:
            client.force_login(user)
        for action, data in posts:
            assert client.post(f"/service/tickets/{ticket.pk}/{action}/", data).status_code == status, (user, action)
        assert client.get(f"/service/tickets/{ticket.pk}/transition/").status_code == (405 if user else 302)
    # After-sales staff may change tickets but not dispatch engineers.
    client.force_login(desk.csr)
    assert client.post(f"/service/tickets/{ticket.pk}/assign/", {"engineer": desk.engineer.pk}).status_code == 403
    assert _snapshot(ticket) == before
    assert TicketStateChange.objects.filter(ticket=ticket).count() == 1


def test_dispatch_an_engineer_who_then_works_the_ticket(client, desk, django_capture_on_commit_callbacks):
    ticket = desk.open()
    client.force_login(desk.team.service1)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/service/tickets/{ticket.pk}/assign/", {"engineer": desk.engineer.pk, "version": 1}, follow=True
        )
    assert [str(m) for m in response.context["messages"]] == ["Assignment saved."]
    ticket.refresh_from_db()
    assert (ticket.engineer, ticket.owner, ticket.state, ticket.version) == (
        desk.engineer,
        desk.team.service1,
        S.ASSIGNED,
        3,
    )
    assert list(Notification.objects.filter(kind="ticket_assigned").values_list("recipient", flat=True)) == [
        desk.engineer.pk
    ]
    # The engineer now sees the ticket, answers the customer and moves it; another engineer cannot.
    client.force_login(desk.engineer2)
    assert client.get(f"/service/tickets/{ticket.pk}/").status_code == 404
    client.force_login(desk.engineer)
    assert client.post(f"/service/tickets/{ticket.pk}/respond/", {"note": "明早到"}).status_code == 302
    ticket.refresh_from_db()
    assert ticket.first_responded_at is not None and ticket.state == S.ASSIGNED
    client.post(f"/service/tickets/{ticket.pk}/transition/", {"to": "in_progress", "version": 3})
    assert _snapshot(ticket)[:2] == ("in_progress", 4)
    # Assigning someone who cannot work on tickets is refused with a message.
    client.force_login(desk.team.service1)
    response = client.post(f"/service/tickets/{ticket.pk}/assign/", {"owner": desk.team.rep1.pk}, follow=True)
    assert "owner" not in str(response.context["messages"]) and _snapshot(ticket)[2] == desk.team.service1.pk


# CUS-6: the 360° page


def test_open_tickets_show_at_the_top_of_the_360_page(client, desk):
    client.force_login(desk.team.rep1)
    html = client.get(f"/customers/{desk.mine.pk}/").content.decode()
    assert 'id="open-tickets"' not in html and f'href="/service/tickets/new/?customer={desk.mine.pk}"' in html
    tickets = [desk.open(subject=f"故障{i}", now=at(21 + i, 9, 9)) for i in range(7)]
    services.ticket_transition(ticket=tickets[0], actor=desk.team.service1, to=S.CANCELLED)
    html = client.get(f"/customers/{desk.mine.pk}/").content.decode()
    card = html[html.index('id="open-tickets"') : html.index('class="row g-3"')]
    assert re.findall(r'href="/service/tickets/(\d+)/"', card) == [str(t.pk) for t in tickets[1:6]]
    assert "故障0" not in card and "故障6" not in card
    assert f"/service/tickets/new/?customer={desk.mine.pk}" in card
    assert f"/service/tickets/?customer={desk.mine.pk}" in card  # all of them
    # the same order as the queue: breached first, then the earliest due, the paused last
    # (the paused one, without a due moment, drops below the five shown)
    services.ticket_transition(ticket=tickets[1], actor=desk.team.service1, to=S.WAITING_CUSTOMER, now=at(22, 9, 9, 5))
    html = client.get(f"/customers/{desk.mine.pk}/").content.decode()
    card = html[html.index('id="open-tickets"') : html.index('class="row g-3"')]
    assert re.findall(r'href="/service/tickets/(\d+)/"', card) == [str(t.pk) for t in tickets[2:7]]
    client.force_login(desk.team.marketing1)  # no tickets to see: no card
    assert 'id="open-tickets"' not in client.get(f"/customers/{desk.mine.pk}/").content.decode()


def test_the_360_card_runs_a_fixed_number_of_queries(client, desk):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(desk.team.rep1)
    desk.open(subject="一")

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/customers/{desk.mine.pk}/").status_code == 200
        return len(ctx.captured_queries)

    one = count()
    for i in range(8):
        desk.open(subject=f"多{i}", now=at(21, 9, 9))
    assert count() == one


def test_a_post_without_the_csrf_token_is_refused(desk):
    from django.test import Client

    ticket = desk.open()
    client = Client(enforce_csrf_checks=True)
    client.force_login(desk.team.service1)
    response = client.post(f"/service/tickets/{ticket.pk}/transition/", {"to": "in_progress", "version": 1})
    assert response.status_code == 403 and _snapshot(ticket)[:2] == ("new", 1)


def test_the_ticket_page_says_its_targets_in_hours_and_minutes(client, desk):
    ticket = desk.open(category=desk.repairs)  # the repair policy: 120 and 480 working minutes
    client.force_login(desk.team.service1)
    with translation.override("en"):
        html = client.get(f"/service/tickets/{ticket.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    box = html[html.index('id="sla-targets"') :]
    assert box[box.index(">") + 1 : box.index("</span>")] == "respond within 2 h, resolve within 8 h of working time"
