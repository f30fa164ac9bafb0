"""Duplicates and merge in the API (CUS-5): 409 with the matches, POST /customers/{id}/merge."""

import pytest

from kehu.customers.models import Customer, CustomerMerge
from kehu.customers.tests.permissions import db_state

URL = "/api/v1/customers/"


def test_create_answers_409_with_the_duplicates_then_201_when_allowed(team, customer_of, api_client):
    theirs = customer_of(team.rep3, "苏州华星精密机械股份有限公司")
    mine = customer_of(team.rep1, "苏州华星精密机械集团", phone="13812345678")
    api = api_client(team.rep1)
    body = {"name": "苏州华星精密机械有限公司", "phone": "+86 138 1234 5678"}
    response = api.post(URL, body)
    assert response.status_code == 409
    found = {d["name"]: d for d in response.json()["duplicates"]}
    assert found[mine.name] == {"id": mine.pk, "name": mine.name, "owner": "rep1", "reasons": ["name", "phone"]}
    assert found[theirs.name] == {"id": None, "name": theirs.name, "owner": "rep3", "reasons": ["name"]}
    assert Customer.objects.count() == 2
    response = api.post(URL, {**body, "allow_duplicate": True})
    assert response.status_code == 201
    assert Customer.objects.count() == 3


def test_patch_asks_only_when_an_identifying_field_changes(team, customer_of, api_client):
    customer_of(team.rep1, "苏州华星精密机械股份有限公司")
    customer = customer_of(team.rep1, "别的公司")
    api = api_client(team.rep1)
    assert api.patch(f"{URL}{customer.pk}", {"notes": "x"}).status_code == 200
    assert api.patch(f"{URL}{customer.pk}", {"name": "苏州华星精密机械有限公司"}).status_code == 409
    response = api.patch(f"{URL}{customer.pk}", {"name": "苏州华星精密机械有限公司", "allow_duplicate": True})
    assert response.status_code == 200 and response.json()["name"] == "苏州华星精密机械有限公司"


@pytest.fixture
def pair(team, customer_of, contact_of, activity_of):
    target = customer_of(team.rep1, "苏州华星精密机械有限公司")
    source = customer_of(team.rep1, "苏州华星精密机械股份有限公司", city="无锡", email="a@hx.cn")
    contact_of(source)
    activity_of(source)
    return target, source


def test_merge_answers_the_target(team, pair, api_client):
    target, source = pair
    response = api_client(team.rep1).post(
        f"{URL}{target.pk}/merge", {"source_ids": [source.pk], "fields": {"name": source.pk}}
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["name"], body["city"], body["email"]) == (target.pk, source.name, "无锡", "a@hx.cn")
    assert target.contacts.count() == 1 and target.activities.count() == 1
    assert Customer.objects.get(pk=source.pk).merged_into_id == target.pk


@pytest.mark.parametrize(("actor", "status"), [("rep2", 404), ("manager2", 404), ("marketing1", 403)])
def test_merge_refused_changes_nothing(team, pair, api_client, actor, status):
    target, source = pair
    api = api_client(getattr(team, actor))
    state = db_state()
    response = api.post(f"{URL}{target.pk}/merge", {"source_ids": [source.pk]})
    assert response.status_code == status
    state_after = db_state()
    state_after["tokens"] = state["tokens"]  # the token's last use is recorded
    assert state_after == state


def test_a_source_outside_the_scope_is_not_found(team, pair, customer_of, api_client):
    target, _source = pair
    theirs = customer_of(team.rep3, "苏州华星精密机械集团")
    response = api_client(team.rep1).post(f"{URL}{target.pk}/merge", {"source_ids": [theirs.pk]})
    assert response.status_code == 404
    assert CustomerMerge.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"source_ids": "self"}, 400, "source_ids"),
        ({"source_ids": "twice"}, 400, "source_ids"),
        ({"source_ids": "one", "fields": {"search_text": 1}}, 422, None),  # the schema names the fields
        ({"source_ids": "one", "fields": {"city": 99999}}, 400, "city"),
        ({"source_ids": []}, 422, None),
    ],
)
def test_bad_merge_requests(team, pair, api_client, body, status, field):
    target, source = pair
    ids = {"self": [target.pk], "twice": [source.pk, source.pk], "one": [source.pk]}
    if isinstance(body["source_ids"], str):
        body = {**body, "source_ids": ids[body["source_ids"]]}
    response = api_client(team.rep1).post(f"{URL}{target.pk}/merge", body)
    assert response.status_code == status
    if field:
        assert list(response.json()["errors"]) == [field]
    assert CustomerMerge.objects.count() == 0


def test_the_schema_documents_merge_and_409(client):
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/customers/{customer_id}/merge" in schema["paths"]
    assert "409" in schema["paths"]["/api/v1/customers/"]["post"]["responses"]
