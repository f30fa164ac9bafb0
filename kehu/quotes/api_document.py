"""The quote's document over the API (SAL-3), under /api/v1/quotes: the PDF, share links (list,
make, revoke) and e-mailing the PDF to the customer. Reading needs the quote in the caller's view
(404 otherwise); links and e-mail need the right to change it (403)."""

from datetime import datetime
from typing import Annotated

from django.core.exceptions import PermissionDenied
from django.urls import reverse
from ninja import Field, Query, Router, Schema, Status

from kehu.core.api import FieldErrors, Id, LongText, Message, Page, Text
from kehu.core.pagination import Limit, Offset, page_of
from kehu.quotes import sharing
from kehu.quotes.document import document_filename, document_pdf
from kehu.quotes.document_views import pdf_response
from kehu.quotes.models import DocumentLanguage, ShareLink
from kehu.quotes.selectors import quote_get
from kehu.quotes.services import may_change

router = Router(tags=["quotes"])

ERRORS = {400: FieldErrors, 403: Message, 404: Message}
Email = Annotated[str, Field(min_length=3, max_length=254)]


class QuoteShareLinkOut(Schema):
    id: int
    quote_id: int
    created_at: datetime
    created_by_id: int | None
    created_by_name: str
    expires_at: datetime
    revoked_at: datetime | None
    revoked_by_id: int | None
    view_count: int
    last_viewed_at: datetime | None
    state: str = Field(description="active, expired or revoked")


class QuoteShareLinkCreated(QuoteShareLinkOut):
    url: str = Field(description="The link for the customer; shown only now (only its hash is kept).")


class QuoteShareLinkList(Page):
    items: list[QuoteShareLinkOut]


class QuoteShareLinkIn(Schema):
    days: Annotated[int, Field(ge=1, le=sharing.MAX_DAYS)] = sharing.DEFAULT_DAYS


class QuoteShareLinkQuery(Schema):
    limit: Limit = 25
    offset: Offset = 0


class QuoteEmailIn(Schema):
    to: Annotated[list[Email], Field(min_length=1, max_length=sharing.MAX_RECIPIENTS)]
    cc: Annotated[list[Email], Field(max_length=sharing.MAX_RECIPIENTS)] = []
    subject: Text(200)
    message: LongText()
    language: DocumentLanguage | None = Field(None, description="The PDF's language; the quote's own when left out.")


class QuoteEmailOut(Schema):
    mail_id: int
    quote_id: int
    state: str
    to: list[str]
    cc: list[str]
    attachment: str


def _out(link: ShareLink) -> dict:
    return {
        "id": link.pk,
        "quote_id": link.quote_id,
        "created_at": link.created_at,
        "created_by_id": link.created_by_id,
        "created_by_name": link.created_by.display_name if link.created_by_id else "",
        "expires_at": link.expires_at,
        "revoked_at": link.revoked_at,
        "revoked_by_id": link.revoked_by_id,
        "view_count": link.view_count,
        "last_viewed_at": link.last_viewed_at,
        "state": sharing.share_link_state(link),
    }


def _changeable(request, quote_id: int):
    quote = quote_get(request.user, quote_id)
    if not may_change(request.user, quote):
        raise PermissionDenied
    return quote


@router.get(
    "/{quote_id}/pdf",
    response={200: None, 404: Message},
    openapi_extra={"responses": {200: {"description": "The quote's PDF", "content": {"application/pdf": {}}}}},
)
def quote_pdf(request, quote_id: Id):
    """The quote's document as PDF, in the quote's language."""
    quote = quote_get(request.user, quote_id)
    return pdf_response(document_pdf(quote), document_filename(quote), download=True)


@router.get("/{quote_id}/share-links", response={200: QuoteShareLinkList, 404: Message})
def share_link_list(request, quote_id: Id, query: Query[QuoteShareLinkQuery]):
    quote = quote_get(request.user, quote_id)
    page = page_of(sharing.share_links_of(quote), offset=query.offset, limit=query.limit)
    return {**page.as_dict(), "items": [_out(link) for link in page.rows]}


@router.post("/{quote_id}/share-links", response={201: QuoteShareLinkCreated, **ERRORS})
def share_link_create(request, quote_id: Id, payload: QuoteShareLinkIn):
    """A link that opens the document without a login for `days` days (1–90, 14 by default). An
    approved quote becomes sent; a draft or a quote awaiting approval cannot be shared (400)."""
    quote = _changeable(request, quote_id)
    link, token = sharing.share_link_create(quote=quote, actor=request.user, days=payload.days)
    url = request.build_absolute_uri(reverse("quote_documents:shared", args=[token]))
    return Status(201, {**_out(link), "url": url})


@router.post("/{quote_id}/share-links/{link_id}/revoke", response={200: QuoteShareLinkOut, **ERRORS})
def share_link_revoke(request, quote_id: Id, link_id: Id):
    """The link stops working at once (visitors get 410 Gone); revoking again changes nothing."""
    quote = _changeable(request, quote_id)
    link = sharing.share_link_get(quote, link_id)
    return _out(sharing.share_link_revoke(link=link, actor=request.user))


@router.post("/{quote_id}/email", response={201: QuoteEmailOut, **ERRORS})
def quote_email(request, quote_id: Id, payload: QuoteEmailIn):
    """E-mail the PDF to the customer through the outbox (Reply-To: the caller); the quote becomes
    sent. Only an approved or sent quote can be e-mailed (400 otherwise)."""
    quote = _changeable(request, quote_id)
    mail = sharing.quote_email_send(
        quote=quote,
        actor=request.user,
        to=payload.to,
        cc=payload.cc,
        subject=payload.subject,
        message=payload.message,
        language=payload.language or "",
    )
    quote.refresh_from_db()
    attachment = mail.attachments.values_list("filename", flat=True).first() or ""
    return Status(
        201,
        {
            "mail_id": mail.pk,
            "quote_id": quote.pk,
            "state": quote.state,
            "to": mail.recipients,
            "cc": mail.cc_recipients,
            "attachment": attachment,
        },
    )
