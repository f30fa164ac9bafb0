"""Activities through /api/v1/activities/."""

from kehu.activities.models import Activity
from kehu.customers.models import TimelineEntry

URL = "/api/v1/activities/"


def test_list_shape_filters_and_pagination(team, customer_of, activity_of, rep1_api):
    first = customer_of(team.rep1, name="甲公司")
    second = customer_of(team.rep1, name="乙公司")
    activity_of(first, kind="visit", subject="拜访")
    activity_of(first, kind="call", subject="电话")
    activity_of(second, kind="commitment", subject="寄样品", due_on="2030-01-01")
    body = rep1_api.get(URL).json()
    assert set(body) == {"items", "count", "count_is_capped", "has_next"}
    assert body["count"] == 3 and body["count_is_capped"] is False
    assert {a["subject"] for a in rep1_api.get(f"{URL}?customer_id={first.pk}").json()["items"]} == {"拜访", "电话"}
    assert [a["subject"] for a in rep1_api.get(URL + "?kind=call").json()["items"]] == ["电话"]
    assert [a["subject"] for a in rep1_api.get(URL + "?open_commitments=true").json()["items"]] == ["寄样品"]
    page = rep1_api.get(URL + "?limit=2&offset=2").json()
    assert page["count"] == 3 and len(page["items"]) == 1
    assert rep1_api.get(URL + "?kind=party").status_code == 422


def test_create_read_patch_delete(team, customer_of, contact_of, rep1_api):
    customer = customer_of(team.rep1)
    contact = contact_of(customer)
    response = rep1_api.post(
        URL,
        {
            "customer_id": customer.pk,
            "contact_id": contact.pk,
            "kind": "visit",
            "subject": "拜访采购部",
            "content": "谈了新设备",
            "occurred_at": "2026-11-20T10:00:00+08:00",
            "duration_minutes": 60,
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    activity = Activity.objects.get(pk=body["id"])
    assert activity.customer == customer and activity.contact == contact and activity.owner == team.rep1
    assert body["kind"] == "visit" and body["duration_minutes"] == 60
    assert TimelineEntry.objects.filter(customer=customer, kind="visit", summary="拜访采购部").exists()

    assert rep1_api.get(f"{URL}{activity.pk}").json()["subject"] == "拜访采购部"

    response = rep1_api.patch(f"{URL}{activity.pk}", {"subject": "拜访总经理", "version": 1})
    assert response.status_code == 200, response.content
    assert response.json()["version"] == 2
    activity.refresh_from_db()
    assert activity.subject == "拜访总经理" and activity.content == "谈了新设备"
    assert TimelineEntry.objects.filter(customer=customer, kind="visit", summary="拜访总经理").exists()

    assert rep1_api.delete(f"{URL}{activity.pk}").status_code == 204
    activity.refresh_from_db()
    assert activity.deleted_at is not None
    assert rep1_api.get(f"{URL}{activity.pk}").status_code == 404
    assert not TimelineEntry.objects.filter(customer=customer, kind="visit").exists()


def test_create_defaults_to_a_note_now(team, customer_of, rep1_api):
    customer = customer_of(team.rep1)
    response = rep1_api.post(URL, {"customer_id": customer.pk, "subject": "记一笔"})
    assert response.status_code == 201, response.content
    assert response.json()["kind"] == "note"
    assert response.json()["occurred_at"]


def test_commitment_can_be_marked_done(team, customer_of, rep1_api):
    customer = customer_of(team.rep1)
    response = rep1_api.post(
        URL, {"customer_id": customer.pk, "kind": "commitment", "subject": "寄样品", "due_on": "2030-01-01"}
    )
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    response = rep1_api.patch(f"{URL}{pk}", {"is_done": True})
    assert response.status_code == 200, response.content
    assert response.json()["is_done"] is True and response.json()["done_at"]
    assert rep1_api.get(URL + "?open_commitments=true").json()["count"] == 0


def test_only_commitments_can_be_done(team, customer_of, activity_of, rep1_api):
    activity = activity_of(customer_of(team.rep1), kind="visit")
    assert rep1_api.patch(f"{URL}{activity.pk}", {"is_done": True}).status_code == 400
    activity.refresh_from_db()
    assert activity.is_done is False


def test_patch_with_stale_version_is_409(team, customer_of, activity_of, rep1_api):
    activity = activity_of(customer_of(team.rep1), kind="visit")
    assert rep1_api.patch(f"{URL}{activity.pk}", {"content": "一", "version": 1}).status_code == 200
    response = rep1_api.patch(f"{URL}{activity.pk}", {"content": "二", "subject": "改坏了", "version": 1})
    assert response.status_code == 409
    activity.refresh_from_db()
    assert (activity.content, activity.subject, activity.version) == ("一", "拜访采购部", 2)


def test_activities_of_deleted_customers_are_gone(team, customer_of, activity_of, rep1_api):
    customer = customer_of(team.rep1)
    activity = activity_of(customer)
    rep1_api.delete(f"/api/v1/customers/{customer.pk}")
    assert rep1_api.get(f"{URL}{activity.pk}").status_code == 404
    assert rep1_api.get(URL).json()["count"] == 0


def test_marking_done_with_a_stale_version_is_409(team, customer_of, activity_of, rep1_api):
    # Bug: with only is_done (and version) in the body, the version is never compared.
    activity = activity_of(customer_of(team.rep1), kind="commitment", due_on="2030-01-01")
    assert rep1_api.patch(f"{URL}{activity.pk}", {"content": "改期", "version": 1}).status_code == 200
    response = rep1_api.patch(f"{URL}{activity.pk}", {"is_done": True, "version": 1})
    assert response.status_code == 409, response.content
    activity.refresh_from_db()
    assert activity.is_done is False and activity.done_at is None and activity.version == 2


def test_a_refused_patch_changes_nothing(team, customer_of, activity_of, rep1_api):
    # Bug: the field changes are saved before is_done is refused, so a 400 leaves a half-applied PATCH.
    activity = activity_of(customer_of(team.rep1), kind="visit", subject="拜访采购部")
    response = rep1_api.patch(f"{URL}{activity.pk}", {"subject": "拜访总经理", "is_done": True})
    assert response.status_code == 400, response.content
    activity.refresh_from_db()
    assert activity.subject == "拜访采购部" and activity.version == 1
    assert not TimelineEntry.objects.filter(summary="拜访总经理").exists()
