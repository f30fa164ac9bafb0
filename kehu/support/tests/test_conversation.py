"""A ticket's conversation: staff answers become outgoing messages, the customer writing back sets a
ticket that waits for them going again, and the ticket page shows the messages in order, escaped."""

import pytest
from django.core.exceptions import ValidationError

from kehu.customers.models import TimelineEntry
from kehu.support import services
from kehu.support.models import MessageDirection, TicketMessage, TicketState
from kehu.support.tests.tickets_setup import Desk, at

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(team, customer_of):
    return Desk(team, customer_of)


def test_an_answer_with_words_is_an_outgoing_message_and_a_bare_one_is_not(desk):
    ticket = desk.open()
    services.ticket_answer(ticket=ticket, actor=desk.team.service1, note="", now=at(25, 9, 16, 10))
    assert not TicketMessage.objects.exists()
    services.ticket_answer(ticket=ticket, actor=desk.team.service1, note="明早九点到", now=at(25, 9, 16, 20))
    message = TicketMessage.objects.get()
    assert (message.direction, message.channel, message.author, message.body, message.at) == (
        MessageDirection.OUT,
        ticket.channel,
        desk.team.service1,
        "明早九点到",
        at(25, 9, 16, 20),
    )


def test_the_customer_writing_back_sets_a_waiting_ticket_going(desk):
    ticket = desk.open()
    services.ticket_transition(
        ticket=ticket, actor=desk.team.service1, to=TicketState.WAITING_CUSTOMER, now=at(25, 9, 16, 5)
    )
    services.ticket_message_add(
        ticket=ticket,
        direction=MessageDirection.IN,
        channel="email",
        body="照片已发",
        sender="li@example.com",
        at=at(28, 9, 9),
    )
    ticket.refresh_from_db()
    assert ticket.state == TicketState.IN_PROGRESS
    change = ticket.state_changes.last()
    assert (change.from_state, change.to_state, change.at) == (
        TicketState.WAITING_CUSTOMER,
        TicketState.IN_PROGRESS,
        at(28, 9, 9),
    )
    # A message to a ticket that is not waiting leaves its state alone.
    services.ticket_message_add(
        ticket=ticket, direction=MessageDirection.IN, channel="email", body="再补充一句", at=at(28, 9, 10)
    )
    ticket.refresh_from_db()
    assert ticket.state == TicketState.IN_PROGRESS and ticket.messages.count() == 2
    assert TimelineEntry.objects.filter(kind="ticket_message", customer=ticket.customer).count() == 2


def test_an_empty_message_is_refused_and_nothing_is_written(desk):
    ticket = desk.open()
    with pytest.raises(ValidationError):
        services.ticket_message_add(ticket=ticket, direction=MessageDirection.IN, channel="email", body="  \n ")
    assert not TicketMessage.objects.exists()


def test_the_ticket_page_shows_the_conversation_in_order_and_escaped(client, desk):
    ticket = desk.open()
    services.ticket_message_add(
        ticket=ticket,
        direction=MessageDirection.IN,
        channel="email",
        body="<script>x()</script>先",
        sender="li@example.com",
        at=at(25, 9, 16, 30),
    )
    services.ticket_answer(ticket=ticket, actor=desk.team.service1, note="后", now=at(25, 9, 16, 40))
    client.force_login(desk.team.service1)
    html = client.get(f"/service/tickets/{ticket.pk}/").content.decode()
    box = html[html.index('id="conversation"') :]
    assert "<script>x()" not in html and "&lt;script&gt;x()&lt;/script&gt;先" in box
    assert box.index("li@example.com") < box.index("先") < box.index("后")
