"""Complaints in the API (/api/v1/service/complaints): the list's shape and filters, registration
with its planned steps, a complaint with its steps, completing each step, moves, plans and
corrections with a version check, the statistics; who may do what (anonymous, another rep, the
customer's owner, a sales manager, the complaint specialist), with 4xx answers that say why and
denied writes that change nothing."""

import pytest

from kehu.customers.services import contact_create
from kehu.support import complaint_services as services
from kehu.support.models_complaints import Complaint, ComplaintStep
from kehu.support.tests.complaints_setup import ComplaintDesk, at

pytestmark = pytest.mark.django_db
API = "/api/v1/service/complaints"


@pytest.fixture
def desk(team, customer_of):
    return ComplaintDesk(team, customer_of)


def state_of(complaint):
    c = Complaint.objects.get(pk=complaint.pk)
    return (c.state, c.version, c.customer_words, c.department_id, c.close_reason)


def test_registration_and_the_list(desk, api_client):
    api = api_client(desk.specialist)
    response = api.post(
        API,
        {
            "customer_id": desk.mine.pk,
            "customer_words": "冷却泵漏水",
            "category": "quality",
            "severity": "minor",
            "specification_id": desk.pump_1.pk,
            "quantity": "4",
            "shipped_on": "2026-08-01",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["number"][:8], body["part_number"], body["product_id"], body["quantity"]) == (
        "TS-" + body["number"][3:8],
        "BP-20-1",
        desk.pump.pk,
        "4.000",
    )
    assert [s["kind"] for s in body["steps"]] == ["notice", "investigation", "action", "feedback", "follow_up"]
    assert body["open_step"] == "notice" and body["transitions"] == ["notice_issued", "rejected", "withdrawn"]
    assert body["steps"][0]["owner_id"] == desk.specialist.pk and body["steps"][0]["started_at"] is not None
    other = desk.register(customer=desk.theirs, category="delivery")
    listed = api.get(API).json()
    assert [c["id"] for c in listed["items"]] == [body["id"], other.pk] and listed["count"] == 2  # newest first
    assert [c["id"] for c in api.get(f"{API}?category=delivery").json()["items"]] == [other.pk]
    assert [c["id"] for c in api.get(f"{API}?customer_id={desk.mine.pk}").json()["items"]] == [body["id"]]
    assert api.get(f"{API}?state=finished").json()["items"] == []
    assert api.get(f"{API}?state=x").status_code == 422
    assert api.get(f"{API}?limit=201").status_code == 422


def test_bad_registrations_are_refused_with_reasons(desk, team, api_client):
    theirs = contact_create(customer=desk.theirs, actor=team.rep3, name="陈工")
    api = api_client(desk.specialist)
    base = {"customer_id": desk.mine.pk, "customer_words": "异响", "category": "quality"}
    response = api.post(API, {**base, "contact_id": theirs.pk})
    assert response.status_code == 400 and "contact_id" in response.json()["errors"]
    response = api.post(API, {**base, "shipped_on": "2099-01-01"})
    assert response.status_code == 400 and "shipped_on" in response.json()["errors"]
    assert api.post(API, {**base, "category": "nonsense"}).status_code == 422
    assert api.post(API, {**base, "quantity": "-1"}).status_code == 422
    assert api.post(API, {**base, "customer_words": ""}).status_code in (400, 422)
    assert not Complaint.objects.exists()


def test_every_step_through_the_api(desk, api_client):
    complaint = desk.register(now=at(25, 9))
    api = api_client(desk.specialist)
    url = f"{API}/{complaint.pk}"
    response = api.post(url + "/complete", {"kind": "investigation", "cause": "design"})
    assert response.status_code == 409 and "not open" in response.json()["detail"]
    response = api.post(url + "/complete", {"kind": "notice"})
    assert response.status_code == 400 and "department" in response.json()["errors"]
    body = api.post(url + "/complete", {"kind": "notice", "department_id": desk.quality.pk, "version": 1}).json()
    assert body["state"] == "notice_issued" and body["department_id"] == desk.quality.pk
    assert body["steps"][1]["owner_id"] == desk.inspector.pk  # the department's head
    stale = api.post(url + "/complete", {"kind": "investigation", "cause": "design", "version": 1})
    assert stale.status_code == 409 and "Handling notice issued" in stale.json()["detail"]
    investigator = api_client(desk.inspector)
    assert investigator.post(url + "/transition", {"to": "investigating"}).json()["state"] == "investigating"
    assert investigator.post(url + "/transition", {"to": "withdrawn", "note": "x"}).status_code == 403
    body = investigator.post(
        url + "/complete",
        {"kind": "investigation", "cause": "design", "responsibility": "ours", "findings": "设计余量不足"},
    ).json()
    assert body["state"] == "action" and body["cause"] == "design"
    api.post(url + "/complete", {"kind": "action", "corrective_action": "改设计"})
    api.post(url + "/complete", {"kind": "feedback", "feedback_text": "已告知"})
    assert api.post(url + "/complete", {"kind": "follow_up", "satisfaction": 6}).status_code == 422
    body = api.post(url + "/complete", {"kind": "follow_up", "satisfaction": 3}).json()
    assert body["state"] == "closed" and body["satisfaction"] == 3 and body["open_step"] is None
    assert all(s["completed_at"] for s in body["steps"])
    # The complaint's state refuses what is done or not open: a 409 with the reason.
    done = api.post(url + "/plan", {"kind": "notice", "due_on": "2027-01-01"})
    assert done.status_code == 409 and done.json() == {"detail": "This step is already done.", "errors": {}}
    closed = api.post(url + "/complete", {"kind": "action"})
    assert closed.status_code == 409 and closed.json()["detail"] == "This step is not open: the complaint is Closed."


def test_plans_corrections_and_moves(desk, api_client):
    complaint = desk.register()
    api = api_client(desk.specialist)
    url = f"{API}/{complaint.pk}"
    body = api.post(url + "/plan", {"kind": "action", "owner_id": desk.inspector.pk, "due_on": "2026-12-01"}).json()
    action = next(s for s in body["steps"] if s["kind"] == "action")
    assert (action["owner_id"], action["due_on"]) == (desk.inspector.pk, "2026-12-01")
    response = api.post(url + "/plan", {"kind": "notice", "owner_id": 999999})
    assert response.status_code == 400 and "owner_id" in response.json()["errors"]
    body = api.patch(url, {"customer_words": "更正", "part_number": "P-9", "version": body["version"]}).json()
    assert (body["customer_words"], body["part_number"]) == ("更正", "P-9")
    assert api.patch(url, {"customer_words": "再改", "version": 1}).status_code == 409
    refused = api.patch(url, {"category": None})  # a category is changed, never cleared: the schema says so
    assert refused.status_code == 422 and refused.json()["errors"][0]["loc"][-1] == "category"
    assert api.post(url + "/transition", {"to": "rejected", "note": ""}).status_code == 400
    assert api.post(url + "/transition", {"to": "closed"}).status_code == 422
    assert api.post(url + "/transition", {"to": "rejected", "note": "非我司"}).json()["state"] == "rejected"


@pytest.mark.parametrize(
    ("who", "listed", "read", "create", "complete", "stats"),
    [
        (None, 401, 401, 401, 401, 401),
        ("rep3", 200, 404, 403, 404, 403),  # another region's rep: sees none of it
        ("rep1", 200, 200, 403, 403, 403),  # the customer's owner: reads, does not register or handle
        ("manager1", 200, 200, 403, 403, 403),  # rep1's manager
        ("marketing1", 403, 403, 403, 404, 403),
        ("specialist", 200, 200, 201, 200, 200),
        ("service1", 200, 200, 201, 200, 200),
    ],
)
def test_who_may_do_what(desk, api_client, who, listed, read, create, complete, stats):
    complaint = desk.register()
    user = desk.specialist if who == "specialist" else (getattr(desk.team, who) if who else None)
    api = api_client(user)
    response = api.get(API)
    assert response.status_code == listed
    if listed == 200:
        expected = [] if who == "rep3" else [complaint.pk]
        assert [c["id"] for c in response.json()["items"]] == expected
    assert api.get(f"{API}/{complaint.pk}").status_code == read
    before = Complaint.objects.count()
    response = api.post(API, {"customer_id": desk.mine.pk, "customer_words": "异响", "category": "quality"})
    assert response.status_code == create
    assert Complaint.objects.count() == before + (create == 201)
    was = state_of(complaint)
    response = api.post(f"{API}/{complaint.pk}/complete", {"kind": "notice", "department_id": desk.quality.pk})
    assert response.status_code == complete
    if complete != 200:
        assert state_of(complaint) == was
        assert api.patch(f"{API}/{complaint.pk}", {"customer_words": "改"}).status_code == complete
        assert api.post(f"{API}/{complaint.pk}/plan", {"kind": "notice", "due_on": "2027-01-01"}).status_code in (
            complete,
        )
        assert state_of(complaint) == was
        assert ComplaintStep.objects.get(complaint=complaint, kind="notice").due_on.year == 2026
    assert api.get(f"{API}/stats").status_code == stats


def test_the_statistics(desk, api_client):
    for cause, when in (("design", at(5, 3)), ("design", at(6, 3)), ("transport", at(2, 5))):
        complaint = desk.register(specification=desk.lathe_a, now=when)
        services.complaint_step_complete(
            complaint=complaint, actor=desk.specialist, kind="notice", data={"department": desk.quality}, now=when
        )
        services.complaint_step_complete(
            complaint=complaint,
            actor=desk.specialist,
            kind="investigation",
            data={"cause": cause, "responsibility": "ours", "findings": "x"},
            now=when,
        )
    api = api_client(desk.specialist)
    body = api.get(f"{API}/stats?first=2026-01-01&last=2026-12-31&period=quarter").json()
    assert body["total"] == 3
    assert [(r["key"], r["count"], r["share"]) for r in body["by_cause"]] == [
        ("design", 2, 66.7),
        ("transport", 1, 33.3),
    ]
    assert [(r["label"], r["count"]) for r in body["by_period"]] == [("2026-Q1", 2), ("2026-Q2", 1)]
    assert [(r["key"], r["count"]) for r in body["by_product"]] == [(desk.lathe.pk, 3)]
    response = api.get(f"{API}/stats?first=2026-12-31&last=2026-01-01")
    assert response.status_code == 400 and "first" in response.json()["errors"]
    assert api.get(f"{API}/stats?period=week").status_code == 422
