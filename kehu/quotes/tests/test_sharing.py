"""Share links: made by who may change the quote (an approved quote becomes sent), 14 days unless
told and at most 90, only the token's hash kept; the public page without a login shows the
document readably and nothing internal, counts views and notes the first one on the timeline
once; a revoked or expired link answers 410 in the visitor's language."""

from datetime import timedelta

import pytest
from django.utils import timezone

from kehu.customers.models import TimelineEntry
from kehu.quotes.events import QuoteEvent
from kehu.quotes.models import QuoteState, ShareLink
from kehu.quotes.sharing import VIEWED, share_link_create, share_link_revoke
from kehu.users.models import hash_token

from .document_fixtures import pdf_text, quote_of

pytestmark = pytest.mark.django_db
__all__ = ["quote_of"]


def _token(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[1]


def _make(client, user, quote, days=None):
    client.force_login(user)
    data = {} if days is None else {"days": days}
    return client.post(f"/quotes/{quote.pk}/share-links/", data | ({"days": 14} if days is None else {}))


def test_the_owner_makes_a_link_shown_once_and_only_its_hash_is_kept(client, team, quote_of):
    quote = quote_of(team.rep1)
    before = timezone.now()
    response = _make(client, team.rep1, quote)
    assert response.status_code == 201
    url = response.context["new_url"]
    token = _token(url)
    assert url == f"http://testserver/q/{token}/" and len(token) >= 43
    link = ShareLink.objects.get()
    assert link.token_hash == hash_token(token) and token not in link.token_hash
    assert before + timedelta(days=14) <= link.expires_at <= timezone.now() + timedelta(days=14)
    assert (link.created_by, link.view_count, link.revoked_at) == (team.rep1, 0, None)
    quote.refresh_from_db()
    assert quote.state == QuoteState.SENT
    kinds = list(TimelineEntry.objects.filter(customer=quote.customer).values_list("kind", flat=True))
    assert QuoteEvent.SHARED in kinds and QuoteEvent.SENT in kinds
    # The list does not show the token again.
    page = client.get(f"/quotes/{quote.pk}/share-links/").content.decode()
    assert token not in page and "rep1" in page


def test_a_link_lasts_1_to_90_days(client, team, quote_of):
    quote = quote_of(team.rep1)
    client.force_login(team.rep1)
    for days in (0, 91, "", "x"):
        response = client.post(f"/quotes/{quote.pk}/share-links/", {"days": days})
        assert response.status_code == 200
        assert response.context["form"].errors
    assert ShareLink.objects.count() == 0
    assert client.post(f"/quotes/{quote.pk}/share-links/", {"days": 90}).status_code == 201
    link = ShareLink.objects.get()
    assert timedelta(days=89, hours=23) < link.expires_at - link.created_at <= timedelta(days=90)
    with pytest.raises(Exception) as caught:
        share_link_create(quote=quote, actor=team.rep1, days=91)
    assert caught.value.message_dict == {"days": ["A link stays valid for 1 to 90 days."]}


@pytest.mark.parametrize("state", [QuoteState.DRAFT, QuoteState.PENDING])
def test_a_quote_not_yet_approved_cannot_be_shared(client, team, quote_of, state):
    quote = quote_of(team.rep1, state=state)
    response = _make(client, team.rep1, quote)
    assert response.status_code == 200
    assert "only an approved or sent quote can be shared" in response.content.decode()
    assert ShareLink.objects.count() == 0
    quote.refresh_from_db()
    assert quote.state == state


def test_the_public_page_opens_without_login_counts_views_and_shows_nothing_internal(client, team, quote_of):
    quote = quote_of(team.rep1)
    link, token = share_link_create(quote=quote, actor=team.rep1)
    client.logout()
    response = client.get(f"/q/{token}/", headers={"accept-language": "en"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "HX-160T 伺服节能型" in html and "362,237.01" in html and "叁拾陆万贰仟贰佰叁拾柒元零壹分" in html
    assert "Download PDF" in html and f"/q/{token}/pdf/?download=1" in html
    assert 'name="viewport"' in html
    for internal in ("main-menu", "navbar", "二批价格表", "134,400.00", "floor", "/customers/", "/quotes/"):
        assert internal not in html, internal
    assert response["X-Robots-Tag"] == "noindex, nofollow" and response["Referrer-Policy"] == "no-referrer"
    client.get(f"/q/{token}/")
    link.refresh_from_db()
    assert link.view_count == 2 and link.last_viewed_at is not None
    pdf = client.get(f"/q/{token}/pdf/?download=1")
    assert (pdf.status_code, pdf["Content-Type"]) == (200, "application/pdf")
    assert pdf["Content-Disposition"].startswith("attachment; ")
    assert "注塑机" in pdf_text(pdf.content)
    link.refresh_from_db()
    assert link.view_count == 2  # downloads are not views


def test_the_first_view_of_a_quote_is_noted_on_the_timeline_once(client, team, quote_of):
    quote = quote_of(team.rep1)
    _link, token = share_link_create(quote=quote, actor=team.rep1)
    _other, token2 = share_link_create(quote=quote, actor=team.rep1)
    for t in (token, token, token2):
        assert client.get(f"/q/{t}/").status_code == 200
    viewed = TimelineEntry.objects.filter(customer=quote.customer, kind=VIEWED.code)
    assert list(viewed.values_list("actor", "summary", "payload__quote")) == [(None, str(quote), quote.pk)]


def test_a_revoked_link_answers_410_in_the_visitor_language(client, team, quote_of):
    quote = quote_of(team.rep1)
    link, token = share_link_create(quote=quote, actor=team.rep1)
    client.force_login(team.rep1)
    response = client.post(f"/quotes/{quote.pk}/share-links/{link.pk}/revoke/")
    assert (response.status_code, response["Location"]) == (302, f"/quotes/{quote.pk}/share-links/")
    link.refresh_from_db()
    assert (link.revoked_by, link.revoked_at is not None) == (team.rep1, True)
    client.logout()
    zh = client.get(f"/q/{token}/", headers={"accept-language": "zh-CN,zh;q=0.9"})
    assert zh.status_code == 410
    assert "链接已失效" in zh.content.decode() and "注塑机" not in zh.content.decode()
    en = client.get(f"/q/{token}/", headers={"accept-language": "en-US,en;q=0.9"})
    assert en.status_code == 410 and "This link no longer works" in en.content.decode()
    assert client.get(f"/q/{token}/pdf/").status_code == 410
    link.refresh_from_db()
    assert link.view_count == 0
    kinds = TimelineEntry.objects.filter(customer=quote.customer, kind=QuoteEvent.SHARE_REVOKED)
    assert kinds.count() == 1
    # Revoking again changes nothing and records nothing.
    share_link_revoke(link=link, actor=team.manager1)
    link.refresh_from_db()
    assert (link.revoked_by, kinds.count()) == (team.rep1, 1)


def test_an_expired_link_answers_410_and_counts_nothing(client, team, quote_of):
    quote = quote_of(team.rep1)
    link, token = share_link_create(quote=quote, actor=team.rep1, days=1)
    ShareLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get(f"/q/{token}/", headers={"accept-language": "en"})
    assert response.status_code == 410 and "This link no longer works" in response.content.decode()
    assert client.get(f"/q/{token}/pdf/").status_code == 410
    link.refresh_from_db()
    assert link.view_count == 0
    client.force_login(team.rep1)
    page = client.get(f"/quotes/{quote.pk}/share-links/", headers={"accept-language": "en"}).content.decode()
    assert ">expired<" in page and "Revoke</button>" not in page


def test_an_unknown_token_is_404_and_a_deleted_quote_link_too(client, team, quote_of):
    assert client.get("/q/no-such-token/").status_code == 404
    assert client.get("/q/" + "x" * 300 + "/").status_code == 404
    quote = quote_of(team.rep1)
    _link, token = share_link_create(quote=quote, actor=team.rep1)
    type(quote).objects.filter(pk=quote.pk).update(deleted_at=timezone.now())
    assert client.get(f"/q/{token}/").status_code == 404


@pytest.mark.parametrize("who", ["rep2", "rep3"])
def test_a_rep_who_does_not_see_the_quote_cannot_share_or_revoke(client, team, quote_of, who):
    quote = quote_of(team.rep1)
    link, _token = share_link_create(quote=quote, actor=team.rep1)
    client.force_login(getattr(team, who))
    assert client.get(f"/quotes/{quote.pk}/share-links/").status_code == 404
    assert client.post(f"/quotes/{quote.pk}/share-links/", {"days": 14}).status_code == 404
    assert client.post(f"/quotes/{quote.pk}/share-links/{link.pk}/revoke/").status_code == 404
    link.refresh_from_db()
    assert (ShareLink.objects.count(), link.revoked_at) == (1, None)


def test_anonymous_cannot_share_or_revoke(client, team, quote_of):
    quote = quote_of(team.rep1)
    link, _token = share_link_create(quote=quote, actor=team.rep1)
    for path in (f"/quotes/{quote.pk}/share-links/", f"/quotes/{quote.pk}/share-links/{link.pk}/revoke/"):
        response = client.post(path, {"days": 14})
        assert (response.status_code, response["Location"].split("?")[0]) == (302, "/accounts/login/")
    link.refresh_from_db()
    assert (ShareLink.objects.count(), link.revoked_at) == (1, None)


def test_an_account_team_member_reads_the_links_but_changes_nothing(client, team, quote_of):
    from kehu.customers.teams import team_member_add

    quote = quote_of(team.rep1)
    link, _token = share_link_create(quote=quote, actor=team.rep1)
    team_member_add(customer=quote.customer, user=team.rep3, actor=team.manager1, role="technical_support")
    client.force_login(team.rep3)
    page = client.get(f"/quotes/{quote.pk}/share-links/")
    assert page.status_code == 200 and "Make a link" not in page.content.decode()
    assert client.post(f"/quotes/{quote.pk}/share-links/", {"days": 14}).status_code == 403
    assert client.post(f"/quotes/{quote.pk}/share-links/{link.pk}/revoke/").status_code == 403
    link.refresh_from_db()
    assert (ShareLink.objects.count(), link.revoked_at) == (1, None)


def test_the_manager_shares_and_revokes_the_rep_quote(client, team, quote_of):
    quote = quote_of(team.rep1)
    response = _make(client, team.manager1, quote)
    assert response.status_code == 201
    link = ShareLink.objects.get()
    assert link.created_by == team.manager1
    assert client.post(f"/quotes/{quote.pk}/share-links/{link.pk}/revoke/").status_code == 302
    link.refresh_from_db()
    assert link.revoked_by == team.manager1


def test_a_link_of_another_quote_cannot_be_revoked_through_this_one(client, team, quote_of, customer_of):
    mine = quote_of(team.rep1)
    other = quote_of(team.rep1, customer=customer_of(team.rep1, name="杭州客户"), number="Q-OTHER")
    link, _token = share_link_create(quote=other, actor=team.rep1)
    client.force_login(team.rep1)
    assert client.post(f"/quotes/{mine.pk}/share-links/{link.pk}/revoke/").status_code == 404
    link.refresh_from_db()
    assert link.revoked_at is None


def test_the_list_shows_who_when_views_and_runs_a_fixed_number_of_queries(
    client, team, quote_of, django_assert_max_num_queries
):
    quote = quote_of(team.rep1)
    for _ in range(3):
        share_link_create(quote=quote, actor=team.rep1)
    link, token = share_link_create(quote=quote, actor=team.manager1)
    client.get(f"/q/{token}/")
    client.force_login(team.rep1)
    with django_assert_max_num_queries(7):
        first = client.get(f"/quotes/{quote.pk}/share-links/", headers={"accept-language": "en"})
    for _ in range(30):
        share_link_create(quote=quote, actor=team.manager1)
    with django_assert_max_num_queries(7):
        page = client.get(f"/quotes/{quote.pk}/share-links/", headers={"accept-language": "en"})
    html = first.content.decode()
    assert html.count(">active<") == 4 and "manager1" in html
    assert len(page.context["page"].rows) == 25 and page.context["page"].has_next
    older = client.get(f"/quotes/{quote.pk}/share-links/?offset=25")
    assert len(older.context["page"].rows) == 9
