"""E-mailing a quote: the form starts with the contact's address; the mail goes through the
outbox to a real SMTP server on loopback with the PDF attached (readable: its text is the quote's),
the quote moves approved → sent through quote_mark_sent and the timeline shows the mail. A draft or
a quote awaiting approval cannot be sent; who may not change the quote sends nothing."""

import pytest
from django.test import Client

from kehu.core.models import MailStatus, OutboxMail
from kehu.customers.models import TimelineEntry
from kehu.customers.services import contact_create
from kehu.quotes.events import QuoteEvent
from kehu.quotes.models import QuoteState

from .document_fixtures import pdf_text, quote_of

pytestmark = pytest.mark.django_db
__all__ = ["quote_of"]


@pytest.fixture
def quote(team, customer_of, quote_of):
    customer = customer_of(team.rep1)
    contact = contact_create(customer=customer, actor=team.rep1, name="张伟", email="zhang@example.com")
    return quote_of(team.rep1, customer=customer, contact=contact)


def _form(**extra):
    return {
        "language": "zh-hans",
        "to": "zhang@example.com",
        "cc": "",
        "subject": "报价单 Q-2026-0001",
        "message": "张经理您好：\n附件是报价单，请查收。",
    } | extra


def test_the_form_starts_with_the_contact_address_and_a_message(client, team, quote):
    client.force_login(team.rep1)
    form = client.get(f"/quotes/{quote.pk}/email/").context["form"]
    assert form.initial["to"] == "zhang@example.com"
    assert form.initial["language"] == "zh-hans"
    assert form.initial["subject"] == "报价单 Q-2026-0001"
    assert form.initial["message"].startswith("张伟，您好：\n\n附件是我司的报价单 Q-2026-0001")
    assert "含税合计 CNY 362,237.01" in form.initial["message"]
    english = client.get(f"/quotes/{quote.pk}/email/?language=en").context["form"]
    assert english.initial["language"] == "en"
    assert english.initial["subject"] == "Quote Q-2026-0001"
    assert english.initial["message"].startswith("Dear 张伟,\n\nplease find attached our quote Q-2026-0001")


def test_the_mail_goes_out_with_the_pdf_and_the_quote_is_sent(
    client, team, quote, smtp, django_capture_on_commit_callbacks
):
    client.force_login(team.rep1)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/quotes/{quote.pk}/email/", _form(cc="boss@example.com; buyer2@example.com"))
    assert response.status_code == 302
    mail = OutboxMail.objects.get()
    assert (mail.status, mail.recipients, mail.cc_recipients, mail.reply_to) == (
        MailStatus.SENT, ["zhang@example.com"], ["boss@example.com", "buyer2@example.com"], "rep1@example.com",
    )  # fmt: skip
    (received,) = smtp.messages
    assert (str(received["To"]), str(received["Cc"]), str(received["Subject"])) == (
        "zhang@example.com",
        "boss@example.com, buyer2@example.com",
        "报价单 Q-2026-0001",
    )
    body, attachment = received.iter_parts()
    assert body.get_content().splitlines() == ["张经理您好：", "附件是报价单，请查收。"]
    assert (attachment.get_filename(), attachment.get_content_type()) == ("报价单 Q-2026-0001.pdf", "application/pdf")
    text = pdf_text(attachment.get_content())
    assert "报价单号" in text and "注塑机" in text and "362,237.01" in text and "叁拾陆万贰仟贰佰叁拾柒元零壹分" in text
    quote.refresh_from_db()
    assert quote.state == QuoteState.SENT and quote.sent_at is not None
    emailed = TimelineEntry.objects.get(customer=quote.customer, kind=QuoteEvent.EMAILED)
    assert (emailed.actor, emailed.payload["mail"], emailed.payload["to"], emailed.payload["attachment"]) == (
        team.rep1, mail.pk, ["zhang@example.com"], "报价单 Q-2026-0001.pdf",
    )  # fmt: skip
    assert emailed.summary == "报价单 Q-2026-0001 → zhang@example.com, boss@example.com, buyer2@example.com"
    assert TimelineEntry.objects.filter(customer=quote.customer, kind=QuoteEvent.SENT).count() == 1


def test_the_chosen_language_decides_the_attached_document(
    client, team, quote, smtp, django_capture_on_commit_callbacks
):
    client.force_login(team.rep1)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/quotes/{quote.pk}/email/", _form(language="en", subject="Quote Q-2026-0001"))
    (received,) = smtp.messages
    attachment = next(received.iter_attachments())
    assert attachment.get_filename() == "Quote Q-2026-0001.pdf"
    text = pdf_text(attachment.get_content())
    assert "Quote number" in text and "RMB 叁拾陆万贰仟贰佰叁拾柒元零壹分" in text


def test_a_sent_quote_can_be_mailed_again(client, team, quote, smtp, django_capture_on_commit_callbacks):
    client.force_login(team.rep1)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/quotes/{quote.pk}/email/", _form())
        client.post(f"/quotes/{quote.pk}/email/", _form(to="li@example.com"))
    assert [str(m["To"]) for m in smtp.messages] == ["zhang@example.com", "li@example.com"]
    quote.refresh_from_db()
    assert quote.state == QuoteState.SENT
    assert TimelineEntry.objects.filter(customer=quote.customer, kind=QuoteEvent.EMAILED).count() == 2


@pytest.mark.parametrize("state", [QuoteState.DRAFT, QuoteState.PENDING])
def test_a_quote_not_yet_approved_is_not_sent(client, team, customer_of, quote_of, smtp, state):
    quote = quote_of(team.rep1, state=state)
    client.force_login(team.rep1)
    page = client.get(f"/quotes/{quote.pk}/email/", headers={"accept-language": "en"}).content.decode()
    assert "only an approved or sent quote can be e-mailed" in page
    response = client.post(f"/quotes/{quote.pk}/email/", _form())
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        f"Only an approved or sent quote can go to the customer; this quote is {quote.get_state_display().lower()}."
    ]
    quote.refresh_from_db()
    assert (quote.state, OutboxMail.objects.count(), smtp.messages) == (state, 0, [])
    assert not TimelineEntry.objects.filter(kind__in=[QuoteEvent.EMAILED, QuoteEvent.SENT]).exists()


def test_bad_addresses_and_an_empty_subject_are_refused(client, team, quote, smtp):
    client.force_login(team.rep1)
    response = client.post(f"/quotes/{quote.pk}/email/", _form(to="not-an-address", cc="x@", subject=" "))
    errors = response.context["form"].errors
    assert errors["to"] == ["“not-an-address” is not an e-mail address."]
    assert errors["cc"] == ["“x@” is not an e-mail address."]
    assert errors["subject"] == ["This field is required."]
    eleven = ", ".join(f"p{i}@example.com" for i in range(11))
    response = client.post(f"/quotes/{quote.pk}/email/", _form(to=eleven))
    assert response.context["form"].errors["to"] == ["Send to at most 10 addresses at once."]
    quote.refresh_from_db()
    assert (quote.state, OutboxMail.objects.count(), smtp.messages) == (QuoteState.APPROVED, 0, [])


@pytest.mark.parametrize("who", [None, "rep2", "rep3", "service1"])
def test_who_may_not_change_the_quote_sends_nothing(team, quote, smtp, who):
    client = Client()
    if who:
        client.force_login(getattr(team, who))
    for response in (client.get(f"/quotes/{quote.pk}/email/"), client.post(f"/quotes/{quote.pk}/email/", _form())):
        if who is None:
            assert (response.status_code, response["Location"].split("?")[0]) == (302, "/accounts/login/")
        else:
            assert response.status_code == 404
    quote.refresh_from_db()
    assert (quote.state, OutboxMail.objects.count(), smtp.messages) == (QuoteState.APPROVED, 0, [])


def test_an_account_team_member_reads_but_may_not_mail(client, team, quote, smtp):
    from kehu.customers.teams import team_member_add

    team_member_add(customer=quote.customer, user=team.rep3, actor=team.manager1, role="technical_support")
    client.force_login(team.rep3)
    assert client.get(f"/quotes/{quote.pk}/document/").status_code == 200
    assert client.post(f"/quotes/{quote.pk}/email/", _form()).status_code == 403
    assert (OutboxMail.objects.count(), smtp.messages) == (0, [])


def test_the_manager_mails_the_rep_quote(client, team, quote, smtp, django_capture_on_commit_callbacks):
    client.force_login(team.manager1)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/quotes/{quote.pk}/email/", _form()).status_code == 302
    (received,) = smtp.messages
    assert str(received["Reply-To"]) == "manager1@example.com"
