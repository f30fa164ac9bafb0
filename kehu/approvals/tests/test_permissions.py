"""Who may open and use each page and endpoint of approvals; a denied write changes nothing."""

from datetime import date

import pytest

from kehu.approvals import services
from kehu.approvals.models import (
    ApprovalAction,
    ApprovalCopy,
    ApprovalFlow,
    ApprovalRequest,
    ApproverTask,
    Delegation,
    FlowVersion,
)
from kehu.approvals.tests.conftest import step
from kehu.customers.tests.permissions import LOGIN, assert_status, matrix


@pytest.fixture
def world(org, customer, ask):
    """am1 asked for a credit limit; manager1 approves (manager2 is unrelated); rep1 is unrelated
    too; manager1 has a delegation."""
    services.flow_save(document_type="customer.credit", steps=[step()], actor=org.admin)
    org.request = ask("80000")
    org.delegation = services.delegation_create(
        user=org.manager1,
        delegate=org.manager2,
        starts_on=date(2031, 1, 1),
        ends_on=date(2031, 1, 2),
        actor=org.manager1,
    )
    return org


def state():
    def rows(model):
        return list(model.objects.order_by("pk").values())

    return [
        rows(m)
        for m in (ApprovalRequest, ApproverTask, ApprovalAction, ApprovalCopy, Delegation, ApprovalFlow, FlowVersion)
    ]


def login(client, world, actor):
    if actor != "anonymous":
        client.force_login(getattr(world, actor))


VIEWS = {
    "inbox": ("get", lambda w: "/approvals/", None),
    "inbox-mine": ("get", lambda w: "/approvals/?tab=mine", None),
    "count": ("get", lambda w: "/approvals/count/", None),
    "detail": ("get", lambda w: f"/approvals/{w.request.pk}/", None),
    "approve": ("post", lambda w: f"/approvals/{w.request.pk}/act/", {"action": "approve"}),
    "revoke": ("post", lambda w: f"/approvals/{w.request.pk}/act/", {"action": "revoke"}),
    "flows": ("get", lambda w: "/approvals/flows/", None),
    "flow-edit-get": ("get", lambda w: "/approvals/flows/customer.credit/", None),
    "flow-active": ("post", lambda w: "/approvals/flows/customer.new/active/", {"is_active": "on"}),
    "delegations": ("get", lambda w: "/approvals/delegations/", None),
    "delegation-delete": ("post", lambda w: f"/approvals/delegations/{w.delegation.pk}/delete/", {}),
}
PEOPLE = ("anonymous", "rep1", "manager2", "am1", "manager1", "admin")
ALL_OPEN = {"anonymous": LOGIN, **{p: 200 for p in PEOPLE[1:]}}
ADMIN_ONLY = {"anonymous": LOGIN, **{p: 403 for p in PEOPLE[1:-1]}}
EXPECTED = {
    "inbox": ALL_OPEN,
    "inbox-mine": ALL_OPEN,
    "count": ALL_OPEN,
    # the requester, the approver and administrators see the request; others do not learn it exists
    "detail": {"anonymous": LOGIN, "rep1": 404, "manager2": 404, "am1": 200, "manager1": 200, "admin": 200},
    "approve": {"anonymous": LOGIN, "rep1": 404, "manager2": 404, "am1": 403, "manager1": 302, "admin": 403},
    "revoke": {"anonymous": LOGIN, "rep1": 404, "manager2": 404, "am1": 302, "manager1": 403, "admin": 403},
    "flows": {**ADMIN_ONLY, "admin": 200},
    "flow-edit-get": {**ADMIN_ONLY, "admin": 200},
    "flow-active": {**ADMIN_ONLY, "admin": 302},
    "delegations": ALL_OPEN,
    # one's own delegation, or an administrator; others get 404
    "delegation-delete": {"anonymous": LOGIN, "rep1": 404, "manager2": 404, "am1": 404, "manager1": 302, "admin": 302},
}


@pytest.mark.parametrize(("view", "actor", "expected"), matrix(EXPECTED))
def test_pages(client, world, view, actor, expected):
    method, url, data = VIEWS[view]
    login(client, world, actor)
    before = state()
    response = getattr(client, method)(url(world), data) if data is not None else client.get(url(world))
    assert_status(response, expected)
    if method == "post":
        assert (state() != before) == (expected == 302)


API = {
    "inbox": ("get", lambda w: "/api/v1/approvals/inbox", None),
    "read": ("get", lambda w: f"/api/v1/approvals/requests/{w.request.pk}", None),
    "approve": ("post", lambda w: f"/api/v1/approvals/requests/{w.request.pk}/act", {"action": "approve"}),
    "revoke": ("post", lambda w: f"/api/v1/approvals/requests/{w.request.pk}/act", {"action": "revoke"}),
    "record": ("get", lambda w: f"/api/v1/approvals/records/customer.credit/{w.request.object_id}", None),
    "delegations": ("get", lambda w: "/api/v1/approvals/delegations", None),
    "delegation-add": (
        "post",
        lambda w: "/api/v1/approvals/delegations",
        {"delegate_id": None, "starts_on": "2032-01-01", "ends_on": "2032-01-03"},
    ),
    "flows": ("get", lambda w: "/api/v1/approvals/flows", None),
    "flow-read": ("get", lambda w: "/api/v1/approvals/flows/customer.credit", None),
    "flow-update": ("put", lambda w: "/api/v1/approvals/flows/customer.credit", {"steps": [step()]}),
}
API_OPEN = {"anonymous": 401, **{p: 200 for p in PEOPLE[1:]}}
API_ADMIN = {"anonymous": 401, **{p: 403 for p in PEOPLE[1:-1]}, "admin": 200}
API_EXPECTED = {
    "inbox": API_OPEN,
    "read": {"anonymous": 401, "rep1": 404, "manager2": 404, "am1": 200, "manager1": 200, "admin": 200},
    "approve": {"anonymous": 401, "rep1": 404, "manager2": 404, "am1": 403, "manager1": 200, "admin": 403},
    "revoke": {"anonymous": 401, "rep1": 404, "manager2": 404, "am1": 200, "manager1": 403, "admin": 403},
    "record": {"anonymous": 401, "rep1": 200, "manager2": 200, "am1": 200, "manager1": 200, "admin": 200},
    "delegations": API_OPEN,
    "delegation-add": {"anonymous": 401, **{p: 201 for p in PEOPLE[1:]}},
    "flows": API_ADMIN,
    "flow-read": API_ADMIN,
    "flow-update": API_ADMIN,
}


@pytest.mark.parametrize(("endpoint", "actor", "expected"), matrix(API_EXPECTED))
def test_api(api_client, world, endpoint, actor, expected):
    method, url, data = API[endpoint]
    if endpoint == "delegation-add":
        data = {**data, "delegate_id": world.gm.pk}
    client = api_client(None if actor == "anonymous" else getattr(world, actor))
    before = state()
    response = getattr(client, method)(url(world), data) if data is not None else getattr(client, method)(url(world))
    assert response.status_code == expected, response.content
    assert (state() != before) == (method != "get" and expected < 300)


def test_the_record_history_lists_only_what_the_reader_may_see(api_client, world):
    assert (
        api_client(world.rep1).get(f"/api/v1/approvals/records/customer.credit/{world.request.object_id}").json() == []
    )
    body = api_client(world.am1).get(f"/api/v1/approvals/records/customer.credit/{world.request.object_id}").json()
    assert [r["id"] for r in body] == [world.request.pk]
