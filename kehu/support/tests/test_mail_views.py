"""Pages and API of e-mail intake: the mailbox settings (administrators / service managers; the
password is never shown back), the connection test's messages against the loopback Dovecot, the
received-mail list with its to-match tab (the service desk only), matching and dismissing, the
attachments' download rights, and the ticket page's e-mail panel."""

import re

import pytest
from django.core.files.base import ContentFile

from kehu.core.models import AuditEntry
from kehu.support.models import InboundMail, InboundStatus, MailAttachment, Mailbox, MailSecurity, Ticket
from kehu.support.tests.mail_setup import SERVICE_ADDRESS
from kehu.support.tests.tickets_setup import Desk

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(team, customer_of):
    return Desk(team, customer_of)


def _waiting(subject="询价", sender="li@unknown.example") -> InboundMail:
    return InboundMail.objects.create(
        uidvalidity=1,
        uid=InboundMail.objects.count() + 1,
        email_message_id=f"<m{InboundMail.objects.count()}@unknown.example>",
        from_address=sender,
        from_name="李经理",
        subject=subject,
        body="<b>请报价</b>",
        status=InboundStatus.TO_MATCH,
    )


# ---- the mailbox settings --------------------------------------------------------------------


def _form(**overrides) -> dict:
    data = {
        "is_active": "on",
        "address": SERVICE_ADDRESS,
        "host": "imap.example.com",
        "port": "993",
        "security": "ssl",
        "username": "service",
        "password": "s3cret-pw",
        "folder": "INBOX",
        "default_priority": "normal",
        "send_acknowledgement": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.mark.parametrize(
    "who,status", [("rep1", 403), ("manager1", 403), ("aftersales1", 403), ("service1", 200), ("admin", 200)]
)
def test_who_may_open_the_mailbox_settings(client, desk, who, status):
    user = desk.csr if who == "aftersales1" else getattr(desk.team, who)
    client.force_login(user)
    assert client.get("/service/setup/mailbox/").status_code == status
    before = Mailbox.load().host
    response = client.post("/service/setup/mailbox/", _form())
    assert response.status_code == (302 if status == 200 else 403)
    assert Mailbox.load().host == ("imap.example.com" if status == 200 else before)


def test_anonymous_is_sent_to_log_in(client, desk):
    assert client.get("/service/setup/mailbox/").status_code == 302
    assert client.get("/service/mail/").status_code == 302


def test_the_password_is_kept_never_shown_and_kept_when_left_empty(client, desk):
    client.force_login(desk.team.admin)
    client.post("/service/setup/mailbox/", _form())
    html = client.get("/service/setup/mailbox/").content.decode()
    assert "s3cret-pw" not in html and "A password is saved." in html
    client.post("/service/setup/mailbox/", _form(password="", host="imap2.example.com"))
    box = Mailbox.load()
    assert (box.host, box.password) == ("imap2.example.com", "s3cret-pw")
    changes = [e.changes for e in AuditEntry.objects.filter(target_type="support.mailbox").order_by("pk")]
    assert all("s3cret-pw" not in str(c) for c in changes)
    assert changes[-1] == {"host": ["imap.example.com", "imap2.example.com"]}


def test_switching_fetching_on_needs_server_user_and_password(client, desk):
    client.force_login(desk.team.admin)
    response = client.post("/service/setup/mailbox/", _form(host="", password=""))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert (errors["host"], errors["password"]) == (["Needed to fetch mail."], ["Needed to fetch mail."])
    response = client.post("/service/setup/mailbox/", _form(address="not-an-address"))
    assert response.context["form"].errors["address"] == ["Enter a valid email address."]
    assert (Mailbox.load().is_active, Mailbox.load().host) == (False, "")


def test_the_connection_test_says_what_went_wrong(client, desk, imap_server):
    client.force_login(desk.team.admin)
    box = Mailbox.load()
    box.host, box.port, box.security = imap_server.host, imap_server.port, MailSecurity.NONE
    box.username, box.password = imap_server.user, "wrong"
    box.save()

    def test_message():
        response = client.post("/service/setup/mailbox/", {"action": "test"}, follow=True)
        return [str(m) for m in response.context["messages"]]

    assert test_message() == ["The mail server refused the user name or the password."]
    Mailbox.objects.update(password=imap_server.password)
    assert test_message() == ["Connected. 0 unread mail(s) in INBOX."]
    Mailbox.objects.update(folder="Nowhere")
    assert test_message() == ["The mailbox has no folder Nowhere."]
    from kehu.core.tests.smtp import free_port

    port = free_port()
    Mailbox.objects.update(port=port)
    assert test_message() == [
        f"The mail server {imap_server.host}:{port} cannot be reached: the connection was refused."
    ]


# ---- received mail ---------------------------------------------------------------------------


@pytest.mark.parametrize("who,status", [("rep1", 403), ("engineer", 403), ("aftersales1", 200), ("service1", 200)])
def test_only_the_service_desk_reads_received_mail(client, desk, who, status):
    user = {"engineer": desk.engineer, "aftersales1": desk.csr}.get(who) or getattr(desk.team, who)
    mail = _waiting()
    client.force_login(user)
    assert client.get("/service/mail/").status_code == status
    assert client.get(f"/service/mail/{mail.pk}/").status_code == status
    assert client.post(f"/service/mail/{mail.pk}/dismiss/").status_code == (403 if status == 403 else 302)
    mail.refresh_from_db()
    assert mail.status == (InboundStatus.TO_MATCH if status == 403 else InboundStatus.DISMISSED)


def test_the_to_match_list_is_escaped_paginated_and_reads_a_fixed_number_of_queries(
    client, desk, django_assert_max_num_queries
):
    for n in range(30):
        _waiting(subject=f"<script>询价{n}</script>")
    InboundMail.objects.create(uidvalidity=1, uid=999, from_address="mailer-daemon@x", status=InboundStatus.AUTOMATIC)
    client.force_login(desk.team.service1)
    with django_assert_max_num_queries(12):
        response = client.get("/service/mail/")
    html = response.content.decode()
    assert len(re.findall(r'href="/service/mail/\d+/"', html)) == 25
    assert "<script>询价" not in html and "&lt;script&gt;询价29" in html
    assert response.context["result"].has_next
    automatic = client.get("/service/mail/?status=automatic")
    assert [m.status for m in automatic.context["mails"]] == [InboundStatus.AUTOMATIC]


def test_matching_a_mail_opens_a_ticket_for_a_customer_the_user_sees(client, desk, smtp):
    mail = _waiting()
    client.force_login(desk.csr)
    choices = client.get(f"/service/mail/{mail.pk}/customers/?q=宁波").content.decode()
    assert "宁波精工机床有限公司" in choices
    response = client.post(f"/service/mail/{mail.pk}/match/", {"customer": desk.mine.pk})
    ticket = Ticket.objects.get()
    assert response["Location"] == f"/service/tickets/{ticket.pk}/"
    mail.refresh_from_db()
    assert (mail.status, mail.ticket, ticket.customer, ticket.channel) == (
        InboundStatus.MATCHED,
        ticket,
        desk.mine,
        "email",
    )


def test_matching_twice_or_to_an_unseen_customer_changes_nothing(client, desk, team, customer_of):
    mail = _waiting()
    client.force_login(team.service1)
    client.post(f"/service/mail/{mail.pk}/dismiss/")
    response = client.post(f"/service/mail/{mail.pk}/match/", {"customer": desk.mine.pk}, follow=True)
    assert [str(m) for m in response.context["messages"]][-1] == "This mail has been dealt with already."
    assert Ticket.objects.count() == 0


def test_attachments_are_for_those_who_see_the_ticket(client, desk, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    from kehu.support import services

    ticket = desk.open()
    message = services.ticket_message_add(ticket=ticket, direction="in", channel="email", body="照片", sender="a@b.c")
    mail = _waiting()
    mail.ticket, mail.status = ticket, InboundStatus.REPLY
    mail.save()
    file = MailAttachment(mail=mail, message=message, filename="IMG_1.jpg", content_type="image/jpeg", size=4)
    file.file.save("IMG_1.jpg", ContentFile(b"\xff\xd8\xff\xe0"))
    for user, status in [(desk.team.rep1, 200), (desk.team.rep3, 404), (desk.team.service1, 200)]:
        client.force_login(user)
        response = client.get(f"/service/mail/files/{file.pk}/")
        assert response.status_code == status, user
        if status == 200:
            assert (response["Content-Type"], b"".join(response.streaming_content)) == (
                "image/jpeg",
                b"\xff\xd8\xff\xe0",
            )
    svg = MailAttachment(mail=mail, message=message, filename="x.svg", content_type="image/svg+xml", size=5)
    svg.file.save("x.svg", ContentFile(b"<svg/>"))
    client.force_login(desk.team.service1)
    response = client.get(f"/service/mail/files/{svg.pk}/")
    assert response["Content-Disposition"].startswith("attachment;")  # never shown inline: it could run script
    assert response["X-Content-Type-Options"] == "nosniff"
    page = client.get(f"/service/tickets/{ticket.pk}/").content.decode()
    assert 'id="ticket-mail"' in page and f"/service/mail/files/{file.pk}/" in page


# ---- the API ---------------------------------------------------------------------------------


def test_the_api_reads_and_changes_the_mailbox_without_ever_returning_the_password(api_client, desk):
    admin = api_client(desk.team.admin)
    response = admin.patch(
        "/api/v1/service/mailbox",
        {"host": "imap.example.com", "username": "service", "password": "pw-1", "address": SERVICE_ADDRESS},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert "password" not in body and body["has_password"] is True and body["host"] == "imap.example.com"
    assert "pw-1" not in admin.get("/api/v1/service/mailbox").content.decode()
    bad = admin.patch("/api/v1/service/mailbox", {"port": 70000, "address": "nope"})
    assert bad.status_code == 400 and Mailbox.load().port == 993
    assert api_client(desk.team.rep1).get("/api/v1/service/mailbox").status_code == 403
    assert api_client(desk.team.rep1).patch("/api/v1/service/mailbox", {"host": "x"}).status_code == 403
    assert Mailbox.load().host == "imap.example.com"
    test = admin.post("/api/v1/service/mailbox/test").json()
    assert test["ok"] is False and "cannot be reached" in test["message"] or "secure connection" in test["message"]


def test_the_api_lists_matches_and_dismisses_received_mail(api_client, desk):
    first, second = _waiting(), _waiting(subject="垃圾")
    desk_api = api_client(desk.csr)
    listed = desk_api.get("/api/v1/service/mail?status=to_match").json()
    assert (listed["count"], [m["id"] for m in listed["items"]]) == (2, [second.pk, first.pk])
    assert api_client(desk.team.rep1).get("/api/v1/service/mail").status_code == 403
    matched = desk_api.post(f"/api/v1/service/mail/{first.pk}/match", {"customer_id": desk.mine.pk})
    assert matched.status_code == 200, matched.content
    assert Ticket.objects.get().pk == matched.json()["ticket_id"]
    again = desk_api.post(f"/api/v1/service/mail/{first.pk}/match", {"customer_id": desk.mine.pk})
    assert again.status_code == 400 and Ticket.objects.count() == 1
    assert desk_api.post(f"/api/v1/service/mail/{second.pk}/dismiss").json()["status"] == "dismissed"
    assert desk_api.get("/api/v1/service/mail/999999").status_code == 404
