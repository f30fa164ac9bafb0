"""On-site visits (SRV-1): assigning from the ranking plans a visit (version checked); the visit
form's report is taken once per client token (a retry answers as the first did and changes
nothing); parts cost copied from the catalog, labour from the engineer's rate, the signature and
photos checked; the customer's confirmation link (valid, tampered, replaced, used, expired); who may
see and do what (anonymous, another engineer, a sales rep, the visit's engineer, the manager)."""

import base64
import io
import json
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import signing
from PIL import Image

from kehu.core.models import OutboxMail
from kehu.support import visit_services
from kehu.support.models import ServiceVisit, Ticket, TicketState, VisitPart, VisitPhoto, VisitState
from kehu.support.tests.field_setup import Field

pytestmark = pytest.mark.django_db


@pytest.fixture
def field(team, customer_of, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return Field(team, customer_of)


def image_data(kind="PNG", size=(60, 30)) -> str:
    out = io.BytesIO()
    Image.new("RGB", size, "white").save(out, kind)
    mime = {"PNG": "png", "JPEG": "jpeg", "GIF": "gif"}[kind]
    return f"data:image/{mime};base64," + base64.b64encode(out.getvalue()).decode()


@pytest.fixture
def visit(field):
    field.make_engineer("zhang", hourly_rate=Decimal("90"), regions=[("浙江", "")])
    from kehu.users.models import User

    engineer = User.objects.get(username="zhang")
    return visit_services.visit_plan(
        ticket=field.ticket, engineer=engineer, actor=field.team.service1, planned_for=None
    )


def report(visit, **extra):
    body = {
        "client_token": str(visit.client_token),
        "work_done": "更换主轴轴承，试车正常",
        "fixed": True,
        "resolve": True,
        "minutes_spent": 95,
        "travel_km": "42.5",
        "travel_cost": "60",
        "parts": [{"specification_id": Field.spec_id, "quantity": "2", "charged": True}],
        "photos": [image_data("JPEG", (2400, 1200))],
        "signature": image_data("PNG"),
        "confirmed_by": "王工",
        "satisfaction": 5,
    }
    body.update(extra)
    return json.dumps(body)


def post(client, visit, body):
    return client.post(f"/service/visits/{visit.pk}/submit/", body, content_type="application/json")


def test_dispatch_from_the_ticket_page_assigns_and_plans_the_visit(client, field):
    field.make_engineer("zhang", regions=[("浙江", "")])
    client.force_login(field.team.service1)
    html = client.get(f"/service/tickets/{field.ticket.pk}/").content.decode()
    assert 'id="candidates"' in html and "covers 浙江 宁波" in html
    engineer = field.ticket.__class__.objects.get(pk=field.ticket.pk)
    from kehu.users.models import User

    zhang = User.objects.get(username="zhang")
    stale = client.post(
        f"/service/tickets/{field.ticket.pk}/dispatch/",
        {"engineer": zhang.pk, "version": engineer.version + 1, "planned_for": "2030-03-02T09:30"},
        follow=True,
    )
    assert "Someone else changed this ticket" in stale.content.decode()
    assert not ServiceVisit.objects.exists() and Ticket.objects.get(pk=field.ticket.pk).engineer_id is None
    client.post(
        f"/service/tickets/{field.ticket.pk}/dispatch/",
        {"engineer": zhang.pk, "version": engineer.version, "planned_for": "2030-03-02T09:30"},
    )
    visit = ServiceVisit.objects.get()
    ticket = Ticket.objects.get(pk=field.ticket.pk)
    assert (visit.engineer, visit.state, ticket.engineer, ticket.state) == (
        zhang,
        VisitState.PLANNED,
        zhang,
        TicketState.ASSIGNED,
    )
    assert visit.planned_for.isoformat() == "2030-03-02T01:30:00+00:00"
    # Only a dispatcher may: the after-sales clerk changes tickets but does not send engineers.
    client.force_login(field.csr)
    assert client.post(f"/service/tickets/{field.ticket.pk}/dispatch/", {"engineer": zhang.pk}).status_code == 403
    assert ServiceVisit.objects.count() == 1


def test_a_report_is_taken_once_per_client_token(client, field, visit):
    client.force_login(visit.engineer)
    first = post(client, visit, report(visit))
    assert first.status_code == 200, first.content
    assert first.json() == {
        "visit_id": visit.pk,
        "state": "done",
        "fixed": True,
        "replay": False,
        "url": f"/service/visits/{visit.pk}/",
    }
    again = post(client, visit, report(visit, work_done="第二份", minutes_spent=5))
    assert again.status_code == 200 and again.json() == {**first.json(), "replay": True}
    visit.refresh_from_db()
    assert visit.work_done == "更换主轴轴承，试车正常" and visit.minutes_spent == 95
    assert (visit.travel_km, visit.travel_cost, visit.labour_cost) == (
        Decimal("42.5"),
        Decimal("60.00"),
        Decimal("142.50"),  # 95 min at 90/h
    )
    assert visit.checked_in_at == visit.finished_at and visit.latitude is None  # no check-in before: now, no position
    assert (visit.confirmation, visit.confirmed_by, visit.satisfaction) == ("signature", "王工", 5)
    assert Image.open(visit.signature.open("rb")).format == "PNG"
    part = VisitPart.objects.get()
    assert (part.visit, part.quantity, part.unit_cost, part.charged) == (visit, Decimal("2"), Decimal("1234.57"), True)
    photo = VisitPhoto.objects.get()
    assert Image.open(photo.image.open("rb")).size == (1600, 800)  # scaled down
    ticket = Ticket.objects.get(pk=visit.ticket_id)
    assert ticket.state == TicketState.RESOLVED
    assert list(ticket.state_changes.values_list("to_state", flat=True)) == [
        "new",
        "assigned",
        "in_progress",
        "resolved",
    ]
    page = client.get(f"/service/visits/{visit.pk}/").content.decode()
    assert 'id="visit-summary"' in page and "更换主轴轴承" in page and 'id="visit-form"' not in page
    assert client.get(f"/service/visits/{visit.pk}/signature/")["Content-Type"] == "image/png"
    assert client.get(f"/service/visits/{visit.pk}/photos/{photo.pk}/")["Content-Type"] == "image/jpeg"


@pytest.mark.parametrize(
    ("change", "field_name"),
    [
        ({"work_done": "  "}, "work_done"),
        ({"minutes_spent": 2000}, "minutes_spent"),
        ({"travel_km": "-1"}, "travel_km"),
        ({"satisfaction": 9}, "satisfaction"),
        ({"parts": [{"specification_id": 999999, "quantity": 1}]}, "parts"),
        ({"parts": [{"specification_id": None, "quantity": 1}]}, "parts"),
        ({"photos": ["data:image/png;base64,bm90IGFuIGltYWdl"]}, "photos"),
        ({"photos": [image_data("GIF")]}, "photos"),
        ({"signature": "javascript:alert(1)"}, "signature"),
        ({"client_token": "00000000-0000-0000-0000-000000000000"}, "client_token"),
    ],
)
def test_a_bad_report_is_refused_and_changes_nothing(client, field, visit, change, field_name):
    client.force_login(visit.engineer)
    response = post(client, visit, report(visit, **change))
    assert response.status_code == 400 and field_name in response.json()["errors"]
    visit.refresh_from_db()
    assert visit.state == VisitState.PLANNED and visit.work_done == "" and visit.checked_in_at is None
    assert not VisitPart.objects.exists() and not VisitPhoto.objects.exists()
    assert Ticket.objects.get(pk=visit.ticket_id).state == TicketState.ASSIGNED


def test_who_may_see_and_do_a_visit(client, field, visit):
    from kehu.users.models import User

    other = field.engineer2
    pages = [f"/service/visits/{visit.pk}/", "/service/visits/"]
    response = client.get(pages[0])
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert post(client, visit, report(visit)).status_code == 302
    client.force_login(other)
    assert client.get(pages[0]).status_code == 404
    assert post(client, visit, report(visit)).status_code == 404
    assert client.post(f"/service/visits/{visit.pk}/check-in/").status_code == 404
    assert f"/service/visits/{visit.pk}/" not in client.get(pages[1]).content.decode()
    client.force_login(field.team.rep1)  # the customer's sales rep: no visits at all
    assert client.get(pages[0]).status_code == 404 and client.get(pages[1]).status_code == 403
    assert post(client, visit, report(visit)).status_code == 404
    visit.refresh_from_db()
    assert visit.state == VisitState.PLANNED and visit.checked_in_at is None
    client.force_login(field.team.service1)  # the manager sees all
    assert f"/service/visits/{visit.pk}/" in client.get(pages[1] + "?all=1").content.decode()
    client.force_login(User.objects.get(username="zhang"))
    html = client.get(pages[0]).content.decode()
    assert 'id="visit-form"' in html and f'data-token="{visit.client_token}"' in html
    assert 'href="geo:0,0?q=%E6%B5%99%E6%B1%9F%20%E5%AE%81%E6%B3%A2"' in html
    response = client.post(
        f"/service/visits/{visit.pk}/check-in/",
        {"latitude": "29.868300", "longitude": "121.544000", "accuracy": "12"},
        headers={"Accept": "application/json"},
    )
    assert response.json() == {"visit_id": visit.pk, "state": "on_site", "with_position": True}
    visit.refresh_from_db()
    assert (visit.latitude, visit.longitude, visit.accuracy_m) == (Decimal("29.868300"), Decimal("121.544000"), 12)
    assert client.post(f"/service/visits/{visit.pk}/check-in/").status_code == 302  # twice: refused, told
    assert Ticket.objects.get(pk=visit.ticket_id).state == TicketState.IN_PROGRESS


def test_check_in_without_a_position_is_noted(client, field, visit):
    client.force_login(visit.engineer)
    response = client.post(f"/service/visits/{visit.pk}/check-in/", headers={"Accept": "application/json"})
    assert response.json()["with_position"] is False
    html = client.get(f"/service/visits/{visit.pk}/").content.decode()
    assert "without a position" in html


def test_the_part_typeahead(client, field, visit):
    client.force_login(visit.engineer)
    body = client.get("/service/visits/parts/?q=CK6140").json()
    assert [p["code"] for p in body["parts"]] == ["CK6140-A", "CK6140-B"]
    assert body["parts"][0] == {
        "id": Field.spec_id,
        "code": "CK6140-A",
        "name": "数控车床 1000mm",
        "unit": "台",
        "cost": "1234.57",
    }
    client.force_login(field.team.rep1)
    assert client.get("/service/visits/parts/?q=CK").status_code == 403


def confirmed_link(client, visit, email="wang@example.com"):
    client.force_login(visit.engineer)
    post(client, visit, report(visit, signature="", confirmed_by=""))
    response = client.post(f"/service/visits/{visit.pk}/confirm-link/", {"email": email})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<svg" in html and 'id="confirm-qr"' in html
    url = response.context["url"]
    client.logout()
    return url


def test_the_confirmation_link(client, field, visit):
    url = confirmed_link(client, visit)
    token = url.rsplit("/", 2)[-2]
    mail = OutboxMail.objects.get()
    assert mail.to == "wang@example.com" and url in mail.body and field.ticket.number in mail.subject
    visit.refresh_from_db()
    assert visit.confirm_token_hash and token not in visit.confirm_token_hash  # only the hash is kept
    path = url.split("testserver", 1)[1]
    page = client.get(path)
    assert page.status_code == 200 and "更换主轴轴承" in page.content.decode()
    tampered = path.replace(token, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    assert client.get(tampered).status_code == 410
    assert client.post(tampered, {"name": "x", "satisfaction": 1}).status_code == 410
    refused = client.post(path, {"name": "", "satisfaction": 7})
    assert refused.status_code == 200 and ServiceVisit.objects.get(pk=visit.pk).confirmed_at is None
    done = client.post(path, {"name": "王工", "satisfaction": 4, "comment": "及时"})
    assert 'id="confirm-done"' in done.content.decode()
    visit.refresh_from_db()
    assert (visit.confirmation, visit.confirmed_by, visit.satisfaction, visit.customer_comment) == (
        "link",
        "王工",
        4,
        "及时",
    )
    again = client.post(path, {"name": "别人", "satisfaction": 1})
    assert 'id="confirm-done"' in again.content.decode()
    visit.refresh_from_db()
    assert (visit.confirmed_by, visit.satisfaction) == ("王工", 4)  # used: nothing changes


def test_a_new_link_replaces_the_old_and_a_link_expires(client, field, visit, monkeypatch):
    old = confirmed_link(client, visit).split("testserver", 1)[1]
    client.force_login(visit.engineer)
    new = client.post(f"/service/visits/{visit.pk}/confirm-link/", {"email": ""}).context["url"]
    assert OutboxMail.objects.count() == 1  # no address: not mailed
    client.logout()
    assert client.get(old).status_code == 410
    new = new.split("testserver", 1)[1]
    assert client.get(new).status_code == 200
    real = time.time
    monkeypatch.setattr(signing.time, "time", lambda: real() + timedelta(days=8).total_seconds())
    response = client.get(new)
    assert response.status_code == 410 and "expired" in response.content.decode()


def test_the_visit_list_costs_a_fixed_number_of_queries(client, field, visit, django_assert_max_num_queries):
    client.force_login(visit.engineer)
    with django_assert_max_num_queries(9) as few:
        client.get("/service/visits/")
    for i in range(12):
        ticket = field.open(field.customer, subject=f"多{i}")
        visit_services.visit_plan(ticket=ticket, engineer=visit.engineer, actor=field.team.service1)
    with django_assert_max_num_queries(9) as many:
        response = client.get("/service/visits/")
    assert len(response.context["visits"]) == 13
    assert len(many.captured_queries) == len(few.captured_queries)
