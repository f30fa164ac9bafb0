"""The document pages for people who see the quote: the HTML preview and the PDF (anonymous:
to the login; a rep who does not see the quote: 404; owner and manager: the document)."""

import pytest

from .document_fixtures import pdf_text, quote_of

pytestmark = pytest.mark.django_db
__all__ = ["quote_of"]


def _get(client, user, path, **extra):
    if user is not None:
        client.force_login(user)
    return client.get(path, **extra)


@pytest.mark.parametrize("who", [None, "rep2", "rep3"])
def test_who_does_not_see_the_quote_gets_no_document(client, team, quote_of, who):
    quote = quote_of(team.rep1)
    user = getattr(team, who) if who else None
    for path in (f"/quotes/{quote.pk}/document/", f"/quotes/{quote.pk}/document/pdf/"):
        response = _get(client, user, path)
        if user is None:
            assert (response.status_code, response["Location"].split("?")[0]) == (302, "/accounts/login/")
        else:
            assert response.status_code == 404
            assert b"%PDF" not in response.content and "注塑机" not in response.content.decode()


@pytest.mark.parametrize("who", ["rep1", "manager1", "gm"])
def test_the_owner_and_managers_read_the_preview_and_the_pdf(client, team, quote_of, who):
    quote = quote_of(team.rep1)
    user = getattr(team, who)
    page = _get(client, user, f"/quotes/{quote.pk}/document/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "HX-160T 伺服节能型" in html and "362,237.01" in html and "叁拾陆万贰仟贰佰叁拾柒元零壹分" in html
    pdf = client.get(f"/quotes/{quote.pk}/document/pdf/")
    assert (pdf.status_code, pdf["Content-Type"]) == (200, "application/pdf")
    assert pdf["Content-Disposition"] == (
        "inline; filename=\"___ Q-2026-0001.pdf\"; filename*=UTF-8''%E6%8A%A5%E4%BB%B7%E5%8D%95%20Q-2026-0001.pdf"
    )
    assert "注塑机" in pdf_text(pdf.content)
    download = client.get(f"/quotes/{quote.pk}/document/pdf/?download=1")
    assert download["Content-Disposition"].startswith("attachment; ")


def test_the_preview_offers_sharing_and_mail_only_to_who_may_change_the_quote(client, team, quote_of):
    from kehu.customers.teams import team_member_add

    quote = quote_of(team.rep1)
    team_member_add(customer=quote.customer, user=team.rep2, actor=team.manager1, role="technical_support")
    reader = _get(client, team.rep2, f"/quotes/{quote.pk}/document/").content.decode()
    assert "注塑机" in reader
    assert f"/quotes/{quote.pk}/share-links/" not in reader and f"/quotes/{quote.pk}/email/" not in reader
    owner = _get(client, team.rep1, f"/quotes/{quote.pk}/document/").content.decode()
    assert f"/quotes/{quote.pk}/share-links/" in owner and f"/quotes/{quote.pk}/email/" in owner


def test_a_draft_preview_says_it_cannot_be_sent(client, team, quote_of):
    quote = quote_of(team.rep1, state="draft")
    html = _get(client, team.rep1, f"/quotes/{quote.pk}/document/", headers={"accept-language": "en"}).content.decode()
    assert "This quote is not approved yet" in html
    assert 'class="qd-watermark"' in html and ">草稿<" in html


def test_a_deleted_quote_has_no_document(client, team, quote_of):
    from django.utils import timezone

    quote = quote_of(team.rep1)
    type(quote).objects.filter(pk=quote.pk).update(deleted_at=timezone.now())
    assert _get(client, team.rep1, f"/quotes/{quote.pk}/document/pdf/").status_code == 404


def test_the_preview_runs_a_fixed_number_of_queries(client, team, quote_of, customer_of, django_assert_max_num_queries):
    from kehu.users.models import CompanySettings

    from .document_fixtures import make_quote, many_rows

    small = quote_of(team.rep1)
    big = make_quote(team.rep1, customer_of(team.rep1, name="上海大客户"), rows=many_rows(200), number="Q-BIG")
    CompanySettings.load()  # the installation's row exists (made once, by the set-up)
    client.force_login(team.rep1)
    for quote in (small, big):
        # session, user, account-team shares, quote, template, company settings, lines, notification bell
        with django_assert_max_num_queries(8):
            assert client.get(f"/quotes/{quote.pk}/document/").status_code == 200
