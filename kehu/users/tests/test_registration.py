"""Self-registration (ACC-1): an inactive account that an administrator approves."""

import re

import pytest

from kehu.users.models import CompanySettings, User

FORM = {
    "last_name": "李",
    "first_name": "娜",
    "username": "lina",
    "email": "lina@example.com",
    "password1": "Lina-register-2026",
    "password2": "Lina-register-2026",
}


def _register(client, capture, data=FORM):
    with capture(execute=True):
        return client.post("/accounts/register/", data)


def _normalised(response) -> str:
    """The page without its CSRF tokens, which differ on every response."""
    return re.sub(r"[A-Za-z0-9]{64}", "TOKEN", response.content.decode())


def test_registration_shows_the_received_page(client, team, django_capture_on_commit_callbacks):
    response = _register(client, django_capture_on_commit_callbacks)
    assert response.status_code == 200
    assert "Registration received" in response.content.decode()


def test_registration_creates_an_inactive_sales_rep(client, team, django_capture_on_commit_callbacks):
    _register(client, django_capture_on_commit_callbacks)
    user = User.objects.get(username="lina")
    assert (user.is_active, user.role, user.email) == (False, "sales_rep", "lina@example.com")


def test_registration_tells_the_administrators(client, team, mailoutbox, django_capture_on_commit_callbacks):
    _register(client, django_capture_on_commit_callbacks)
    assert [m.to for m in mailoutbox] == [["admin@example.com"]]
    assert "lina@example.com" in mailoutbox[0].body


def test_unapproved_user_cannot_sign_in(client, team, django_capture_on_commit_callbacks):
    _register(client, django_capture_on_commit_callbacks)
    response = client.post("/accounts/login/", {"username": "lina", "password": "Lina-register-2026"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_admin_approval_activates_the_user(client, team, django_capture_on_commit_callbacks):
    _register(client, django_capture_on_commit_callbacks)
    user = User.objects.get(username="lina")
    client.force_login(team.admin)
    response = client.post(f"/accounts/users/{user.pk}/approve/")
    assert (response.status_code, response.url) == (302, "/accounts/users/")
    assert User.objects.get(pk=user.pk).is_active


def test_admin_approval_emails_the_user(client, team, mailoutbox, django_capture_on_commit_callbacks):
    _register(client, django_capture_on_commit_callbacks)
    user = User.objects.get(username="lina")
    mailoutbox.clear()
    client.force_login(team.admin)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/accounts/users/{user.pk}/approve/")
    assert [m.to for m in mailoutbox] == [["lina@example.com"]]
    assert mailoutbox[0].subject == "Kehu: your account is approved"


def test_approved_user_signs_in(client, team, django_capture_on_commit_callbacks):
    _register(client, django_capture_on_commit_callbacks)
    user = User.objects.get(username="lina")
    client.force_login(team.admin)
    client.post(f"/accounts/users/{user.pk}/approve/")
    client.logout()
    response = client.post("/accounts/login/", {"username": "lina", "password": "Lina-register-2026"})
    assert (response.status_code, response.url) == (302, "/")


def test_pending_registration_is_listed_for_the_admin(client, team, django_capture_on_commit_callbacks):
    _register(client, django_capture_on_commit_callbacks)
    client.force_login(team.admin)
    response = client.get("/accounts/users/")
    assert [u.username for u in response.context["pending"]] == ["lina"]


def test_known_email_gets_the_same_page(client, team, django_capture_on_commit_callbacks):
    fresh = _register(client, django_capture_on_commit_callbacks)
    known = _register(
        client, django_capture_on_commit_callbacks, {**FORM, "username": "lina2", "email": "REP1@example.com"}
    )
    assert known.status_code == fresh.status_code == 200
    assert _normalised(known) == _normalised(fresh)


def test_known_email_creates_nothing_and_sends_nothing(client, team, mailoutbox, django_capture_on_commit_callbacks):
    before = User.objects.count()
    _register(client, django_capture_on_commit_callbacks, {**FORM, "email": "rep1@example.com"})
    assert User.objects.count() == before
    assert mailoutbox == []


def test_taken_username_is_refused_on_the_form(client, team, django_capture_on_commit_callbacks):
    response = _register(client, django_capture_on_commit_callbacks, {**FORM, "username": "rep1"})
    assert "username" in response.context["form"].errors
    assert not User.objects.filter(email="lina@example.com").exists()


@pytest.fixture
def closed(team):
    CompanySettings.objects.update_or_create(pk=1, defaults={"allow_self_registration": False})


def test_closed_registration_page_answers_403(client, closed):
    response = client.get("/accounts/register/")
    assert response.status_code == 403
    assert "Registration is closed" in response.content.decode()


def test_closed_registration_refuses_a_post_and_creates_nothing(
    client, closed, mailoutbox, django_capture_on_commit_callbacks
):
    before = User.objects.count()
    response = _register(client, django_capture_on_commit_callbacks)
    assert response.status_code == 403
    assert (User.objects.count(), mailoutbox) == (before, [])
