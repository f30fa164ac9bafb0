"""The workflow in the REST API: same permissions as the pages, 404 outside scope, 403, 400/422
with useful bodies, never a 500; a denied write changes nothing."""

import pytest

from kehu.collection.models import InfoFormStatus
from kehu.collection.services import infoform_transition, region_route_set

from .test_permissions import state

pytestmark = pytest.mark.django_db
S = InfoFormStatus
ACTORS = ["anonymous", "rep2", "rep1", "manager1", "marketing1"]
BASE = "/api/v1/collection"


@pytest.fixture
def world(team, info_of):
    return {
        "draft": info_of(team.rep1, name="草稿公司", draft=True).pk,
        "filed": info_of(team.rep1, name="待审公司").pk,
        "approved": infoform_transition(
            form=info_of(team.rep1, name="待归档公司"), actor=team.manager1, to=S.APPROVED
        ).pk,
        "route": region_route_set(actor=team.admin, region="江苏", rep=team.rep2).pk,
        "rep2": team.rep2.pk,
    }


def _client(api_client, team, actor):
    return api_client(None if actor == "anonymous" else getattr(team, actor))


CALLS = [
    ("get", "/", None, [401, 200, 200, 200, 200]),
    ("get", "/{filed}", None, [401, 404, 200, 200, 404]),
    ("get", "/{approved}", None, [401, 404, 200, 200, 200]),
    ("get", "/routes", None, [401, 200, 200, 200, 200]),
    ("post", "/{draft}/file", {}, [401, 404, 200, 403, 404]),
    ("post", "/{filed}/approve", {}, [401, 404, 403, 200, 404]),
    ("post", "/{filed}/return", {"reason": "缺电话"}, [401, 404, 403, 200, 404]),
    ("post", "/{approved}/archive", {}, [401, 404, 403, 403, 200]),
    (
        "post",
        "/",
        {"name": "新公司", "region": "江苏", "source": "internet", "collected_on": "2026-01-05"},
        [401, 201, 201, 201, 201],
    ),
    ("put", "/routes", {"region": "浙江", "rep_id": "{rep2}"}, [401, 403, 403, 200, 403]),
    ("delete", "/routes/{route}", None, [401, 403, 403, 204, 403]),
]


def _fill(value, world):
    if isinstance(value, dict):
        return {k: _fill(v, world) for k, v in value.items()}
    if isinstance(value, str) and value.startswith("{") and value.endswith("}") and value[1:-1] in world:
        return world[value[1:-1]]
    return value.format(**world) if isinstance(value, str) else value


@pytest.mark.parametrize("i", range(len(ACTORS)), ids=ACTORS)
@pytest.mark.parametrize(("method", "path", "data", "expected"), CALLS, ids=[f"{c[0]} {c[1]}" for c in CALLS])
def test_matrix(api_client, client, team, world, i, method, path, data, expected):
    api = _client(api_client, team, ACTORS[i])
    before = state()
    url = BASE + _fill(path, world)
    if method == "put":
        response = client.put(url, _fill(data, world), content_type="application/json", headers=api.headers)
    elif data is None:
        response = getattr(api, method)(url)
    else:
        response = getattr(api, method)(url, _fill(data, world))
    assert response.status_code == expected[i], response.content
    if method != "get" and response.status_code >= 400:
        assert state() == before
        assert "detail" in response.json()


def test_list_filters_and_pages(api_client, team, world):
    api = api_client(team.manager1)
    body = api.get(f"{BASE}/?status=filed").json()
    assert [f["name"] for f in body["items"]] == ["待审公司"]
    body = api.get(f"{BASE}/?waiting=true").json()
    assert {f["name"] for f in body["items"]} == {"待审公司"}
    body = api.get(f"{BASE}/?limit=1").json()
    assert len(body["items"]) == 1 and body["has_next"] is True


@pytest.mark.parametrize(
    ("payload", "status", "field"),
    [
        ({"name": "x", "region": "江苏", "source": "nope", "collected_on": "2026-01-05"}, 422, None),
        ({"name": "x", "region": "江苏", "source": "internet", "collected_on": "3026-01-05"}, 422, None),
        ({"name": "x", "region": "江苏", "source": "internet", "collected_on": "2999-01-05"}, 400, "collected_on"),
        ({"name": "", "region": "江苏", "source": "internet", "collected_on": "2026-01-05"}, 400, "name"),
        (
            {"name": "x", "region": "江苏", "source": "internet", "collected_on": "2026-01-05", "email": "no"},
            400,
            "email",
        ),
        ({"name": "x\x00", "region": "江苏", "source": "internet", "collected_on": "2026-01-05"}, 422, None),
        (
            {"name": "x", "region": "江苏", "source": "internet", "collected_on": "2026-01-05", "customer_id": 999999},
            404,
            None,
        ),
    ],
)
def test_bad_input_gets_a_useful_answer(api_client, team, payload, status, field):
    response = api_client(team.rep1).post(f"{BASE}/", payload)
    assert response.status_code == status, response.content
    body = response.json()
    assert body["detail"]
    if field:
        assert field in body["errors"]


def test_wrong_status_is_409_with_the_reason(api_client, team, world):
    response = api_client(team.marketing1).post(f"{BASE}/{world['approved']}/archive")
    assert response.status_code == 200
    again = api_client(team.marketing1).post(f"{BASE}/{world['approved']}/archive")
    assert again.status_code == 409
    assert again.json() == {"detail": "A form that is “Archived” cannot be moved to “Archived”.", "errors": {}}


def test_return_without_reason_is_refused(api_client, team, world):
    assert api_client(team.manager1).post(f"{BASE}/{world['filed']}/return", {"reason": ""}).status_code == 400
    assert api_client(team.manager1).post(f"{BASE}/{world['filed']}/return", {}).status_code == 422


def test_approve_with_duplicates_answers_400_then_links(api_client, team, world, customer_of):
    existing = customer_of(team.rep1, name="待审公司")
    api = api_client(team.manager1)
    refused = api.post(f"{BASE}/{world['filed']}/approve")
    assert refused.status_code == 400 and "customer" in refused.json()["errors"]
    done = api.post(f"{BASE}/{world['filed']}/approve", {"customer_id": existing.pk})
    assert done.status_code == 200 and done.json()["customer_id"] == existing.pk


def test_huge_ids_are_refused_not_crashed(api_client, team):
    api = api_client(team.rep1)
    assert api.get(f"{BASE}/{2**63}").status_code == 422
    assert api.post(f"{BASE}/{2**53}/file").status_code == 404
