"""Service tickets in the API (/api/v1/service/tickets): the list's shape, filters and order, intake
with its computed due moments, transitions with a version check, responses, assignment; who may do
what (anonymous, another rep, the customer's owner, a sales manager, the service manager), with
4xx answers that say why and denied writes that change nothing."""

import pytest
from django.utils import timezone

from kehu.customers.services import contact_create
from kehu.support import services
from kehu.support.models import Ticket, TicketState
from kehu.support.tests.tickets_setup import Desk, at
from kehu.support.workhours import WorkCalendar

pytestmark = pytest.mark.django_db
S = TicketState
API = "/api/v1/service/tickets"


@pytest.fixture
def desk(team, customer_of):
    return Desk(team, customer_of)


def state_of(ticket):
    t = Ticket.objects.get(pk=ticket.pk)
    return (t.state, t.version, t.owner_id, t.engineer_id, t.first_responded_at)


def test_the_list_is_paginated_most_urgent_first_and_filtered(desk, api_client):
    late = desk.open(subject="早", now=at(21, 9, 9))
    soon = desk.open(subject="维修", category=desk.repairs)
    later = desk.open(subject="咨询")
    theirs = desk.open(subject="别家", customer=desk.theirs)
    services.sla_scan(now=at(25, 9, 16, 45))
    api = api_client(desk.team.service1)
    body = api.get(API).json()
    # Breached first, then the soonest due: the repair's first answer is due Monday, the others' Friday.
    assert [t["number"] for t in body["items"]] == [late.number, later.number, theirs.number, soon.number]
    assert (body["count"], body["count_is_capped"], body["has_next"]) == (4, False, False)
    first = body["items"][0]
    assert (first["resolution_breached"], first["response_breached"], first["state"]) == (True, True, "new")
    assert first["resolution_due_at"] == "2026-09-23T01:00:00Z"  # 09:00 in Shanghai
    page = api.get(API + "?limit=2&offset=2").json()
    assert [t["id"] for t in page["items"]] == [theirs.pk, soon.pk] and page["count"] == 4
    assert api.get(API + "?limit=2").json()["has_next"] is True
    assert [t["id"] for t in api.get(API + "?sla=breached").json()["items"]] == [late.pk]
    assert [t["id"] for t in api.get(f"{API}?ticket_category_id={desk.repairs.pk}").json()["items"]] == [soon.pk]
    assert [t["id"] for t in api.get(f"{API}?customer_id={desk.theirs.pk}").json()["items"]] == [theirs.pk]
    assert api.get(API + "?state=closed").json()["items"] == []
    assert api.get(API + "?state=x").status_code == 422
    assert api.get(API + "?limit=201").status_code == 422


@pytest.mark.parametrize(
    ("who", "listed", "read", "create", "move"),
    [
        (None, 401, 401, 401, 401),
        ("rep3", 200, 404, 404, 404),  # another region's rep: sees none of it
        ("rep1", 200, 200, 201, 403),  # the customer's owner: reads and logs, does not work tickets
        ("manager1", 200, 200, 201, 403),  # rep1's manager
        ("marketing1", 403, 404, 403, 404),
        ("service1", 200, 200, 201, 200),
    ],
)
def test_who_may_do_what(desk, api_client, who, listed, read, create, move):
    ticket = desk.open()
    api = api_client(getattr(desk.team, who) if who else None)
    response = api.get(API)
    assert response.status_code == listed
    if listed == 200:
        expected = [ticket.pk] if who in ("rep1", "manager1", "service1") else []
        assert [t["id"] for t in response.json()["items"]] == expected
    assert api.get(f"{API}/{ticket.pk}").status_code == read
    before = Ticket.objects.count()
    response = api.post(API, {"customer_id": desk.mine.pk, "subject": "漏油"})
    assert response.status_code == create
    assert Ticket.objects.count() == before + (create == 201)
    was = state_of(ticket)
    response = api.post(f"{API}/{ticket.pk}/transition", {"to": "in_progress", "version": 1})
    assert response.status_code == move
    for action, data in (("respond", {"note": "x"}), ("assign", {"owner_id": desk.csr.pk})):
        assert api.post(f"{API}/{ticket.pk}/{action}", data).status_code == move
    if move != 200:
        assert state_of(ticket) == was
        assert response.json()["detail"]


def test_intake_computes_the_due_moments_and_refuses_foreign_records(desk, api_client):
    contact = contact_create(customer=desk.mine, actor=desk.team.rep1, name="张工")
    foreign = contact_create(customer=desk.theirs, actor=desk.team.rep3, name="李工")
    api = api_client(desk.team.service1)
    body = {"customer_id": desk.mine.pk, "subject": "主轴异响", "ticket_category_id": desk.repairs.pk}
    response = api.post(API, {**body, "contact_id": foreign.pk, "unit_id": 999, "ticket_category_id": 999})
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Invalid input.",
        "errors": {
            "ticket_category_id": ["No such category."],
            "contact_id": ["This customer has no such contact."],
            "unit_id": ["This customer has no such installed unit."],
        },
    }
    blank = api.post(API, {**body, "subject": "  "})
    assert (blank.status_code, [e["loc"][2:] for e in blank.json()["errors"]]) == (422, [["subject"]])
    assert api.post(API, {**body, "priority": "soon"}).status_code == 422
    assert Ticket.objects.count() == 0
    response = api.post(API, {**body, "contact_id": contact.pk, "priority": "normal", "channel": "phone"})
    assert response.status_code == 201
    created = response.json()
    ticket = Ticket.objects.get()
    calendar = WorkCalendar.load()
    assert (
        created["id"] == ticket.pk
        and created["contact_id"] == contact.pk
        and created["owner_id"] == desk.team.service1.pk
    )
    assert ticket.response_due_at == calendar.add(ticket.created_at, 120 * 60)
    assert ticket.resolution_due_at == calendar.add(ticket.created_at, 480 * 60)
    assert created["state"] == "new" and created["history"][0]["to_state"] == "new"
    assert created["transitions"] == ["assigned", "cancelled", "in_progress", "resolved", "waiting_customer"]


def test_transitions_check_the_version_and_the_workflow(desk, api_client):
    ticket = desk.open(now=timezone.now())  # the API moves it now
    api = api_client(desk.team.service1)
    url = f"{API}/{ticket.pk}/transition"
    response = api.post(url, {"to": "waiting_customer", "note": "等客户回电", "version": 1})
    assert response.status_code == 200
    body = response.json()
    assert (body["state"], body["version"], body["history"][-1]["note"]) == ("waiting_customer", 2, "等客户回电")
    assert body["first_responded_at"] is not None and body["resolution_due_at"] is None  # paused
    stale = api.post(url, {"to": "resolved", "version": 1})
    assert stale.status_code == 409 and "Waiting for the customer" in stale.json()["detail"]
    wrong = api.post(url, {"to": "closed", "version": 2})
    assert wrong.status_code == 400
    assert wrong.json()["errors"] == {"__all__": ["A ticket that is Waiting for the customer cannot become Closed."]}
    assert api.post(url, {"to": "sideways"}).status_code == 422
    assert state_of(ticket)[:2] == ("waiting_customer", 2)
    assert api.post(url, {"to": "in_progress"}).json()["state"] == "in_progress"  # no version: no check
    assert api.post(f"{API}/999999/transition", {"to": "in_progress"}).status_code == 404


def test_respond_and_assign(desk, api_client):
    ticket = desk.open(now=timezone.now())
    api = api_client(desk.team.service1)
    body = api.post(f"{API}/{ticket.pk}/respond", {"note": "已回电"}).json()
    assert body["first_responded_at"] is not None and body["response_breached"] is False
    assert api.post(f"{API}/{ticket.pk}/assign", {}).status_code == 400
    missing = api.post(f"{API}/{ticket.pk}/assign", {"engineer_id": 99999})
    assert missing.status_code == 400 and missing.json()["errors"] == {"engineer_id": ["No such user."]}
    refused = api.post(f"{API}/{ticket.pk}/assign", {"owner_id": desk.team.rep1.pk})
    assert refused.status_code == 400 and list(refused.json()["errors"]) == ["owner"]
    assert api.post(f"{API}/{ticket.pk}/assign", {"engineer_id": desk.engineer.pk, "version": 7}).status_code == 409
    body = api.post(f"{API}/{ticket.pk}/assign", {"engineer_id": desk.engineer.pk, "version": 1}).json()
    assert (body["engineer_id"], body["state"], body["version"]) == (desk.engineer.pk, "assigned", 3)
    # After-sales staff change tickets but do not dispatch; an engineer works only their own.
    after_sales = api_client(desk.csr)
    assert after_sales.post(f"{API}/{ticket.pk}/assign", {"engineer_id": desk.engineer2.pk}).status_code == 403
    assert after_sales.post(f"{API}/{ticket.pk}/assign", {"owner_id": desk.csr.pk}).json()["owner_id"] == desk.csr.pk
    assert api_client(desk.engineer2).get(f"{API}/{ticket.pk}").status_code == 404
    engineer = api_client(desk.engineer)
    assert engineer.post(f"{API}/{ticket.pk}/assign", {"engineer_id": desk.engineer2.pk}).status_code == 403
    moved = engineer.post(f"{API}/{ticket.pk}/transition", {"to": "resolved", "version": 4})
    assert moved.status_code == 200 and moved.json()["state"] == "resolved"
    closed = api.post(f"{API}/{ticket.pk}/transition", {"to": "closed"}).json()
    assert closed["state"] == "closed" and closed["transitions"] == []
    assert api.post(f"{API}/{ticket.pk}/respond", {}).status_code == 400
    assert api.post(f"{API}/{ticket.pk}/assign", {"owner_id": desk.csr.pk}).status_code == 400
    assert state_of(ticket)[:4] == ("closed", 6, desk.csr.pk, desk.engineer.pk)


def test_the_list_runs_a_fixed_number_of_queries(desk, api_client, django_assert_max_num_queries):
    api = api_client(desk.team.service1)
    desk.open()
    api.get(API)  # the token's first use records its last-used time once
    with django_assert_max_num_queries(3) as few:
        assert api.get(API).status_code == 200
    for i in range(30):
        ticket = desk.open(subject=f"多{i}", customer=desk.theirs if i % 2 else desk.mine)
        if i % 3 == 0:
            services.ticket_assign(ticket=ticket, actor=desk.team.service1, engineer=desk.engineer)
    with django_assert_max_num_queries(3) as many:
        assert len(api.get(API).json()["items"]) == 31
    assert len(many.captured_queries) == len(few.captured_queries)
