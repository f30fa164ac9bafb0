"""The knowledge base's pages and the self-service page's permissions: anonymous visitors reach only the
public pages (published public articles and their files); readers read, editors write; a denied write
changes nothing; attachments are checked and served only where the article is visible; suggestions on
the ticket intake and the ticket page, sending an article's link; the requests to match."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from kehu.support import kb_services
from kehu.support.models import (
    Article,
    ArticleAttachment,
    ArticleState,
    FollowLink,
    MessageDirection,
    PortalRequest,
    PortalRequestState,
    Ticket,
)
from kehu.support.tests.kb_setup import Library
from kehu.support.tests.tickets_setup import Desk

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(team, customer_of):
    return Desk(team, customer_of)


@pytest.fixture
def library(team):
    return Library(team.service1)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _pdf(name="说明书.pdf", size=100):
    return SimpleUploadedFile(name, b"%PDF-1.4\n" + b"x" * size, content_type="application/pdf")


def test_anonymous_visitors_reach_only_the_public_pages(client, library):
    for path in ("/help/", "/help/?q=漏油", "/help/request/", f"/help/articles/{library.leak.pk}/"):
        assert client.get(path).status_code == 200, path
    for article in (library.internal, library.draft):
        assert client.get(f"/help/articles/{article.pk}/").status_code == 404
    for path in ("/service/knowledge/", f"/service/knowledge/{library.leak.pk}/", "/service/self-service-requests/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), path
    assert client.get("/api/v1/service/knowledge/articles").status_code == 401


def test_the_public_list_never_shows_internal_articles(client, library):
    body = client.get("/help/?q=主轴", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "主轴异响" in body and "主轴维修工时" not in body


def test_the_reader_language_comes_first_and_the_other_is_the_fallback(client, library):
    english = client.get(f"/help/articles/{library.leak.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Hydraulic unit leaking oil" in english and "<li>Check the hose fittings</li>" in english
    chinese = client.get(f"/help/articles/{library.leak.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "液压站漏油怎么办" in chinese and "<li>检查油管接头</li>" in chinese
    only_chinese = client.get(f"/help/articles/{library.spindle.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "主轴异响" in only_chinese


def test_the_text_is_escaped(client, team):
    article = kb_services.article_create(
        actor=team.service1, title_zh="<b>标题</b>", body_zh="<script>alert(1)</script>\n- <i>一</i>", is_public=True
    )
    kb_services.article_transition(article=article, actor=team.service1, to=ArticleState.PUBLISHED)
    body = client.get(f"/help/articles/{article.pk}/").content.decode()
    assert "<script>alert(1)" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<li>&lt;i&gt;一&lt;/i&gt;</li>" in body and "&lt;b&gt;标题&lt;/b&gt;" in body


@pytest.mark.parametrize(
    ("who", "list_status", "create_status"),
    [("marketing1", 403, 403), ("rep1", 200, 403), ("manager1", 200, 403), ("service1", 200, 200), ("admin", 200, 200)],
)
def test_who_reads_and_who_writes(client, team, library, who, list_status, create_status):
    client.force_login(getattr(team, who))
    assert client.get("/service/knowledge/").status_code == list_status
    assert client.get("/service/knowledge/new/").status_code == create_status
    before = Article.objects.count()
    response = client.post("/service/knowledge/new/", {"title_zh": "新文章", "body_zh": "内容"})
    assert Article.objects.count() == before + (1 if create_status == 200 else 0)
    if create_status != 200:
        assert response.status_code == 403
        edit = client.post(f"/service/knowledge/{library.leak.pk}/edit/", {"title_zh": "改了"})
        assert edit.status_code in (403, 404)
        state = client.post(f"/service/knowledge/{library.leak.pk}/state/", {"to": "archived"})
        assert state.status_code in (403, 404)
        library.leak.refresh_from_db()
        assert (library.leak.title_zh, library.leak.state) == ("液压站漏油怎么办", ArticleState.PUBLISHED)


def test_readers_do_not_see_drafts(client, team, library):
    client.force_login(team.rep1)
    assert client.get(f"/service/knowledge/{library.draft.pk}/").status_code == 404
    assert client.get(f"/service/knowledge/{library.internal.pk}/").status_code == 200


def test_an_editor_writes_publishes_and_archives(client, team):
    client.force_login(team.service1)
    response = client.post(
        "/service/knowledge/new/", {"title_en": "Coolant pump", "body_en": "Clean the filter.", "is_public": "on"}
    )
    article = Article.objects.get()
    assert response["Location"] == f"/service/knowledge/{article.pk}/"
    assert (article.state, article.is_public, article.search_text) == ("draft", True, "coolant pump clean the filter.")
    assert client.get(f"/help/articles/{article.pk}/").status_code == 404
    client.post(f"/service/knowledge/{article.pk}/state/", {"to": "published"})
    assert client.get(f"/help/articles/{article.pk}/").status_code == 200
    client.post(f"/service/knowledge/{article.pk}/state/", {"to": "archived"})
    assert client.get(f"/help/articles/{article.pk}/").status_code == 404


def test_an_article_needs_a_title_in_one_language(client, team):
    client.force_login(team.service1)
    response = client.post("/service/knowledge/new/", {"body_zh": "只有内容"})
    assert response.status_code == 200
    assert response.context["form"].errors == {"title_zh": ["Give the article a title in Chinese or in English."]}
    assert not Article.objects.exists()


def test_a_stale_edit_is_refused(client, team, library):
    client.force_login(team.service1)
    response = client.post(
        f"/service/knowledge/{library.leak.pk}/edit/",
        {"title_zh": "改过的标题", "version": library.leak.version - 1},
    )
    assert response.status_code == 200 and "Someone else changed this article" in response.content.decode()
    library.leak.refresh_from_db()
    assert library.leak.title_zh == "液压站漏油怎么办"


def test_attachments_are_checked_and_served_only_where_the_article_is_visible(client, team, library, media):
    client.force_login(team.service1)
    client.post(f"/service/knowledge/{library.leak.pk}/attachments/", {"file": _pdf()})
    client.post(f"/service/knowledge/{library.internal.pk}/attachments/", {"file": _pdf("内部.pdf")})
    bad = client.post(
        f"/service/knowledge/{library.leak.pk}/attachments/",
        {"file": SimpleUploadedFile("run.exe", b"MZ", content_type="application/octet-stream")},
        follow=True,
    )
    assert "Attach PDF, pictures, text, Word, Excel or MP4 files" in bad.content.decode()
    public, internal = ArticleAttachment.objects.order_by("pk")
    assert (public.name, public.content_type, public.size) == ("说明书.pdf", "application/pdf", 109)
    client.logout()
    served = client.get(f"/help/articles/{library.leak.pk}/files/{public.pk}/")
    assert served.status_code == 200 and served["X-Content-Type-Options"] == "nosniff"
    assert b"".join(served.streaming_content).startswith(b"%PDF-1.4")
    assert client.get(f"/help/articles/{library.internal.pk}/files/{internal.pk}/").status_code == 404
    assert client.get(f"/help/articles/{library.leak.pk}/files/{internal.pk}/").status_code == 404
    client.force_login(team.rep1)
    assert client.get(f"/service/knowledge/{library.internal.pk}/attachments/{internal.pk}/").status_code == 200


def test_a_big_file_is_refused(team, library, media, settings):
    from django.core.exceptions import ValidationError

    big = SimpleUploadedFile("big.pdf", b"0", content_type="application/pdf")
    big.size = kb_services.ATTACHMENT_MAX_BYTES + 1
    with pytest.raises(ValidationError) as refused:
        kb_services.attachment_add(article=library.leak, actor=team.service1, upload=big)
    assert refused.value.message_dict == {"file": ["A file may have at most 20 MB."]}
    assert not ArticleAttachment.objects.exists()


def test_the_list_reads_in_a_fixed_number_of_queries(client, team, library, django_assert_max_num_queries):
    for i in range(30):
        kb_services.article_create(actor=team.service1, title_zh=f"文章 {i}", body_zh="内容")
    client.force_login(team.service1)
    with django_assert_max_num_queries(14):
        response = client.get("/service/knowledge/")
    assert len(response.context["articles"]) == 25


def test_the_intake_form_suggests_articles_as_the_subject_is_typed(client, desk, library):
    client.force_login(desk.team.service1)
    form = client.get(f"/service/tickets/new/?customer={desk.mine.pk}").content.decode()
    assert 'id="kb-suggest-box"' in form and 'hx-get="/service/knowledge/suggest/"' in form
    found = client.get("/service/knowledge/suggest/", {"subject": "主轴异响"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert list(found.context["articles"]) == [library.spindle]
    found = client.get("/service/knowledge/suggest/", {"subject": "主轴"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert list(found.context["articles"]) == [library.internal, library.spindle]  # staff read internal ones too
    client.force_login(desk.team.marketing1)
    assert client.get("/service/knowledge/suggest/", {"subject": "主轴"}).status_code == 403


def test_the_ticket_page_suggests_articles_and_sends_a_link_to_the_customer(client, desk, library):
    ticket = desk.open(subject="液压站漏油")
    client.force_login(desk.team.service1)
    page = client.get(f"/service/tickets/{ticket.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="kb-panel"' in page and "Hydraulic unit leaking oil" in page
    response = client.post(f"/service/tickets/{ticket.pk}/send-article/", {"article": library.leak.pk})
    assert response.status_code == 302
    message = ticket.messages.get()
    assert (message.direction, message.author) == (MessageDirection.OUT, desk.team.service1)
    assert f"http://testserver/help/articles/{library.leak.pk}/" in message.body
    # An internal article does not go to the customer; nor does anyone who may not change the ticket send.
    client.post(f"/service/tickets/{ticket.pk}/send-article/", {"article": library.internal.pk})
    client.force_login(desk.engineer)
    client.post(f"/service/tickets/{ticket.pk}/send-article/", {"article": library.spindle.pk})
    assert ticket.messages.count() == 1


def test_a_request_to_match_opens_the_ticket_and_mails_the_link(client, desk, smtp, django_capture_on_commit_callbacks):
    from django.test import Client

    Client().post(
        "/help/request/", {"email": "new.buyer@example.com", "subject": "主轴异响", "name": "赵工", "phone": ""}
    )
    request = PortalRequest.objects.get()
    client.force_login(desk.team.marketing1)
    assert client.get("/service/self-service-requests/").status_code == 403
    client.force_login(desk.team.rep1)
    listed = client.get("/service/self-service-requests/")
    assert list(listed.context["requests"]) == [request]
    found = client.get(f"/service/self-service-requests/{request.pk}/", {"q": "宁波"})
    assert list(found.context["customers"]) == [desk.mine]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/service/self-service-requests/{request.pk}/", {"customer": desk.mine.pk})
    ticket = Ticket.objects.get()
    assert response["Location"] == f"/service/tickets/{ticket.pk}/"
    assert (ticket.customer, ticket.channel, ticket.owner) == (desk.mine, "self_service", desk.team.rep1)
    request.refresh_from_db()
    assert (request.state, request.ticket, request.handled_by) == (PortalRequestState.MATCHED, ticket, desk.team.rep1)
    assert FollowLink.objects.get().email == "new.buyer@example.com"
    assert [str(m["To"]) for m in smtp.messages] == ["new.buyer@example.com"]
    # Handled once only; another rep cannot open it for a customer they do not see.
    again = client.post(f"/service/self-service-requests/{request.pk}/", {"customer": desk.mine.pk})
    assert again.status_code == 302 and Ticket.objects.count() == 1


def test_a_request_for_a_customer_the_user_does_not_see_is_refused(client, desk):
    request = PortalRequest.objects.create(state=PortalRequestState.UNMATCHED, subject="主轴异响")
    client.force_login(desk.team.rep1)
    response = client.post(f"/service/self-service-requests/{request.pk}/", {"customer": desk.theirs.pk})
    assert response.status_code == 404
    request.refresh_from_db()
    assert request.state == PortalRequestState.UNMATCHED and not Ticket.objects.exists()
