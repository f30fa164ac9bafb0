"""/api/v1/service setup endpoints: categories, SLA policies, hours and units; permissions and 4xx
bodies that say what is wrong."""

from datetime import date

import pytest

from kehu.support.models import InstalledUnit, ServiceSettings, SlaPolicy, TicketCategory
from kehu.support.tests.setup_fixtures import book, customer  # noqa: F401


def test_categories(api_client, team):
    api = api_client(team.service1)
    made = api.post("/api/v1/service/categories", {"name": "维修"})
    assert made.status_code == 201 and made.json()["name"] == "维修"
    again = api.post("/api/v1/service/categories", {"name": "维修"})
    assert again.status_code == 400
    assert again.json()["errors"] == {"name": ["A category with this name exists already."]}
    pk = made.json()["id"]
    changed = api.patch(f"/api/v1/service/categories/{pk}", {"is_active": False})
    assert changed.json() == {"id": pk, "name": "维修", "is_active": False}
    assert api.patch("/api/v1/service/categories/999999", {"name": "x"}).status_code == 404
    assert api_client(team.rep1).get("/api/v1/service/categories").json() == [changed.json()]


def test_policies(api_client, team):
    api = api_client(team.service1)
    category = TicketCategory.objects.create(name="维修")
    body = {"category_id": category.pk, "priority": "urgent", "first_response_minutes": 15, "resolution_minutes": 90}
    made = api.post("/api/v1/service/sla-policies", body)
    assert made.status_code == 201
    assert made.json() == {"id": made.json()["id"], **body}
    clash = api.post("/api/v1/service/sla-policies", body)
    assert clash.status_code == 400 and list(clash.json()["errors"]) == ["priority"]
    shorter = api.patch(f"/api/v1/service/sla-policies/{made.json()['id']}", {"resolution_minutes": 10})
    assert shorter.status_code == 400
    assert shorter.json()["errors"] == {
        "resolution_minutes": ["The resolution target cannot be shorter than the first response target."]
    }
    zero = api.post("/api/v1/service/sla-policies", {**body, "category_id": None, "first_response_minutes": 0})
    assert zero.status_code == 422
    missing = api.post("/api/v1/service/sla-policies", {**body, "category_id": 999999})
    assert missing.status_code == 400 and missing.json()["errors"] == {"category_id": ["No such category."]}
    ok = api.patch(f"/api/v1/service/sla-policies/{made.json()['id']}", {"resolution_minutes": 120})
    assert ok.json()["resolution_minutes"] == 120
    assert api.delete(f"/api/v1/service/sla-policies/{made.json()['id']}").status_code == 204
    assert SlaPolicy.objects.count() == 0


def test_hours(api_client, team):
    api = api_client(team.service1)
    assert api.get("/api/v1/service/hours").json()["day_starts"] == "08:30:00"
    body = {"day_starts": "09:00", "lunch_starts": "12:00", "lunch_ends": "13:00", "day_ends": "18:00"}
    ok = api.put("/api/v1/service/hours", {**body, "warn_before_minutes": 30})
    assert ok.status_code == 200 and ok.json()["day_ends"] == "18:00:00"
    bad = api.put("/api/v1/service/hours", {**body, "lunch_ends": "19:00", "warn_before_minutes": 30})
    assert bad.status_code == 400
    assert bad.json()["errors"] == {
        "__all__": ["The working day must start before the lunch break, which must end before the day ends."]
    }
    assert ServiceSettings.load().lunch_ends.hour == 13


@pytest.mark.parametrize("username", ["rep1", "manager1", "gm", "marketing1"])
def test_others_change_no_setup(api_client, team, username):
    api = api_client(getattr(team, username))
    category = TicketCategory.objects.create(name="咨询")
    policy = SlaPolicy.objects.create(priority="low", first_response_minutes=60, resolution_minutes=600)
    body = {"priority": "high", "first_response_minutes": 60, "resolution_minutes": 480}
    hours = {"day_starts": "06:00", "lunch_starts": "12:00", "lunch_ends": "13:00", "day_ends": "18:00"}
    assert api.post("/api/v1/service/categories", {"name": "x"}).status_code == 403
    assert api.patch(f"/api/v1/service/categories/{category.pk}", {"name": "x"}).status_code == 403
    assert api.post("/api/v1/service/sla-policies", body).status_code == 403
    assert api.patch(f"/api/v1/service/sla-policies/{policy.pk}", {"resolution_minutes": 999}).status_code == 403
    assert api.delete(f"/api/v1/service/sla-policies/{policy.pk}").status_code == 403
    assert api.put("/api/v1/service/hours", {**hours, "warn_before_minutes": 5}).status_code == 403
    assert list(TicketCategory.objects.values_list("name", flat=True)) == ["咨询"]
    assert list(SlaPolicy.objects.values_list("resolution_minutes", flat=True)) == [600]
    assert ServiceSettings.load().day_starts.hour == 8


def test_anonymous_gets_401(client):
    assert client.get("/api/v1/service/categories").status_code == 401
    assert client.get("/api/v1/service/units").status_code == 401


def test_units(api_client, team, book, customer):  # noqa: F811
    api = api_client(team.service1)
    body = {
        "customer_id": customer.pk,
        "specification_id": book.lathe_a.pk,
        "serial_number": "SN-1",
        "warranty_starts_on": "2026-01-01",
        "warranty_ends_on": "2026-12-31",
    }
    made = api.post("/api/v1/service/units", body)
    assert made.status_code == 201
    unit = made.json()
    assert (unit["specification_code"], unit["product_id"], unit["warranty_ends_on"]) == (
        "CK6140-A",
        book.lathe.pk,
        "2026-12-31",
    )
    dup = api.post("/api/v1/service/units", body)
    assert dup.status_code == 400
    assert dup.json()["errors"] == {"serial_number": ["Serial number SN-1 is registered for this product already."]}
    backwards = api.patch(f"/api/v1/service/units/{unit['id']}", {"warranty_ends_on": "2025-12-31"})
    assert backwards.status_code == 400
    assert backwards.json()["errors"] == {"warranty_ends_on": ["The warranty cannot end before it starts."]}
    moved = api.patch(f"/api/v1/service/units/{unit['id']}", {"specification_id": book.lathe_b.pk})
    assert moved.json()["specification_code"] == "CK6140-B"
    listed = api.get(f"/api/v1/service/units?customer_id={customer.pk}").json()
    assert (listed["count"], [u["serial_number"] for u in listed["items"]]) == (1, ["SN-1"])
    assert api.get("/api/v1/service/units?q=CK6140-B").json()["count"] == 1
    nothing = api.post("/api/v1/service/units", {**body, "specification_id": 999999, "serial_number": "N"})
    assert nothing.status_code == 400


def test_units_follow_visibility_and_permission(api_client, team, book, customer):  # noqa: F811
    unit = InstalledUnit.objects.create(customer=customer, product=book.lathe, serial_number="SN-7")
    body = {"customer_id": customer.pk, "specification_id": book.lathe_a.pk}
    outsider = api_client(team.rep3)
    assert outsider.get(f"/api/v1/service/units/{unit.pk}").status_code == 404
    assert outsider.get("/api/v1/service/units").json()["count"] == 0
    assert outsider.patch(f"/api/v1/service/units/{unit.pk}", {"serial_number": "X"}).status_code == 404
    owner = api_client(team.rep1)  # reads the unit, may not add or change units
    assert owner.get(f"/api/v1/service/units/{unit.pk}").json()["serial_number"] == "SN-7"
    assert owner.post("/api/v1/service/units", body).status_code == 403
    assert owner.patch(f"/api/v1/service/units/{unit.pk}", {"serial_number": "X"}).status_code == 403
    assert list(InstalledUnit.objects.values_list("serial_number", flat=True)) == ["SN-7"]
    assert api_client(team.service1).patch(f"/api/v1/service/units/{unit.pk}", {"installed_on": "2026-12-01"}).json()[
        "installed_on"
    ] == str(date(2026, 12, 1))
