"""The open invitations (ACC-1): who was invited, by whom, until when; copy the link, resend,
revoke; inviting an address again replaces its link; a dead link says why at once."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from kehu.core.models import AuditEntry, OutboxMail
from kehu.customers.tests.permissions import LOGIN, act_as, assert_status, db_state
from kehu.users.models import Invitation, User
from kehu.users.services import invitation_create

LINK = re.compile(r"http://testserver(/accounts/invitation/[^/\s\"<]+/)")


@pytest.fixture
def invite(team, mailoutbox, django_capture_on_commit_callbacks):
    """invite(email) → (invitation, link path) as the admin, through the service."""

    def make(email="wang@example.com", **fields):
        with django_capture_on_commit_callbacks(execute=True):
            invitation = invitation_create(
                email=email,
                role=fields.pop("role", "sales_rep"),
                department=fields.pop("department", team.east),
                actor=team.admin,
                base_url="http://testserver/",
                **fields,
            )
        return invitation, LINK.search(mailoutbox[-1].body).group(1)

    return make


def test_the_list_shows_who_role_department_inviter_and_dates(client, team, invite):
    invitation, _link = invite()
    client.force_login(team.admin)
    response = client.get("/accounts/invitations/")
    row = re.search(rf'<tr id="invitation-{invitation.pk}".*?</tr>', response.content.decode(), re.S).group(0)
    local = timezone.localtime
    for text in (
        "wang@example.com",
        "Sales rep",
        "华东销售部",
        team.admin.display_name,
        local(invitation.created_at).strftime("%Y-%m-%d %H:%M"),
        local(invitation.expires_at).strftime("%Y-%m-%d %H:%M"),
    ):
        assert text in row, text


def test_the_copied_link_is_the_mailed_link_and_works(client, team, invite):
    invitation, link = invite()
    client.force_login(team.admin)
    page = client.get("/accounts/invitations/").content.decode()
    assert f'value="http://testserver{link}" readonly' in page
    response = Client().get(link)
    assert (response.status_code, response.context["invitation"]) == (200, invitation)


def test_the_copy_button_is_hidden_until_script_finds_a_clipboard(client, team, invite):
    invite()
    client.force_login(team.admin)
    page = client.get("/accounts/invitations/").content.decode()
    assert re.search(r'<button class="btn btn-outline-primary" type="button" hidden data-copy-from="previous"', page)
    assert '<details class="w-100"><summary>Copy link</summary>' in page


def test_the_list_reads_a_fixed_number_of_queries(client, team, invite, django_assert_max_num_queries):
    invite("a@example.com")
    client.force_login(team.admin)
    client.get("/accounts/invitations/")
    for i in range(15):
        invite(f"p{i}@example.com", department=team.south, manager=team.manager2)
    with django_assert_max_num_queries(10):
        response = client.get("/accounts/invitations/")
    assert len(response.context["open"]) == 16


def test_resend_mails_the_same_link_again_for_another_week(
    client, team, invite, mailoutbox, django_capture_on_commit_callbacks
):
    invitation, link = invite()
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(days=1))
    assert Client().get(link).status_code == 410  # expired
    client.force_login(team.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/accounts/invitations/{invitation.pk}/resend/")
    assert (response.status_code, response.url) == (302, "/accounts/invitations/")
    assert [m.to for m in mailoutbox] == [["wang@example.com"], ["wang@example.com"]]
    assert LINK.search(mailoutbox[1].body).group(1) == link
    invitation.refresh_from_db()
    assert invitation.times_sent == 2
    assert invitation.expires_at > timezone.now() + timedelta(days=6, hours=23)
    assert Client().get(link).status_code == 200
    assert "queued for sending again" in client.get("/accounts/invitations/").content.decode()


def test_revoke_ends_the_link_at_once(client, team, invite):
    invitation, link = invite()
    client.force_login(team.admin)
    client.post(f"/accounts/invitations/{invitation.pk}/revoke/")
    invitation.refresh_from_db()
    assert (invitation.revoked_by, invitation.state) == (team.admin, "revoked")
    response = Client().get(link)
    assert (response.status_code, response.context["state"]) == (410, "revoked")
    assert "This invitation was withdrawn." in response.content.decode()
    assert (
        Client().post(link, {"username": "wang", "password1": "Xx-12345678", "password2": "Xx-12345678"}).status_code
        == 410
    )
    assert not User.objects.filter(username="wang").exists()
    assert AuditEntry.objects.filter(target_type="users.invitation", target_id=invitation.pk, action="delete").exists()


def test_a_revoked_invitation_leaves_the_open_list(client, team, invite):
    invitation, _link = invite()
    client.force_login(team.admin)
    client.post(f"/accounts/invitations/{invitation.pk}/revoke/")
    response = client.get("/accounts/invitations/")
    assert response.context["open"] == []
    assert [i.pk for i in response.context["closed"]] == [invitation.pk]
    # and it can be neither resent nor revoked again
    assert client.post(f"/accounts/invitations/{invitation.pk}/resend/").status_code == 404
    assert client.post(f"/accounts/invitations/{invitation.pk}/revoke/").status_code == 404


def test_inviting_the_address_again_replaces_the_old_link(client, team, invite):
    first, old_link = invite("Wang@Example.com")
    second, new_link = invite("wang@example.com", role="account_manager")
    first.refresh_from_db()
    assert (first.state, first.replaced_by) == ("replaced", second)
    response = Client().get(old_link)
    assert (response.status_code, response.context["state"]) == (410, "replaced")
    assert "replaced by a newer one" in response.content.decode()
    assert Client().get(new_link).status_code == 200
    client.force_login(team.admin)
    assert [i.pk for i, _link in client.get("/accounts/invitations/").context["open"]] == [second.pk]


def test_the_invite_form_says_the_mail_is_queued_and_the_old_link_is_replaced(
    client, team, invite, django_capture_on_commit_callbacks
):
    invite()
    client.force_login(team.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/accounts/users/invite/", {"email": "wang@example.com", "role": "sales_rep"}, follow=True
        )
    page = response.content.decode()
    assert "The invitation to wang@example.com is queued for sending." in page
    assert "The earlier invitation&#x27;s link no longer works." in page
    assert "sent to" not in page.lower()


def test_a_used_link_says_so_before_any_form(team, invite):
    _invitation, link = invite()
    Client().post(
        link,
        {"username": "wangfang", "password1": "Wangfang-invite-2026", "password2": "Wangfang-invite-2026"},
    )
    response = Client().get(link)
    assert (response.status_code, response.context["state"]) == (410, "accepted")
    assert 'name="password1"' not in response.content.decode()


def test_the_invitation_mail_goes_through_the_outbox(team, invite):
    invitation, _link = invite()
    mail = OutboxMail.objects.get()
    assert (mail.recipients, mail.template, mail.status) == (["wang@example.com"], "users/email/invitation", "sent")


def test_an_old_invitation_without_a_shown_link_gets_a_new_one_on_resend(
    client, team, invite, mailoutbox, django_capture_on_commit_callbacks
):
    invitation, old_link = invite()
    Invitation.objects.filter(pk=invitation.pk).update(link_key="")  # as made before links could be copied
    client.force_login(team.admin)
    page = client.get("/accounts/invitations/").content.decode()
    assert "Resend to get a link to copy." in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/accounts/invitations/{invitation.pk}/resend/")
    new_link = LINK.search(mailoutbox[-1].body).group(1)
    assert new_link != old_link
    assert (Client().get(new_link).status_code, Client().get(old_link).status_code) == (200, 404)


# --- who may ------------------------------------------------------------------------------

NOT_ADMIN = {"anonymous": LOGIN, "rep1": 403, "manager1": 403, "gm": 403, "service1": 403}


@pytest.mark.parametrize(("actor", "expected"), [*NOT_ADMIN.items(), ("admin", 200)], ids=[*NOT_ADMIN, "admin"])
def test_the_list_is_for_who_manages_users(client, team, invite, actor, expected):
    invite()
    act_as(client, team, actor)
    assert_status(client.get("/accounts/invitations/"), expected)


@pytest.mark.parametrize("action", ["resend", "revoke"])
@pytest.mark.parametrize(("actor", "expected"), list(NOT_ADMIN.items()), ids=list(NOT_ADMIN))
def test_others_cannot_resend_or_revoke(client, team, invite, mailoutbox, action, actor, expected):
    invitation, link = invite()
    sent = len(mailoutbox)
    act_as(client, team, actor)
    before = db_state()
    invitation_row = Invitation.objects.filter(pk=invitation.pk).values().get()
    assert_status(client.post(f"/accounts/invitations/{invitation.pk}/{action}/"), expected)
    assert db_state() == before
    assert Invitation.objects.filter(pk=invitation.pk).values().get() == invitation_row
    assert (len(mailoutbox), Client().get(link).status_code) == (sent, 200)


@pytest.mark.parametrize("action", ["resend", "revoke"])
def test_resend_and_revoke_answer_post_only(client, team, invite, action):
    invitation, _link = invite()
    client.force_login(team.admin)
    assert client.get(f"/accounts/invitations/{invitation.pk}/{action}/").status_code == 405
