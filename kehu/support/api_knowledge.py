"""The knowledge base in the REST API (SRV-4), under /api/v1/service/knowledge: articles (editors write,
service staff read), search, and what the self-service page's visitors said (answers, deflections)."""

from datetime import datetime
from typing import Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from kehu.core.api import Id, LongText, Page, Text
from kehu.core.pagination import Limit, Offset, page_of
from kehu.support import kb_selectors, kb_services
from kehu.support.models import ArticleCategory, ArticleState

router = Router(tags=["service"])


class KnowledgeArticleOut(Schema):
    id: int
    title_zh: str
    title_en: str
    body_zh: str
    body_en: str
    category_id: int | None
    keywords: str
    product_id: int | None
    state: str
    is_public: bool
    published_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int
    helpful_count: int = 0
    unhelpful_count: int = 0
    deflection_count: int = 0


class KnowledgeArticlePage(Page):
    items: list[KnowledgeArticleOut]


class KnowledgeArticleQuery(Schema):
    q: Text(100) = Field("", description="Every word must occur (substring; Chinese needs no spaces).")
    state: ArticleState | None = Field(None, description="Editors only; others read published articles.")
    article_category_id: Id | None = None
    limit: Limit = 25
    offset: Offset = 0


class KnowledgeArticleIn(Schema):
    title_zh: Text(200) = ""
    title_en: Text(200) = ""
    body_zh: LongText(50_000) = ""
    body_en: LongText(50_000) = ""
    article_category_id: Id | None = None
    keywords: Text(500) = ""
    product_id: Id | None = None
    is_public: bool = False


class KnowledgeArticlePatch(Schema):
    title_zh: Text(200) | None = None
    title_en: Text(200) | None = None
    body_zh: LongText(50_000) | None = None
    body_en: LongText(50_000) | None = None
    article_category_id: Id | None = None
    keywords: Text(500) | None = None
    product_id: Id | None = None
    is_public: bool | None = None
    version: int | None = Field(None, ge=0, le=2**31, description="The version you saw; 409 if it changed.")


class KnowledgeTransitionIn(Schema):
    to: Literal["draft", "published", "archived"]


class KnowledgeStatsOut(Schema):
    helpful: int
    unhelpful: int
    deflections: int
    top_deflecting: list[KnowledgeArticleOut]


def _read(user):
    if not kb_selectors.may_read(user):
        raise PermissionDenied


def _edit(user):
    if not kb_selectors.may_edit(user):
        raise PermissionDenied


def _values(payload, *, partial: bool) -> dict:
    data = payload.dict(exclude_unset=partial)
    data.pop("version", None)
    values = {k: v for k, v in data.items() if k not in ("article_category_id", "product_id") and v is not None}
    errors = {}
    if "article_category_id" in data:
        pk = data["article_category_id"]
        values["category"] = ArticleCategory.objects.filter(pk=pk).first() if pk else None
        if pk and values["category"] is None:
            errors["article_category_id"] = [_("No such category.")]
    if "product_id" in data:
        from kehu.catalog.models import Product

        pk = data["product_id"]
        values["product"] = Product.objects.filter(pk=pk).first() if pk else None
        if pk and values["product"] is None:
            errors["product_id"] = [_("No such product.")]
    if errors:
        raise ValidationError(errors)
    return values


def _one(user, pk):
    article = kb_selectors.article_get(user, pk)
    return kb_selectors.with_counts(kb_selectors.article_qs_visible_to(user).filter(pk=article.pk)).get()


@router.get("/knowledge/articles", response=KnowledgeArticlePage)
def article_list(request, query: Query[KnowledgeArticleQuery]):
    """Articles you may read, searched; title matches first, then newest."""
    user = request.user
    _read(user)
    qs = kb_selectors.article_qs_visible_to(user)
    if query.state and kb_selectors.may_edit(user):
        qs = qs.filter(state=query.state)
    if query.article_category_id:
        qs = qs.filter(category_id=query.article_category_id)
    qs = kb_selectors.article_search(qs, query.q) if query.q else qs.order_by("-updated_at", "-pk")
    return page_of(kb_selectors.with_counts(qs), offset=query.offset, limit=query.limit).as_dict()


@router.post("/knowledge/articles", response={201: KnowledgeArticleOut})
def article_create(request, payload: KnowledgeArticleIn):
    """A new article (a draft; publish it with the transition)."""
    user = request.user
    _edit(user)
    article = kb_services.article_create(actor=user, **_values(payload, partial=False))
    return Status(201, _one(user, article.pk))


@router.get("/knowledge/articles/{article_id}", response=KnowledgeArticleOut)
def article_read(request, article_id: Id):
    _read(request.user)
    return _one(request.user, article_id)


@router.patch("/knowledge/articles/{article_id}", response=KnowledgeArticleOut)
def article_update(request, article_id: Id, payload: KnowledgeArticlePatch):
    user = request.user
    _edit(user)
    article = kb_selectors.article_get(user, article_id)
    kb_services.article_update(
        article=article, actor=user, expected_version=payload.version, **_values(payload, partial=True)
    )
    return _one(user, article_id)


@router.post("/knowledge/articles/{article_id}/transition", response=KnowledgeArticleOut)
def article_transition(request, article_id: Id, payload: KnowledgeTransitionIn):
    """Publish, archive, or take back to draft."""
    user = request.user
    _edit(user)
    kb_services.article_transition(article=kb_selectors.article_get(user, article_id), actor=user, to=payload.to)
    return _one(user, article_id)


@router.get("/knowledge/stats", response=KnowledgeStatsOut)
def knowledge_stats(request):
    """The self-service visitors' answers and deflections in total, and the articles that deflected most."""
    user = request.user
    _read(user)
    top = kb_selectors.with_counts(kb_selectors.article_qs_visible_to(user)).order_by("-deflection_count", "-pk")[:10]
    return {**kb_selectors.totals(), "top_deflecting": list(top)}
