"""Bad input is a 4xx with the standard error body, never a 500 and never a change."""

import pytest

from kehu.activities.models import Activity
from kehu.customers.models import Contact, Customer

CUSTOMERS = "/api/v1/customers/"
CONTACTS = "/api/v1/contacts/"
ACTIVITIES = "/api/v1/activities/"


@pytest.fixture
def raw_post(client, team):
    """Post a raw body (not JSON-encoded by the test client) as rep1; exceptions become responses."""
    from kehu.users.services import api_token_create

    _token, raw = api_token_create(user=team.rep1, name="test")
    client.raise_request_exception = False

    def post(path, body, content_type="application/json", method="post"):
        return getattr(client, method)(
            path, data=body, content_type=content_type, headers={"Authorization": f"Bearer {raw}"}
        )

    return post


def field_locs(response):
    return {tuple(error["loc"][2:]) for error in response.json()["errors"]}


def test_missing_name_is_422_with_field_errors(team, rep1_api):
    response = rep1_api.post(CUSTOMERS, {"tier": "key"})
    assert response.status_code == 422
    body = response.json()
    assert body["detail"]
    assert ("name",) in field_locs(response)
    assert not Customer.objects.exists()


@pytest.mark.parametrize(
    ("language", "message"), [("en", "This field cannot be blank."), ("zh-hans", "此项不能为空。")]
)
def test_a_blank_name_does_not_fit_the_schema(team, rep1_api, language, message):
    """The schema's pattern for a name asks for something besides spaces (ideographic ones too)."""
    rep1_api.headers["Accept-Language"] = language
    response = rep1_api.post(CUSTOMERS, {"name": " \u3000 "})
    assert response.status_code == 422
    assert [(e["loc"][2:], e["msg"]) for e in response.json()["errors"]] == [(["name"], message)]
    assert not Customer.objects.exists()


@pytest.mark.parametrize(
    ("path", "payload", "field"),
    [
        (CUSTOMERS, {"name": "甲公司", "tier": "vip"}, "tier"),
        (CUSTOMERS, {"name": "甲公司", "status": "deleted"}, "status"),
        (CUSTOMERS, {"name": "甲公司", "kind": "robot"}, "kind"),
        (CUSTOMERS, {"name": "甲公司", "industry": "magic"}, "industry"),
        (CUSTOMERS, {"name": "甲公司", "name_x": 1, "latitude": 91, "longitude": 0}, "latitude"),
        (CUSTOMERS, {"name": "甲" * 201}, "name"),
        (CUSTOMERS, {"name": 123}, "name"),
    ],
)
def test_schema_errors_are_422(team, rep1_api, path, payload, field):
    response = rep1_api.post(path, payload)
    assert response.status_code == 422, response.content
    assert (field,) in field_locs(response)
    assert not Customer.objects.exists()


def test_invalid_enum_on_patch_is_422_and_changes_nothing(team, customer_of, rep1_api):
    customer = customer_of(team.rep1)
    response = rep1_api.patch(f"{CUSTOMERS}{customer.pk}", {"tier": "vip", "city": "苏州"})
    assert response.status_code == 422
    customer.refresh_from_db()
    assert (customer.tier, customer.city, customer.version) == ("prospect", "", 1)


def test_invalid_enum_in_a_filter_is_422(team, rep1_api):
    assert rep1_api.get(CUSTOMERS + "?tier=vip").status_code == 422
    assert rep1_api.get(CUSTOMERS + "?status=gone").status_code == 422


@pytest.mark.parametrize("code", ["123", "91320505MA1XYW123X", "91320505MA1XYW123Z", "9132O505MA1XYW123R"])
def test_invalid_credit_code_is_400_with_the_field(team, rep1_api, code):
    response = rep1_api.post(CUSTOMERS, {"name": "甲公司", "credit_code": code})
    assert response.status_code == 400, response.content
    assert response.json()["errors"]["credit_code"]
    assert not Customer.objects.exists()


def test_valid_credit_code_in_lower_case_is_normalised(team, rep1_api):
    response = rep1_api.post(CUSTOMERS, {"name": "甲公司", "credit_code": "91320505ma1xyw123r"})
    assert response.status_code == 201, response.content
    assert response.json()["credit_code"] == "91320505MA1XYW123R"


def test_invalid_email_is_400(team, rep1_api):
    response = rep1_api.post(CUSTOMERS, {"name": "甲公司", "email": "not-an-email"})
    assert response.status_code == 400
    assert "email" in response.json()["errors"]


def test_half_a_coordinate_is_400(team, rep1_api):
    response = rep1_api.post(CUSTOMERS, {"name": "甲公司", "latitude": "31.2"})
    assert response.status_code == 400
    assert "latitude" in response.json()["errors"]


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        (CUSTOMERS, {"name": "甲\x00公司"}),
        (CUSTOMERS, {"name": "甲公司", "notes": "a\x00b"}),
        (CONTACTS, {"customer_id": 1, "name": "张\x00伟"}),
        (ACTIVITIES, {"customer_id": 1, "subject": "拜访\x00"}),
        ("/api/v1/auth/token", {"username": "rep1", "password": "kehu-test-pw\x00"}),
    ],
)
def test_nul_character_is_422(team, rep1_api, path, payload):
    response = rep1_api.post(path, payload)
    assert response.status_code == 422, response.content
    assert not Customer.objects.exists()


def test_nul_character_in_patch_and_query_is_422(team, customer_of, rep1_api):
    customer = customer_of(team.rep1)
    assert rep1_api.patch(f"{CUSTOMERS}{customer.pk}", {"city": "苏\x00州"}).status_code == 422
    assert rep1_api.get(CUSTOMERS + "?q=%00").status_code == 422
    customer.refresh_from_db()
    assert customer.city == ""


@pytest.mark.parametrize("pk", [2**63, 2**63 - 1, 2**64, 2**53 + 1, 10**30, 0, -1])
@pytest.mark.parametrize("base", [CUSTOMERS, CONTACTS, ACTIVITIES])
def test_huge_or_nonpositive_ids_are_422_or_404(team, rep1_api, pk, base):
    for response in (rep1_api.get(f"{base}{pk}"), rep1_api.patch(f"{base}{pk}", {}), rep1_api.delete(f"{base}{pk}")):
        assert response.status_code in (404, 422), response.content


@pytest.mark.parametrize("pk", [2**63, 2**63 - 1, 2**53])
def test_huge_ids_in_bodies_and_filters_are_4xx(team, customer_of, rep1_api, pk):
    customer = customer_of(team.rep1)
    responses = [
        rep1_api.get(f"{CUSTOMERS}?owner={pk}"),
        rep1_api.get(f"{CONTACTS}?customer_id={pk}"),
        rep1_api.get(f"{ACTIVITIES}?customer_id={pk}"),
        rep1_api.post(CUSTOMERS, {"name": "甲公司", "owner_id": pk}),
        rep1_api.post(CONTACTS, {"customer_id": pk, "name": "张伟"}),
        rep1_api.post(ACTIVITIES, {"customer_id": pk, "subject": "拜访"}),
        rep1_api.post(ACTIVITIES, {"customer_id": customer.pk, "contact_id": pk, "subject": "拜访"}),
        rep1_api.patch(f"{CUSTOMERS}{customer.pk}", {"owner_id": pk}),
        rep1_api.patch(f"{CUSTOMERS}{customer.pk}", {"city": "苏州", "version": pk}),
    ]
    for response in responses:
        assert response.status_code < 500
    assert [r.status_code for r in responses[:3]] in ([200, 200, 200], [422, 422, 422])
    assert all(400 <= r.status_code < 500 for r in responses[3:]), [r.status_code for r in responses]
    customer.refresh_from_db()
    assert customer.owner == team.rep1 and customer.city == ""


def test_non_numeric_ids_are_422_or_404(team, rep1_api):
    for path in [f"{CUSTOMERS}abc", f"{CUSTOMERS}1.5", f"{CONTACTS}%20", f"{ACTIVITIES}1e3"]:
        assert rep1_api.get(path).status_code in (404, 422), path


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("{not json", "application/json"),
        ("", "application/json"),
        ("name=甲公司", "application/x-www-form-urlencoded"),
        ("name=甲公司", "text/plain"),
        ('{"name": "甲公司"', "application/json"),
        ("\xff\xfe", "application/json"),
        ("[1, 2, 3]", "application/json"),
        ("null", "application/json"),
    ],
)
def test_non_json_bodies_are_4xx(team, raw_post, body, content_type):
    for path in [CUSTOMERS, CONTACTS, ACTIVITIES, "/api/v1/auth/token"]:
        response = raw_post(path, body, content_type)
        assert 400 <= response.status_code < 500, (path, response.status_code, response.content)
    assert not Customer.objects.exists()


def test_non_json_patch_is_4xx(team, customer_of, raw_post):
    customer = customer_of(team.rep1)
    response = raw_post(f"{CUSTOMERS}{customer.pk}", "{oops", method="patch")
    assert 400 <= response.status_code < 500
    customer.refresh_from_db()
    assert customer.version == 1


def test_commitment_without_due_date_is_400(team, customer_of, rep1_api):
    customer = customer_of(team.rep1)
    response = rep1_api.post(ACTIVITIES, {"customer_id": customer.pk, "kind": "commitment", "subject": "寄样品"})
    assert response.status_code == 400
    assert response.json()["errors"]["due_on"]
    assert not Activity.objects.exists()


def test_turning_an_activity_into_a_commitment_needs_a_due_date(team, customer_of, activity_of, rep1_api):
    activity = activity_of(customer_of(team.rep1), kind="visit")
    response = rep1_api.patch(f"{ACTIVITIES}{activity.pk}", {"kind": "commitment"})
    assert response.status_code == 400
    assert "due_on" in response.json()["errors"]
    activity.refresh_from_db()
    assert activity.kind == "visit" and activity.version == 1


def test_clearing_the_due_date_of_a_commitment_is_400(team, customer_of, activity_of, rep1_api):
    activity = activity_of(customer_of(team.rep1), kind="commitment", due_on="2030-01-01")
    assert rep1_api.patch(f"{ACTIVITIES}{activity.pk}", {"due_on": None}).status_code == 400
    activity.refresh_from_db()
    assert str(activity.due_on) == "2030-01-01"


def test_contact_of_another_customer_on_an_activity_is_refused(team, customer_of, contact_of, rep1_api):
    mine = customer_of(team.rep1, name="甲公司")
    other = customer_of(team.rep1, name="乙公司")
    stranger = contact_of(other, name="王芳")
    response = rep1_api.post(ACTIVITIES, {"customer_id": mine.pk, "contact_id": stranger.pk, "subject": "拜访"})
    assert response.status_code in (400, 404)
    assert not Activity.objects.exists()


def test_contact_of_another_customer_on_an_activity_patch_is_refused(
    team, customer_of, contact_of, activity_of, rep1_api
):
    mine = customer_of(team.rep1, name="甲公司")
    stranger = contact_of(customer_of(team.rep1, name="乙公司"), name="王芳")
    activity = activity_of(mine)
    response = rep1_api.patch(f"{ACTIVITIES}{activity.pk}", {"contact_id": stranger.pk})
    assert response.status_code in (400, 404)
    activity.refresh_from_db()
    assert activity.contact is None and activity.version == 1


def test_contact_of_a_customer_out_of_scope_is_404(team, customer_of, contact_of, rep1_api):
    mine = customer_of(team.rep1, name="甲公司")
    hidden = contact_of(customer_of(team.rep3, name="广州公司"), name="陈静")
    response = rep1_api.post(ACTIVITIES, {"customer_id": mine.pk, "contact_id": hidden.pk, "subject": "拜访"})
    assert response.status_code == 404
    assert not Activity.objects.exists()


def test_duration_longer_than_a_day_is_422(team, customer_of, rep1_api):
    customer = customer_of(team.rep1)
    response = rep1_api.post(ACTIVITIES, {"customer_id": customer.pk, "subject": "会", "duration_minutes": 1441})
    assert response.status_code == 422
    response = rep1_api.post(ACTIVITIES, {"customer_id": customer.pk, "subject": "会", "duration_minutes": -1})
    assert response.status_code == 422


@pytest.mark.parametrize(
    "occurred_at",
    ["0001-01-01T00:00:00+14:00", "0001-01-01T00:00:00", "9999-12-31T23:59:59-14:00", "0001-01-01T07:59:59+08:00"],
)
def test_activity_dates_at_the_edge_of_the_calendar_are_4xx(team, customer_of, activity_of, raw_post, occurred_at):
    # Bug: these pass the schema, then overflow when converted to UTC for the database (500).
    customer = customer_of(team.rep1)
    response = raw_post(ACTIVITIES, f'{{"customer_id": {customer.pk}, "subject": "x", "occurred_at": "{occurred_at}"}}')
    assert 400 <= response.status_code < 500, response.status_code
    activity = activity_of(customer)
    response = raw_post(f"{ACTIVITIES}{activity.pk}", f'{{"occurred_at": "{occurred_at}"}}', method="patch")
    assert 400 <= response.status_code < 500, response.status_code


def test_contact_with_an_unknown_gender_is_422(team, customer_of, rep1_api):
    customer = customer_of(team.rep1)
    assert rep1_api.post(CONTACTS, {"customer_id": customer.pk, "name": "张伟", "gender": "x"}).status_code == 422
    assert not Contact.objects.exists()


def test_readonly_fields_are_ignored(team, customer_of, rep1_api):
    customer = customer_of(team.rep1)
    response = rep1_api.patch(
        f"{CUSTOMERS}{customer.pk}",
        {
            "city": "苏州",
            "id": 999,
            "deleted_at": "2020-01-01T00:00:00Z",
            "search_text": "x",
            "created_by_id": team.rep3.pk,
        },
    )
    assert response.status_code in (200, 422)
    customer.refresh_from_db()
    assert customer.pk and customer.deleted_at is None and customer.created_by == team.rep1


@pytest.mark.parametrize("body", ["5", '"text"', "true", "1.5"])
@pytest.mark.parametrize(
    "method,path",
    [("post", "/api/v1/notifications/read-all"), ("patch", CUSTOMERS + "{id}"), ("post", CUSTOMERS)],
)
def test_a_body_that_is_no_json_object_is_400_and_changes_nothing(team, customer_of, raw_post, body, method, path):
    """A bare value is no body: before, a schema whose fields all have defaults read it as an empty
    one (read-all marked everything read)."""
    customer = customer_of(team.rep1, name="原名")
    response = raw_post(path.format(id=customer.pk), body, method=method)
    assert response.status_code == 400, response.content
    assert response.json()["detail"] == "Send the body as a JSON object."
    customer.refresh_from_db()
    assert (customer.version, Customer.objects.count()) == (1, 1)


def test_an_unreadable_body_is_explained_in_the_callers_language(team, raw_post, client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    response = raw_post(CUSTOMERS, "{not json")
    assert (response.status_code, response.json()["detail"]) == (400, "请以 JSON 对象发送请求体。")
