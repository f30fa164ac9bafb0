"""Invitations (ACC-1): an administrator invites staff by email; the link works once, for a week."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from kehu.users.models import Invitation, User
from kehu.users.services import invitation_create

ACCEPT = {
    "last_name": "王",
    "first_name": "芳",
    "username": "wangfang",
    "password1": "Wangfang-invite-2026",
    "password2": "Wangfang-invite-2026",
}


@pytest.fixture
def invite(client, team, mailoutbox, django_capture_on_commit_callbacks):
    """The admin invites wang@example.com as a sales rep in 华东销售部 reporting to manager1; returns the link path."""
    client.force_login(team.admin)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/accounts/users/invite/",
            {"email": "wang@example.com", "role": "sales_rep", "department": team.east.pk, "manager": team.manager1.pk},
        )
    (mail,) = mailoutbox
    return re.search(r"http://testserver(/accounts/invitation/[^/\s]+/)", mail.body).group(1)


def test_invitation_sends_one_mail_to_the_invitee(team, invite, mailoutbox):
    assert [m.to for m in mailoutbox] == [["wang@example.com"]]


def test_invitation_is_recorded_with_role_department_and_manager(team, invite):
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.role, invitation.department, invitation.manager, invitation.invited_by) == (
        "wang@example.com",
        "sales_rep",
        team.east,
        team.manager1,
        team.admin,
    )


def test_invitation_stores_only_a_hash_of_the_token(team, invite):
    raw = invite.rstrip("/").rsplit("/", 1)[1]
    assert raw not in Invitation.objects.get().token_hash


def test_invitation_link_shows_the_form(invite):
    response = Client().get(invite)
    assert response.status_code == 200
    assert "password1" in response.context["form"].fields


def test_accepting_creates_an_active_user_from_the_invitation(team, invite):
    Client().post(invite, ACCEPT)
    user = User.objects.get(username="wangfang")
    assert (user.email, user.is_active, user.role, user.department, user.manager) == (
        "wang@example.com",
        True,
        "sales_rep",
        team.east,
        team.manager1,
    )
    assert user.check_password("Wangfang-invite-2026")


def test_accepting_signs_in_and_opens_the_dashboard(team, invite):
    guest = Client()
    response = guest.post(invite, ACCEPT)
    assert (response.status_code, response.url) == (302, "/")
    assert guest.get("/").status_code == 200


def test_used_link_says_so_on_opening_it(team, invite):
    Client().post(invite, ACCEPT)
    response = Client().get(invite)
    assert response.status_code == 410
    assert response.context["state"] == "accepted"
    assert "This invitation has already been used." in response.content.decode()
    assert "form" not in response.context


def test_used_link_cannot_create_a_second_user(team, invite):
    Client().post(invite, ACCEPT)
    Client().post(invite, {**ACCEPT, "username": "second"})
    assert not User.objects.filter(username="second").exists()


def test_taken_username_is_refused_and_the_link_stays_usable(team, invite):
    response = Client().post(invite, {**ACCEPT, "username": "rep1"})
    assert "username" in response.context["form"].errors
    assert Invitation.objects.get().accepted_user is None


def test_expired_invitation_link_is_refused(team, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invitation_create(email="old@example.com", role="sales_rep", actor=team.admin, base_url="http://testserver/")
    Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    link = re.search(r"http://testserver(/accounts/invitation/[^/\s]+/)", mailoutbox[0].body).group(1)
    response = Client().get(link)
    assert (response.status_code, response.context["state"]) == (410, "expired")
    assert "This invitation has expired." in response.content.decode()
    assert Client().post(link, ACCEPT).status_code == 410
    assert not User.objects.filter(username="wangfang").exists()


def test_unknown_token_is_refused(team):
    response = Client().get("/accounts/invitation/not-a-token/")
    assert (response.status_code, response.context["state"]) == (404, "unknown")


def test_inviting_a_known_email_is_refused_on_the_form(client, team, mailoutbox, django_capture_on_commit_callbacks):
    client.force_login(team.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/users/invite/", {"email": "rep1@example.com", "role": "sales_rep"})
    assert "email" in response.context["form"].errors
    assert (Invitation.objects.count(), mailoutbox) == (0, [])
