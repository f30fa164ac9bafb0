"""Who may use which customer page (ACC-3): a permission matrix over the customer HTML views.

rep1 owns the customer; manager1 leads rep1's department; rep3 and manager2 are in another team;
gm sees everything; marketing1 sees everything but may not change customers.
"""

import pytest

from kehu.customers.models import Customer
from kehu.customers.services import customer_delete
from kehu.customers.tests.permissions import (
    LOGIN,
    OWNER_PHONE,
    act_as,
    assert_status,
    build_world,
    db_state,
    matrix,
)


@pytest.fixture
def world(team):
    return build_world(team)


def _edit_data(w):
    return {
        "name": "苏州华星精密机械股份有限公司",
        "kind": "company",
        "segment": "industrial",
        "tier": "prospect",
        "status": "potential",
        "owner": w.team.rep1.pk,
        "phone": OWNER_PHONE,
        "version": w.customer.version,
    }


def _contact_data(w):
    return {"name": "张伟（采购总监）", "mobile": "13900001111", "hobbies": "钓鱼和围棋", "version": w.contact.version}


# name: (method, url, data, effect-after-success)
VIEWS = {
    "customer-detail": ("get", lambda w: f"/customers/{w.customer.pk}/", None, None),
    "customer-edit-get": ("get", lambda w: f"/customers/{w.customer.pk}/edit/", None, None),
    "contact-create-get": ("get", lambda w: f"/customers/{w.customer.pk}/contacts/new/", None, None),
    "contact-edit-get": ("get", lambda w: f"/customers/contacts/{w.contact.pk}/edit/", None, None),
    "fact-create-get": ("get", lambda w: f"/customers/{w.customer.pk}/facts/new/", None, None),
    "customer-edit-post": (
        "post",
        lambda w: f"/customers/{w.customer.pk}/edit/",
        _edit_data,
        lambda w: Customer.objects.get(pk=w.customer.pk).name == "苏州华星精密机械股份有限公司",
    ),
    "customer-delete": (
        "post",
        lambda w: f"/customers/{w.customer.pk}/delete/",
        lambda w: {},
        lambda w: Customer.objects.get(pk=w.customer.pk).deleted_at is not None,
    ),
    "contact-create": (
        "post",
        lambda w: f"/customers/{w.customer.pk}/contacts/new/",
        lambda w: {"name": "李娜", "position": "厂长"},
        lambda w: w.customer.contacts.filter(name="李娜").exists(),
    ),
    "contact-edit": (
        "post",
        lambda w: f"/customers/contacts/{w.contact.pk}/edit/",
        _contact_data,
        lambda w: w.customer.contacts.get(pk=w.contact.pk).name == "张伟（采购总监）",
    ),
    "contact-delete": (
        "post",
        lambda w: f"/customers/contacts/{w.contact.pk}/delete/",
        lambda w: {},
        lambda w: w.customer.contacts.get(pk=w.contact.pk).deleted_at is not None,
    ),
    "fact-create": (
        "post",
        lambda w: f"/customers/{w.customer.pk}/facts/new/",
        lambda w: {"level": 1, "title": "年报：营收增长", "cost": "0", "obtained_on": "2026-03-01"},
        lambda w: w.customer.facts.filter(title="年报：营收增长").exists(),
    ),
}

# Who gets what on a customer of rep1 (GET pages answer 200, writes redirect with 302).
OWNED = {"anonymous": LOGIN, "rep3": 404, "manager2": 404}
EXPECTED = {
    "customer-detail": {**OWNED, "rep1": 200, "manager1": 200, "gm": 200, "marketing1": 200},
    "customer-edit-get": {**OWNED, "rep1": 200, "manager1": 200, "gm": 200, "marketing1": 403},
    "contact-create-get": {**OWNED, "rep1": 200, "manager1": 200, "gm": 200, "marketing1": 403},
    "contact-edit-get": {**OWNED, "rep1": 200, "manager1": 200, "gm": 200, "marketing1": 403},
    "fact-create-get": {**OWNED, "rep1": 200, "manager1": 200, "gm": 200, "marketing1": 403},
    "customer-edit-post": {**OWNED, "rep1": 302, "manager1": 302, "gm": 302, "marketing1": 403},
    "customer-delete": {**OWNED, "rep1": 302, "manager1": 302, "gm": 302, "marketing1": 403},
    "contact-create": {**OWNED, "rep1": 302, "manager1": 302, "gm": 302, "marketing1": 403},
    "contact-edit": {**OWNED, "rep1": 302, "manager1": 302, "gm": 302, "marketing1": 403},
    "contact-delete": {**OWNED, "rep1": 302, "manager1": 302, "gm": 302, "marketing1": 403},
    "fact-create": {**OWNED, "rep1": 302, "manager1": 302, "gm": 302, "marketing1": 403},
}
ALLOWED = (200, 302)


@pytest.mark.parametrize(("view", "actor", "expected"), matrix(EXPECTED))
def test_customer_view_answers_by_role(client, world, view, actor, expected):
    method, url, data, _effect = VIEWS[view]
    act_as(client, world.team, actor)
    response = getattr(client, method)(url(world), data(world) if data else None)
    assert_status(response, expected)


DENIED_WRITES = [
    (view, actor, exp)
    for view, table in EXPECTED.items()
    if VIEWS[view][0] == "post"
    for actor, exp in table.items()
    if exp not in ALLOWED
]
ALLOWED_WRITES = [
    (view, actor)
    for view, table in EXPECTED.items()
    if VIEWS[view][0] == "post"
    for actor, exp in table.items()
    if exp in ALLOWED
]


@pytest.mark.parametrize(("view", "actor", "expected"), DENIED_WRITES, ids=[f"{v}-{a}" for v, a, _ in DENIED_WRITES])
def test_denied_customer_write_changes_nothing(client, world, view, actor, expected):
    method, url, data, _effect = VIEWS[view]
    act_as(client, world.team, actor)
    before = db_state()
    response = client.post(url(world), data(world))
    assert_status(response, expected)
    assert db_state() == before


@pytest.mark.parametrize(("view", "actor"), ALLOWED_WRITES, ids=[f"{v}-{a}" for v, a in ALLOWED_WRITES])
def test_allowed_customer_write_takes_effect(client, world, view, actor):
    method, url, data, effect = VIEWS[view]
    act_as(client, world.team, actor)
    client.post(url(world), data(world))
    assert effect(world)


# Restoring from the recycle bin: only the owner or an administrator.
# The owner, the owner's managers (who may delete in their scope) and administrators restore.
RESTORE = {
    "anonymous": LOGIN,
    "rep3": 404,
    "manager2": 404,
    "rep1": 302,
    "manager1": 302,
    "gm": 302,
    "marketing1": 404,
    "admin": 302,
}


@pytest.mark.parametrize(("actor", "expected"), list(RESTORE.items()), ids=list(RESTORE))
def test_restore_answers_by_role(client, world, actor, expected):
    customer_delete(customer=world.customer, actor=world.team.rep1)
    act_as(client, world.team, actor)
    before = db_state()
    response = client.post(f"/customers/{world.customer.pk}/restore/")
    assert_status(response, expected)
    restored = Customer.objects.get(pk=world.customer.pk).deleted_at is None
    assert restored == (expected == 302)
    if expected != 302:
        assert db_state() == before


# Lists: everyone signed in gets the page; the customer appears only within the actor's scope.
LIST_SEES = {"rep3": False, "manager2": False, "rep1": True, "manager1": True, "gm": True, "marketing1": True}


def test_customer_list_needs_login(client, world):
    assert_status(client.get("/customers/"), LOGIN)


@pytest.mark.parametrize(("actor", "sees"), list(LIST_SEES.items()), ids=list(LIST_SEES))
def test_customer_list_shows_customer_only_in_scope(client, world, actor, sees):
    act_as(client, world.team, actor)
    response = client.get("/customers/")
    assert response.status_code == 200
    assert (world.customer.name in response.content.decode()) is sees


BIN_SEES = {"rep3": False, "manager2": False, "rep1": True, "manager1": True, "gm": True, "admin": True}


def test_recycle_bin_needs_login(client, world):
    assert_status(client.get("/customers/recycle-bin/"), LOGIN)


@pytest.mark.parametrize(("actor", "sees"), list(BIN_SEES.items()), ids=list(BIN_SEES))
def test_recycle_bin_lists_deleted_customer_for_those_who_may_restore_it(client, world, actor, sees):
    customer_delete(customer=world.customer, actor=world.team.rep1)
    act_as(client, world.team, actor)
    response = client.get("/customers/recycle-bin/")
    assert response.status_code == 200
    assert (world.customer.name in response.content.decode()) is sees


CREATE_GET = {"anonymous": LOGIN, "rep1": 200, "manager1": 200, "gm": 200, "marketing1": 403, "service1": 403}


@pytest.mark.parametrize(("actor", "expected"), list(CREATE_GET.items()), ids=list(CREATE_GET))
def test_customer_create_form_answers_by_role(client, team, actor, expected):
    act_as(client, team, actor)
    assert_status(client.get("/customers/new/"), expected)


@pytest.mark.parametrize(("actor", "expected"), [("anonymous", LOGIN), ("service1", 403), ("marketing1", 403)])
def test_denied_customer_create_creates_nothing(client, world, actor, expected):
    act_as(client, world.team, actor)
    before = db_state()
    data = {
        "name": "杭州新客户有限公司",
        "kind": "company",
        "segment": "industrial",
        "tier": "prospect",
        "status": "potential",
    }
    response = client.post("/customers/new/", data)
    assert_status(response, expected)
    assert db_state() == before


def test_rep_cannot_create_customer_for_another_rep(client, team):
    client.force_login(team.rep1)
    before = db_state()
    data = {
        "name": "杭州新客户有限公司",
        "kind": "company",
        "segment": "industrial",
        "tier": "prospect",
        "status": "potential",
        "owner": team.rep2.pk,
    }
    response = client.post("/customers/new/", data)
    assert response.status_code == 200
    assert "owner" in response.context["form"].errors
    assert db_state() == before


@pytest.mark.parametrize(("actor", "expected"), list(RESTORE.items()), ids=list(RESTORE))
def test_contact_restore_answers_by_role(client, world, actor, expected):
    from kehu.customers.models import Contact
    from kehu.customers.services import contact_delete

    contact_delete(contact=world.contact, actor=world.team.rep1)
    act_as(client, world.team, actor)
    before = db_state()
    response = client.post(f"/customers/contacts/{world.contact.pk}/restore/")
    assert_status(response, expected)
    restored = Contact.objects.get(pk=world.contact.pk).deleted_at is None
    assert restored == (expected == 302)
    if expected != 302:
        assert db_state() == before
