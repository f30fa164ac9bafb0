"""Who may use the user administration pages, the profile and token revocation (ACC-1, ACC-2)."""

import pytest

from kehu.customers.tests.permissions import LOGIN, act_as, assert_status, db_state, matrix
from kehu.users.models import ApiToken, CompanySettings, Department, Invitation, User
from kehu.users.services import api_token_create


@pytest.fixture
def pending(team):
    user = User(username="newcomer", email="newcomer@example.com", is_active=False)
    user.set_password("kehu-test-pw")
    user.save()
    return user


VIEWS = {
    "user-list": ("get", lambda t, p: "/accounts/users/", None, None),
    "user-invite-get": ("get", lambda t, p: "/accounts/users/invite/", None, None),
    "user-edit-get": ("get", lambda t, p: f"/accounts/users/{t.rep2.pk}/", None, None),
    "department-create-get": ("get", lambda t, p: "/accounts/departments/new/", None, None),
    "company-settings-get": ("get", lambda t, p: "/accounts/settings/", None, None),
    "user-invite": (
        "post",
        lambda t, p: "/accounts/users/invite/",
        lambda t, p: {
            "email": "wang@example.com",
            "role": "sales_rep",
            "department": t.east.pk,
            "manager": t.manager1.pk,
        },
        lambda t, p: Invitation.objects.filter(email="wang@example.com").exists(),
    ),
    "user-edit": (
        "post",
        lambda t, p: f"/accounts/users/{t.rep2.pk}/",
        lambda t, p: {
            "email": t.rep2.email,
            "role": "account_manager",
            "department": t.east.pk,
            "manager": t.manager1.pk,
            "is_active": "on",
            "data_scope_override": "",
        },
        lambda t, p: User.objects.get(pk=t.rep2.pk).role == "account_manager",
    ),
    "user-approve": (
        "post",
        lambda t, p: f"/accounts/users/{p.pk}/approve/",
        lambda t, p: {},
        lambda t, p: User.objects.get(pk=p.pk).is_active,
    ),
    "department-create": (
        "post",
        lambda t, p: "/accounts/departments/new/",
        lambda t, p: {"name": "华北销售部", "parent": t.sales.pk},
        lambda t, p: Department.objects.filter(name="华北销售部", parent=t.sales).exists(),
    ),
    "company-settings": (
        "post",
        lambda t, p: "/accounts/settings/",
        lambda t, p: {"company_name": "华星集团"},
        lambda t, p: CompanySettings.load().company_name == "华星集团",
    ),
}
NOT_ADMIN = {"anonymous": LOGIN, "rep1": 403, "manager1": 403, "gm": 403}
EXPECTED = {name: {**NOT_ADMIN, "admin": 200 if method == "get" else 302} for name, (method, *_rest) in VIEWS.items()}


@pytest.mark.parametrize(("view", "actor", "expected"), matrix(EXPECTED))
def test_admin_page_answers_by_role(client, team, pending, view, actor, expected):
    method, url, data, _effect = VIEWS[view]
    act_as(client, team, actor)
    response = getattr(client, method)(url(team, pending), data(team, pending) if data else None)
    assert_status(response, expected)


POSTS = [v for v, (m, *_r) in VIEWS.items() if m == "post"]


@pytest.mark.parametrize("actor", list(NOT_ADMIN))
@pytest.mark.parametrize("view", POSTS)
def test_denied_admin_write_changes_nothing(client, team, pending, view, actor):
    _method, url, data, _effect = VIEWS[view]
    act_as(client, team, actor)
    before = db_state()
    client.post(url(team, pending), data(team, pending))
    assert db_state() == before


@pytest.mark.parametrize("view", POSTS)
def test_admin_write_takes_effect(client, team, pending, view):
    _method, url, data, effect = VIEWS[view]
    client.force_login(team.admin)
    client.post(url(team, pending), data(team, pending))
    assert effect(team, pending)


def test_profile_needs_login(client, team):
    assert_status(client.get("/accounts/profile/"), LOGIN)


@pytest.mark.parametrize("actor", ["rep1", "manager1", "gm", "marketing1", "admin"])
def test_profile_opens_for_every_signed_in_user(client, team, actor):
    act_as(client, team, actor)
    assert client.get("/accounts/profile/").status_code == 200


def test_anonymous_token_creation_creates_nothing(client, team):
    response = client.post("/accounts/profile/", {"name": "脚本"})
    assert_status(response, LOGIN)
    assert not ApiToken.objects.exists()


def test_profile_post_creates_token_shown_once(client, team):
    client.force_login(team.rep1)
    response = client.post("/accounts/profile/", {"name": "报表脚本"})
    token = ApiToken.objects.get(user=team.rep1)
    assert token.name == "报表脚本"
    assert response.context["new_token"].startswith("kehu_" + token.prefix)


REVOKE = {"anonymous": LOGIN, "rep3": 404, "manager1": 404, "gm": 404, "admin": 404, "rep1": 302}


@pytest.mark.parametrize(("actor", "expected"), list(REVOKE.items()), ids=list(REVOKE))
def test_token_revoke_only_by_its_owner(client, team, actor, expected):
    token, _raw = api_token_create(user=team.rep1, name="脚本")
    act_as(client, team, actor)
    before = db_state()
    assert_status(client.post(f"/accounts/tokens/{token.pk}/revoke/"), expected)
    token.refresh_from_db()
    assert (token.revoked_at is not None) is (expected == 302)
    if expected != 302:
        assert db_state() == before
