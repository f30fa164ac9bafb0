"""The self-service request form: a known contact (by e-mail or phone) gets a ticket and a signed link by
e-mail through the outbox and a real SMTP server; an unknown address reads the same answer and leaves
nothing but a request to match; the rate limits; suggested articles and the deflection they count;
"did this solve it?" counted once per visitor."""

import re

import pytest

from kehu.core.models import OutboxMail
from kehu.support.models import (
    ArticleFeedback,
    Channel,
    Deflection,
    FollowLink,
    InstalledUnit,
    MessageDirection,
    PortalRequest,
    PortalRequestState,
    Ticket,
)
from kehu.support.tests.kb_setup import Library, known_contact
from kehu.support.tests.setup_fixtures import book  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def library(team):
    return Library(team.service1)


@pytest.fixture
def customer(team, customer_of):
    return customer_of(team.rep1, name="宁波精工机床有限公司")


@pytest.fixture
def contact(team, customer):
    return known_contact(team, customer)


def _form(**extra):
    return {
        "name": "李明",
        "phone": "",
        "email": "",
        "subject": "液压站漏油",
        "description": "早上开机后油箱下面有一滩油。",
        "serial_number": "",
        **extra,
    }


def _without_csrf(page: bytes) -> str:
    """The page without its CSRF tokens (a new one on every page)."""
    return re.sub(r'(csrfmiddlewaretoken" value="|"X-CSRFToken": ")[^"]+', r"\1", page.decode())


def _submit(client, capture, **extra):
    with capture(execute=True):
        return client.post("/help/request/", _form(**extra))


def test_a_known_email_opens_a_ticket_and_mails_the_follow_link(
    client, team, customer, contact, smtp, django_capture_on_commit_callbacks
):
    response = _submit(client, django_capture_on_commit_callbacks, email="Li.Ming@Example.com")
    assert (response.status_code, response["Location"]) == (302, "/help/request/sent/")
    ticket = Ticket.objects.get()
    assert (ticket.customer, ticket.contact, ticket.channel, ticket.subject, ticket.owner) == (
        customer,
        contact,
        Channel.SELF_SERVICE,
        "液压站漏油",
        None,
    )
    message = ticket.messages.get()
    assert (message.direction, message.channel, message.body) == (
        MessageDirection.IN,
        Channel.SELF_SERVICE,
        "液压站漏油\n\n早上开机后油箱下面有一滩油。",
    )
    request = PortalRequest.objects.get()
    assert (request.state, request.ticket) == (PortalRequestState.MATCHED, ticket)
    (mail,) = smtp.messages
    assert str(mail["To"]) == "li.ming@example.com"
    assert ticket.number in str(mail["Subject"])
    links = re.findall(r"http://testserver/help/t/([\w-]+)/", mail.get_content())
    assert len(links) == 1
    link = FollowLink.objects.get()
    assert link.token_hash != links[0] and len(link.token_hash) == 64  # only the hash is kept
    assert client.get(f"/help/t/{links[0]}/").status_code == 200


def test_a_known_phone_opens_a_ticket_and_mails_the_contact_and_finds_the_unit(
    client,
    team,
    customer,
    contact,
    smtp,
    django_capture_on_commit_callbacks,
    book,  # noqa: F811
):
    unit = InstalledUnit.objects.create(customer=customer, product=book.lathe, serial_number="NJ-2024-0117")
    _submit(client, django_capture_on_commit_callbacks, phone="+86 138-1234-5678", serial_number="nj-2024-0117")
    ticket = Ticket.objects.get()
    assert (ticket.customer, ticket.unit) == (customer, unit)
    assert "NJ-2024-0117" not in ticket.subject and "nj-2024-0117" in ticket.description
    assert [str(m["To"]) for m in smtp.messages] == ["li.ming@example.com"]


def test_an_unknown_address_reads_the_same_answer_and_leaves_only_a_request(
    client, team, customer, contact, smtp, django_capture_on_commit_callbacks
):
    known = _submit(client, django_capture_on_commit_callbacks, email="li.ming@example.com")
    known_page = _without_csrf(client.get(known["Location"]).content)
    PortalRequest.objects.all().delete()
    tickets, mails, links = Ticket.objects.count(), OutboxMail.objects.count(), FollowLink.objects.count()

    unknown = _submit(client, django_capture_on_commit_callbacks, email="nobody@example.com", phone="021-5555-0000")
    assert (unknown.status_code, unknown["Location"]) == (known.status_code, known["Location"])
    assert _without_csrf(client.get(unknown["Location"]).content) == known_page
    assert (Ticket.objects.count(), OutboxMail.objects.count(), FollowLink.objects.count()) == (tickets, mails, links)
    assert len(smtp.messages) == 1  # the known one's
    request = PortalRequest.objects.get()
    assert (request.state, request.email, request.phone, request.subject, request.ticket) == (
        PortalRequestState.UNMATCHED,
        "nobody@example.com",
        "021-5555-0000",
        "液压站漏油",
        None,
    )


def test_a_phone_of_two_customers_is_not_guessed(client, team, customer, contact, customer_of):
    other = customer_of(team.rep3, name="广州南方塑料制品厂")
    from kehu.customers.services import contact_create

    contact_create(customer=other, actor=team.rep3, name="王芳", mobile="13812345678")
    client.post("/help/request/", _form(phone="13812345678"))
    assert not Ticket.objects.exists()
    assert PortalRequest.objects.get().state == PortalRequestState.UNMATCHED


def test_bad_input_is_refused_in_the_visitors_language(client):
    response = client.post("/help/request/", _form(), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 400
    assert "请留下电话或电子邮件地址。" in response.content.decode()
    assert not PortalRequest.objects.exists()


def test_requests_are_limited_per_address_and_per_network(client, team, customer, contact):
    for _ in range(3):
        assert client.post("/help/request/", _form(email="li.ming@example.com")).status_code == 302
    limited = client.post("/help/request/", _form(email="li.ming@example.com"))
    assert limited.status_code == 429
    assert Ticket.objects.count() == 3
    for i in range(7):
        assert client.post("/help/request/", _form(email=f"x{i}@example.com")).status_code == 302
    assert client.post("/help/request/", _form(email="y@example.com")).status_code == 429
    assert PortalRequest.objects.count() == 10


def test_suggestions_follow_what_the_visitor_types(client, library):
    response = client.get(
        "/help/request/suggest/", {"subject": "液压站一直漏油", "description": ""}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "液压站漏油怎么办" in body and "主轴" not in body
    internal = client.get("/help/request/suggest/", {"subject": "主轴维修"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "内部" not in internal.content.decode() and "主轴异响" in internal.content.decode()
    assert client.get("/help/request/suggest/", {"subject": ""}).content.decode().strip() == ""


def test_this_solved_it_is_a_deflection_counted_once_per_visitor(client, team, library):
    first = client.post(f"/help/articles/{library.leak.pk}/solved/")
    assert first.status_code == 200 and "没有发送请求" not in first.content.decode()
    client.post(f"/help/articles/{library.leak.pk}/solved/")
    assert Deflection.objects.filter(article=library.leak).count() == 1
    assert ArticleFeedback.objects.get(article=library.leak).helpful is True
    assert not Ticket.objects.exists() and not PortalRequest.objects.exists()
    # Another visitor counts again; an internal article cannot be "solved" publicly.
    from django.test import Client

    Client().post(f"/help/articles/{library.leak.pk}/solved/")
    assert Deflection.objects.filter(article=library.leak).count() == 2
    assert client.post(f"/help/articles/{library.internal.pk}/solved/").status_code == 404
    assert not Deflection.objects.filter(article=library.internal).exists()
    # The editors see it on the knowledge base's page.
    client.force_login(team.service1)
    page = client.get("/service/knowledge/")
    assert page.context["totals"] == {"helpful": 2, "unhelpful": 0, "deflections": 2}
    row = next(a for a in page.context["articles"] if a.pk == library.leak.pk)
    assert (row.helpful_count, row.unhelpful_count, row.deflection_count) == (2, 0, 2)


def test_did_this_solve_it_counts_once_per_visitor_session(client, library):
    url = f"/help/articles/{library.spindle.pk}/feedback/"
    client.post(url, {"helpful": "yes"})
    client.post(url, {"helpful": "no"})  # changes the answer, does not add one
    assert list(ArticleFeedback.objects.values_list("helpful", flat=True)) == [False]
    page = client.get(f"/help/articles/{library.spindle.pk}/")
    assert page.context["answer"] is False
    assert client.post(f"/help/articles/{library.internal.pk}/feedback/", {"helpful": "yes"}).status_code == 404
    assert client.post(f"/help/articles/{library.draft.pk}/feedback/", {"helpful": "yes"}).status_code == 404
    assert ArticleFeedback.objects.count() == 1


def test_answers_are_rate_limited(client, library):
    url = f"/help/articles/{library.spindle.pk}/feedback/"
    for _ in range(60):
        client.post(url, {"helpful": "yes"})
    assert client.post(url, {"helpful": "yes"}).status_code == 429
