"""Dispatch and visits in the REST API (/api/v1/service): the ranking with its reasons and
assigning from it, engineers' profiles, an engineer's own visits (check in, a report taken once per
client token), the parts typeahead; who may do what (anonymous, sales rep, another engineer, the
visit's engineer, the manager)."""

from datetime import date

import pytest

from kehu.support.dispatch import rank_engineers
from kehu.support.models import EngineerProfile, ServiceVisit, VisitPart, VisitState
from kehu.support.tests.field_setup import NOW, Field
from kehu.users.models import User

pytestmark = pytest.mark.django_db
API = "/api/v1/service"


@pytest.fixture
def field(team, customer_of, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    made = Field(team, customer_of)
    User.objects.filter(pk__in=[made.engineer.pk, made.engineer2.pk]).update(is_active=False)
    return made


def test_the_ranking_and_assigning_from_it(api_client, field):
    people = field.five()
    manager = api_client(field.team.service1)
    ranked = manager.get(f"{API}/tickets/{field.ticket.pk}/dispatch").json()
    expected = rank_engineers(field.ticket)  # on today's clock (the fixed one is the ranking test's)
    assert [(c["engineer_id"], c["score"], c["reasons"], c["excluded"]) for c in ranked] == [
        (c.engineer.pk, c.score, c.reasons, c.excluded) for c in expected
    ]
    assert {c["engineer_id"] for c in ranked} == {p.pk for p in people.values()}
    response = manager.post(
        f"{API}/tickets/{field.ticket.pk}/dispatch",
        {"engineer_id": people["li"].pk, "planned_for": "2030-01-02T09:00:00+08:00", "version": 999},
    )
    assert response.status_code == 409 and not ServiceVisit.objects.filter(ticket=field.ticket).exists()
    response = manager.post(
        f"{API}/tickets/{field.ticket.pk}/dispatch",
        {"engineer_id": people["li"].pk, "planned_for": "2030-01-02T09:00:00+08:00"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["engineer_id"], body["state"], body["planned_for"]) == (
        people["li"].pk,
        "planned",
        "2030-01-02T09:00:00+08:00",
    )
    rep = api_client(field.team.rep1)  # sees the ticket (their customer), may not dispatch
    assert rep.get(f"{API}/tickets/{field.ticket.pk}/dispatch").status_code == 403
    assert rep.post(f"{API}/tickets/{field.ticket.pk}/dispatch", {"engineer_id": people["li"].pk}).status_code == 403
    assert api_client().get(f"{API}/tickets/{field.ticket.pk}/dispatch").status_code == 401
    assert ServiceVisit.objects.filter(ticket=field.ticket).count() == 1


def test_engineer_profiles(api_client, field):
    zhang = field.make_engineer("zhang")
    manager = api_client(field.team.service1)
    body = {
        "on_leave": True,
        "leave_until": "2026-10-08",
        "hourly_rate": "80.00",
        "regions": [{"province": "浙江", "city": "宁波"}, {"province": "江苏"}],
        "skills": [
            {"product_id": field.lathe.pk, "level": 3, "certificate_number": "C-1", "valid_until": "2027-05-31"}
        ],
    }
    response = manager.put(f"{API}/engineers/{zhang.pk}", body)
    assert response.status_code == 200, response.content
    got = response.json()
    assert (got["on_leave"], got["leave_until"], got["hourly_rate"]) == (True, "2026-10-08", "80.00")
    assert got["regions"] == [{"province": "江苏", "city": ""}, {"province": "浙江", "city": "宁波"}]
    assert got["skills"] == [
        {
            "product_id": field.lathe.pk,
            "category_id": None,
            "level": 3,
            "certificate_number": "C-1",
            "valid_until": "2027-05-31",
        }
    ]
    both = {**body, "skills": [{"product_id": field.lathe.pk, "category_id": field.lathes.pk}]}
    assert manager.put(f"{API}/engineers/{zhang.pk}", both).status_code == 400
    assert EngineerProfile.objects.get(user=zhang).skills.count() == 1  # unchanged
    assert manager.put(f"{API}/engineers/{field.team.rep1.pk}", body).status_code == 404  # not an engineer
    engineer = api_client(zhang)
    assert engineer.put(f"{API}/engineers/{zhang.pk}", {**body, "on_leave": False}).status_code == 403
    assert EngineerProfile.objects.get(user=zhang).on_leave is True
    listed = manager.get(f"{API}/engineers").json()["items"]
    assert [e["username"] for e in listed] == ["zhang"]


def test_an_engineers_visits_through_the_api(api_client, field):
    from kehu.support import visit_services

    zhang = field.make_engineer("zhang")
    visit = visit_services.visit_plan(
        ticket=field.ticket, engineer=zhang, actor=field.team.service1, planned_for=NOW, now=NOW
    )
    mine = api_client(zhang)
    assert [v["id"] for v in mine.get(f"{API}/visits").json()["items"]] == [visit.pk]
    other = api_client(field.engineer2.__class__.objects.get(username="engineer2"))
    User.objects.filter(username="engineer2").update(is_active=True)
    assert other.get(f"{API}/visits").json()["items"] == []
    assert other.get(f"{API}/visits/{visit.pk}").status_code == 404
    assert other.post(f"{API}/visits/{visit.pk}/check-in", {}).status_code == 404
    assert api_client(field.team.rep1).get(f"{API}/visits/{visit.pk}").status_code == 403
    checked = mine.post(f"{API}/visits/{visit.pk}/check-in", {"latitude": 29.8683, "longitude": 121.544, "accuracy": 8})
    assert checked.status_code == 200 and checked.json()["state"] == "on_site"
    assert checked.json()["accuracy_m"] == 8
    parts = mine.get(f"{API}/parts?q=1500").json()
    assert [p["code"] for p in parts] == ["CK6140-B"] and parts[0]["cost"] == "1234.57"
    report = {
        "client_token": str(visit.client_token),
        "work_done": "调整刀塔",
        "fixed": False,
        "minutes_spent": 30,
        "parts": [{"specification_id": parts[0]["id"], "quantity": "1"}],
    }
    first = mine.post(f"{API}/visits/{visit.pk}/submit", report)
    assert first.status_code == 200, first.content
    again = mine.post(f"{API}/visits/{visit.pk}/submit", {**report, "work_done": "别的"})
    assert first.json()["replay"] is False and again.json() == {**first.json(), "replay": True}
    assert again.json()["work_done"] == "调整刀塔" and VisitPart.objects.count() == 1
    assert ServiceVisit.objects.get(pk=visit.pk).state == VisitState.DONE
    assert [v["id"] for v in mine.get(f"{API}/visits?when=done").json()["items"]] == [visit.pk]
    manager = api_client(field.team.service1)
    assert [v["id"] for v in manager.get(f"{API}/visits?when=done&everyone=true").json()["items"]] == [visit.pk]
    assert date.fromisoformat(first.json()["finished_at"][:10])
