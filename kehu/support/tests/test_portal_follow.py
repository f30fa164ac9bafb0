"""The page that follows a ticket through its signed link: a valid link shows the ticket's number, its
state in the customer's words and the non-internal messages; a tampered or unknown token is 404, an
expired or revoked link 410 (in the visitor's language); the customer writes, confirms it is solved or
reopens it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from kehu.support import portal_services, services
from kehu.support.models import FollowLink, MessageDirection, TicketState
from kehu.support.tests.kb_setup import known_contact
from kehu.support.tests.tickets_setup import Desk

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(team, customer_of):
    return Desk(team, customer_of)


@pytest.fixture
def followed(desk):
    contact = known_contact(desk.team, desk.mine)
    ticket = desk.open(contact=contact, subject="液压站漏油", now=timezone.now())
    link, token = portal_services.follow_link_create(ticket=ticket, email="li.ming@example.com")
    return ticket, link, token


def test_a_valid_link_shows_the_ticket_and_only_the_customers_conversation(client, desk, followed):
    ticket, _link, token = followed
    services.ticket_message_add(
        ticket=ticket, direction=MessageDirection.OUT, channel="phone", body="明早派工程师", actor=desk.team.service1
    )
    services.ticket_message_add(
        ticket=ticket, direction=MessageDirection.NOTE, channel="phone", body="客户脾气急", actor=desk.team.service1
    )
    response = client.get(f"/help/t/{token}/", HTTP_ACCEPT_LANGUAGE="en")
    body = response.content.decode()
    assert response.status_code == 200
    assert ticket.number in body and "液压站漏油" in body and "Request received" in body
    assert "明早派工程师" in body and "客户脾气急" not in body
    assert response["Cache-Control"] == "private, no-store" and response["X-Robots-Tag"] == "noindex, nofollow"


def test_a_tampered_or_unknown_token_is_not_found(client, followed):
    _ticket, _link, token = followed
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert client.get(f"/help/t/{tampered}/").status_code == 404
    assert client.get("/help/t/x/").status_code == 404
    assert client.get(f"/help/t/{'a' * 120}/").status_code == 404
    assert client.post(f"/help/t/{tampered}/message/", {"body": "hi"}).status_code == 404


def test_an_expired_link_is_gone_in_the_visitors_language(client, followed):
    ticket, link, token = followed
    FollowLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    english = client.get(f"/help/t/{token}/", HTTP_ACCEPT_LANGUAGE="en")
    assert english.status_code == 410 and "This link no longer works" in english.content.decode()
    chinese = client.get(f"/help/t/{token}/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    assert chinese.status_code == 410 and "链接已失效" in chinese.content.decode()
    before = ticket.messages.count()
    assert client.post(f"/help/t/{token}/message/", {"body": "还在吗"}).status_code == 410
    assert ticket.messages.count() == before


def test_a_revoked_link_is_gone_and_only_staff_who_may_change_the_ticket_revoke(client, desk, followed):
    ticket, link, token = followed
    client.force_login(desk.team.marketing1)
    assert client.post(f"/service/tickets/{ticket.pk}/follow-links/{link.pk}/revoke/").status_code in (403, 404)
    link.refresh_from_db()
    assert link.revoked_at is None
    client.force_login(desk.team.service1)
    response = client.post(f"/service/tickets/{ticket.pk}/follow-links/{link.pk}/revoke/")
    assert response.status_code == 302
    link.refresh_from_db()
    assert link.revoked_at is not None and link.revoked_by == desk.team.service1
    client.logout()
    assert client.get(f"/help/t/{token}/").status_code == 410


def test_the_customer_writes_and_a_waiting_ticket_goes_on(client, desk, followed):
    ticket, _link, token = followed
    services.ticket_transition(ticket=ticket, actor=desk.team.service1, to=TicketState.WAITING_CUSTOMER)
    response = client.post(f"/help/t/{token}/message/", {"body": "照片已拍好，油是从接头渗出来的"})
    assert response.status_code == 302
    message = ticket.messages.get()
    assert (message.direction, message.channel, message.sender, message.body, message.author) == (
        MessageDirection.IN,
        "self_service",
        "li.ming@example.com",
        "照片已拍好，油是从接头渗出来的",
        None,
    )
    ticket.refresh_from_db()
    assert ticket.state == TicketState.IN_PROGRESS
    assert client.post(f"/help/t/{token}/message/", {"body": "   "}).status_code == 400
    assert ticket.messages.count() == 1


def test_the_customer_confirms_it_is_solved_then_reopens_then_closes(client, desk, followed):
    ticket, _link, token = followed
    client.post(f"/help/t/{token}/confirm/", {"solved": "yes"})
    ticket.refresh_from_db()
    assert ticket.state == TicketState.RESOLVED
    client.post(f"/help/t/{token}/confirm/", {"solved": "no"})
    ticket.refresh_from_db()
    assert ticket.state == TicketState.IN_PROGRESS
    services.ticket_transition(ticket=ticket, actor=desk.team.service1, to=TicketState.RESOLVED)
    client.post(f"/help/t/{token}/confirm/", {"solved": "yes"})
    ticket.refresh_from_db()
    assert ticket.state == TicketState.CLOSED
    page = client.get(f"/help/t/{token}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Closed" in page and 'id="follow-write"' not in page and 'id="follow-confirm"' not in page
    assert [m.body for m in ticket.messages.order_by("at", "pk")] == [
        "Solved, thank you.",
        "It is not solved yet.",
        "Solved, thank you.",
    ]
    assert client.post(f"/help/t/{token}/confirm/", {"solved": "no"}).status_code == 400


def test_the_follow_page_reads_in_a_fixed_number_of_queries(client, desk, followed, django_assert_max_num_queries):
    ticket, _link, token = followed
    for i in range(10):
        services.ticket_message_add(
            ticket=ticket, direction=MessageDirection.OUT, channel="phone", body=f"回复 {i}", actor=desk.team.service1
        )
    with django_assert_max_num_queries(4):
        assert client.get(f"/help/t/{token}/").status_code == 200
