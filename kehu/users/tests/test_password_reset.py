"""Password reset by email: the page never tells whether an email is known; the link works once."""

import re

import pytest
from django.test import Client

from kehu.users.models import User

NEW_PASSWORD = "Rep1-new-password-2026"


def _ask(client, capture, email):
    with capture(execute=True):
        return client.post("/accounts/password-reset/", {"email": email})


def _link(mail) -> str:
    return re.search(r"http://testserver(/accounts/reset/\S+/)", mail.body).group(1)


def test_known_and_unknown_emails_get_the_same_redirect(client, team, django_capture_on_commit_callbacks):
    known = _ask(client, django_capture_on_commit_callbacks, "rep1@example.com")
    unknown = _ask(client, django_capture_on_commit_callbacks, "nobody@example.com")
    assert (
        (known.status_code, known.url) == (unknown.status_code, unknown.url) == (302, "/accounts/password-reset/sent/")
    )


def test_known_and_unknown_emails_land_on_the_same_page(client, team, django_capture_on_commit_callbacks):
    known = _ask(client, django_capture_on_commit_callbacks, "rep1@example.com")
    page_known = client.get(known.url).content
    unknown = _ask(client, django_capture_on_commit_callbacks, "nobody@example.com")
    page_unknown = client.get(unknown.url).content
    strip = lambda b: re.sub(rb"[A-Za-z0-9]{64}", b"TOKEN", b)  # noqa: E731  (CSRF tokens differ)
    assert strip(page_known) == strip(page_unknown)


def test_only_the_known_email_gets_a_mail(client, team, mailoutbox, django_capture_on_commit_callbacks):
    _ask(client, django_capture_on_commit_callbacks, "nobody@example.com")
    _ask(client, django_capture_on_commit_callbacks, "rep1@example.com")
    assert [m.to for m in mailoutbox] == [["rep1@example.com"]]


def test_inactive_user_gets_no_mail(client, team, mailoutbox, django_capture_on_commit_callbacks):
    User.objects.filter(pk=team.rep1.pk).update(is_active=False)
    _ask(client, django_capture_on_commit_callbacks, "rep1@example.com")
    assert mailoutbox == []


@pytest.fixture
def link(client, team, mailoutbox, django_capture_on_commit_callbacks):
    _ask(client, django_capture_on_commit_callbacks, "rep1@example.com")
    return _link(mailoutbox[0])


def _set_password(link):
    guest = Client()
    form_url = guest.get(link).url  # Django moves the token into the session, then redirects
    return guest.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})


def test_link_opens_the_new_password_form(link):
    guest = Client()
    response = guest.get(link, follow=True)
    assert response.context["validlink"] is True


def test_link_sets_a_new_password(team, link):
    response = _set_password(link)
    assert (response.status_code, response.url) == (302, "/accounts/reset/done/")
    assert User.objects.get(pk=team.rep1.pk).check_password(NEW_PASSWORD)


def test_new_password_signs_in(team, link):
    _set_password(link)
    response = Client().post("/accounts/login/", {"username": "rep1", "password": NEW_PASSWORD})
    assert (response.status_code, response.url) == (302, "/")


def test_link_works_only_once(team, link):
    _set_password(link)
    response = Client().get(link, follow=True)
    assert response.context["validlink"] is False
    assert "This link has expired or was already used" in response.content.decode()


def test_second_use_cannot_change_the_password_again(team, link):
    _set_password(link)
    guest = Client()
    guest.get(link)
    guest.post(
        link.rsplit("/", 2)[0] + "/set-password/",
        {"new_password1": "Another-pass-2026", "new_password2": "Another-pass-2026"},
    )
    assert User.objects.get(pk=team.rep1.pk).check_password(NEW_PASSWORD)
