"""The document's API under /api/v1/quotes: the PDF, share links and e-mail; 4xx answers carry a
body that says what is wrong, and a refused write changes nothing."""

import pytest

from kehu.core.models import OutboxMail
from kehu.quotes.models import QuoteState, ShareLink
from kehu.users.models import hash_token

from .document_fixtures import pdf_text, quote_of

pytestmark = pytest.mark.django_db
__all__ = ["quote_of"]
API = "/api/v1/quotes"


def test_the_pdf(api_client, team, quote_of):
    quote = quote_of(team.rep1)
    response = api_client(team.rep1).get(f"{API}/{quote.pk}/pdf")
    assert (response.status_code, response["Content-Type"]) == (200, "application/pdf")
    assert response["Content-Disposition"].startswith("attachment; ")
    assert "注塑机" in pdf_text(response.content)
    assert api_client(team.manager1).get(f"{API}/{quote.pk}/pdf").status_code == 200


@pytest.mark.parametrize("who", ["rep2", "rep3"])
def test_who_does_not_see_the_quote_gets_404_with_a_body(api_client, team, quote_of, who):
    quote = quote_of(team.rep1)
    link = ShareLink.objects.create(quote=quote, token_hash="h", expires_at="2099-01-01T00:00:00Z")
    client = api_client(getattr(team, who))
    for response in (
        client.get(f"{API}/{quote.pk}/pdf"),
        client.get(f"{API}/{quote.pk}/share-links"),
        client.post(f"{API}/{quote.pk}/share-links", {"days": 14}),
        client.post(f"{API}/{quote.pk}/share-links/{link.pk}/revoke"),
        client.post(f"{API}/{quote.pk}/email", {"to": ["a@example.com"], "subject": "x", "message": "y"}),
    ):
        assert (response.status_code, response.json()) == (404, {"detail": "Not found."})
    link.refresh_from_db()
    assert (ShareLink.objects.count(), link.revoked_at, OutboxMail.objects.count()) == (1, None, 0)


def test_anonymous_gets_401(api_client, team, quote_of):
    quote = quote_of(team.rep1)
    response = api_client().post(f"{API}/{quote.pk}/share-links", {"days": 14})
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication required: send a valid bearer token."}
    assert api_client().get(f"{API}/{quote.pk}/pdf").status_code == 401
    assert ShareLink.objects.count() == 0


def test_make_list_and_revoke_a_link(api_client, team, quote_of, client):
    quote = quote_of(team.rep1)
    api = api_client(team.rep1)
    response = api.post(f"{API}/{quote.pk}/share-links", {"days": 30})
    assert response.status_code == 201
    body = response.json()
    token = body["url"].rstrip("/").rsplit("/", 1)[1]
    assert body["url"] == f"http://testserver/q/{token}/"
    assert (body["state"], body["view_count"], body["created_by_name"], body["quote_id"]) == (
        "active", 0, "rep1", quote.pk,
    )  # fmt: skip
    assert ShareLink.objects.get().token_hash == hash_token(token)
    quote.refresh_from_db()
    assert quote.state == QuoteState.SENT
    client.get(f"/q/{token}/")
    listed = api.get(f"{API}/{quote.pk}/share-links").json()
    assert (listed["count"], listed["has_next"], listed["items"][0]["view_count"]) == (1, False, 1)
    assert "url" not in listed["items"][0] and token not in str(listed)
    revoked = api.post(f"{API}/{quote.pk}/share-links/{body['id']}/revoke")
    assert (revoked.status_code, revoked.json()["state"]) == (200, "revoked")
    assert client.get(f"/q/{token}/").status_code == 410


def test_a_bad_number_of_days_is_422_with_the_field(api_client, team, quote_of):
    quote = quote_of(team.rep1)
    for days in (0, 91, "many"):
        response = api_client(team.rep1).post(f"{API}/{quote.pk}/share-links", {"days": days})
        assert response.status_code == 422
        body = response.json()
        assert body["detail"] == "Invalid input." and body["errors"][0]["loc"][-1] == "days"
    assert ShareLink.objects.count() == 0


def test_a_draft_cannot_be_shared_or_mailed_409(api_client, team, quote_of, smtp):
    quote = quote_of(team.rep1, state=QuoteState.DRAFT)
    api = api_client(team.rep1)
    for response in (
        api.post(f"{API}/{quote.pk}/share-links", {}),
        api.post(f"{API}/{quote.pk}/email", {"to": ["a@example.com"], "subject": "x", "message": "y"}),
    ):
        assert response.status_code == 409
        assert response.json() == {
            "detail": "Only an approved or sent quote can go to the customer; this quote is draft.",
            "errors": {},
        }
    quote.refresh_from_db()
    assert (quote.state, ShareLink.objects.count(), OutboxMail.objects.count()) == ("draft", 0, 0)


def test_an_account_team_member_gets_403_and_changes_nothing(api_client, team, quote_of):
    from kehu.customers.teams import team_member_add

    quote = quote_of(team.rep1)
    team_member_add(customer=quote.customer, user=team.rep3, actor=team.manager1, role="technical_support")
    api = api_client(team.rep3)
    assert api.get(f"{API}/{quote.pk}/pdf").status_code == 200
    response = api.post(f"{API}/{quote.pk}/share-links", {})
    assert (response.status_code, response.json()) == (403, {"detail": "You may not do this."})
    assert ShareLink.objects.count() == 0


def test_email_through_the_api(api_client, team, quote_of, smtp, django_capture_on_commit_callbacks):
    quote = quote_of(team.rep1)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client(team.manager1).post(
            f"{API}/{quote.pk}/email",
            {"to": ["buyer@example.com"], "cc": ["boss@example.com"], "subject": "Quote", "message": "Hello",
             "language": "en"},
        )  # fmt: skip
    assert response.status_code == 201
    body = response.json()
    assert body == {
        "mail_id": OutboxMail.objects.get().pk,
        "quote_id": quote.pk,
        "state": "sent",
        "to": ["buyer@example.com"],
        "cc": ["boss@example.com"],
        "attachment": "Quote Q-2026-0001.pdf",
    }
    (received,) = smtp.messages
    assert "Quote number" in pdf_text(next(received.iter_attachments()).get_content())


def test_email_input_errors_are_field_errors(api_client, team, quote_of):
    quote = quote_of(team.rep1)
    api = api_client(team.rep1)
    response = api.post(f"{API}/{quote.pk}/email", {"to": ["not-an-address"], "subject": "x", "message": "y"})
    assert response.status_code == 400
    assert response.json()["errors"] == {"to": ["“not-an-address” is not an e-mail address."]}
    response = api.post(f"{API}/{quote.pk}/email", {"to": [], "subject": "x", "message": "y"})
    assert response.status_code == 422
    response = api.post(f"{API}/{quote.pk}/email", {"to": ["a@example.com"], "subject": "x\x00", "message": "y"})
    assert response.status_code == 422
    assert OutboxMail.objects.count() == 0
