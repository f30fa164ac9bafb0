"""What each role of the README's demo-logins table may and may not do, tried on the pages and the API.

The table and the user guides say: the administrator, the general manager and a sales manager work on
customers (a manager within the department), a rep on their own; the customer service manager
(客户服务部经理) and marketing (市场营销部) see every customer, masked, and change none — service logs
service calls on any customer's timeline, marketing files information forms and adds and imports
leads. Each row below is one thing a person tries on a customer of rep1.
"""

import pytest

from kehu.customers.tests.permissions import OWNER_PHONE, build_world

ROLES = ["admin", "gm", "manager1", "rep1", "service1", "marketing1"]
WORKERS = {"admin", "gm", "manager1", "rep1"}
# action → the roles that may do it (everyone else is refused with 403).
MAY = {
    "see the customer": set(ROLES),
    "see the phone in clear": WORKERS,
    "create a customer": WORKERS,
    "edit the customer": WORKERS,
    "delete the customer": WORKERS,
    "add a contact": WORKERS,
    "log a service call": WORKERS | {"service1"},
    "file an information form": WORKERS | {"marketing1"},
    "see the leads": WORKERS | {"marketing1"},
    "add a lead": WORKERS | {"marketing1"},
    "import leads": {"admin", "gm", "manager1", "marketing1"},
    "claim from the public pool": WORKERS,
    "export customers": {"admin", "gm", "manager1"},
}
API_MAY = {
    "create a customer": WORKERS,
    "edit the customer": WORKERS,
    "log a service call": WORKERS | {"service1"},
    "add a lead": WORKERS | {"marketing1"},
    "export customers": {"admin", "gm", "manager1"},
}


def _try_on_page(client, world, action: str):
    pk = world.customer.pk
    new_customer = {"name": "杭州新客户有限公司", "kind": "company", "segment": "industrial", "status": "active"}
    call = {
        "see the customer": lambda: client.get(f"/customers/{pk}/"),
        "see the phone in clear": lambda: client.get(f"/customers/{pk}/"),
        "create a customer": lambda: client.post("/customers/new/", {**new_customer, "owner": world.team.rep1.pk}),
        "edit the customer": lambda: client.get(f"/customers/{pk}/edit/"),
        "delete the customer": lambda: client.post(f"/customers/{pk}/delete/"),
        "add a contact": lambda: client.get(f"/customers/{pk}/contacts/new/"),
        "log a service call": lambda: client.post(f"/customers/{pk}/log/", {"kind": "call", "subject": "报修回访"}),
        "file an information form": lambda: client.get("/collection/new/"),
        "see the leads": lambda: client.get("/leads/"),
        "add a lead": lambda: client.get("/leads/new/"),
        "import leads": lambda: client.get("/transfer/?target=leads"),
        "claim from the public pool": lambda: client.get("/pool/"),
        "export customers": lambda: client.get("/transfer/export/customers/"),
    }[action]
    return call()


@pytest.mark.django_db
@pytest.mark.parametrize("username", ROLES)
@pytest.mark.parametrize("action", list(MAY))
def test_what_a_role_may_do_on_the_pages(client, team, action, username):
    world = build_world(team)
    client.force_login(getattr(team, username))
    response = _try_on_page(client, world, action)
    allowed = username in MAY[action]
    if action == "see the phone in clear":
        assert response.status_code == 200
        assert (OWNER_PHONE in response.content.decode()) is allowed
    elif action == "import leads":
        # Everyone who imports anything has the page; leads are one of its choices or not.
        choices = (
            [v for v, _l in response.context["form"].fields["target"].choices] if response.status_code == 200 else []
        )
        assert ("leads" in choices) is allowed, (response.status_code, choices)
    elif allowed:
        assert response.status_code in (200, 302), response.status_code
        if response.status_code == 302:
            assert not response.url.startswith("/accounts/login/")
    else:
        assert response.status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("username", ROLES)
@pytest.mark.parametrize("action", list(API_MAY))
def test_what_a_role_may_do_in_the_api(api_client, team, action, username):
    world = build_world(team)
    api = api_client(getattr(team, username))
    pk = world.customer.pk
    response = {
        "create a customer": lambda: api.post("/api/v1/customers/", {"name": "杭州新客户有限公司"}),
        "edit the customer": lambda: api.patch(f"/api/v1/customers/{pk}", {"notes": "改"}),
        "log a service call": lambda: api.post(
            "/api/v1/activities/", {"customer_id": pk, "kind": "call", "subject": "报修回访"}
        ),
        "add a lead": lambda: api.post("/api/v1/leads", {"company_name": "宁波恒达机电", "phone": "057488881234"}),
        "export customers": lambda: api.get("/api/v1/transfer/exports/customers?format=csv"),
    }[action]()
    if username in API_MAY[action]:
        assert response.status_code in (200, 201, 202), (response.status_code, response.content[:300])
    else:
        assert response.status_code == 403, (response.status_code, response.content[:300])
        assert response.json() == {"detail": "You may not do this."}


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["service1", "marketing1"])
def test_service_and_marketing_get_no_buttons_that_change_a_customer(client, team, username):
    world = build_world(team)
    client.force_login(getattr(team, username))
    page = client.get(f"/customers/{world.customer.pk}/").content.decode()
    for path in ("/edit/", "/delete/", "/contacts/new/", "/facts/new/", "/merge/"):
        assert f"/customers/{world.customer.pk}{path}" not in page, path
    # rep1's activities: neither their edit page nor "mark kept" (both answer 403 to this role).
    assert f"/activities/{world.visit.pk}/edit/" not in page
    assert f"/activities/{world.commitment.pk}/done/" not in page and world.commitment.subject in page
    assert (f'action="/customers/{world.customer.pk}/log/"' in page) is (username == "service1")
    listing = client.get("/customers/").content.decode()
    assert 'href="/customers/new/"' not in listing
