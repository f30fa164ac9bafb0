"""Reads of the knowledge base (SRV-4).

Who sees what: staff who read tickets (support.view_ticket) read every published article, public or
internal; editors (support.manage_knowledge) also drafts and archived ones; a visitor of the
self-service page only published public articles.

Search: each word of the query must occur in the article's `search_text` (normalised like the query,
kb_services.normalise), a substring match — so one or two Chinese characters find an article as
well as four ("漏", "漏油", "液压漏油" is two words only when typed with a space). On PostgreSQL a
trigram index serves words of 3+ characters; shorter ones scan the (few thousand) articles' one column,
never a join. Titles that match rank before texts that match, newest published first within each."""

from django.db import connection
from django.db.models import Case, Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce, StrIndex
from django.db.models.lookups import GreaterThan
from django.http import Http404

from kehu.support.kb_services import EDIT_PERM, normalise
from kehu.support.models import Article, ArticleAttachment, ArticleCategory, ArticleFeedback, ArticleState, Deflection

MAX_WORDS = 5
# A search reads at most this many matching articles before ranking (common words match many).
CANDIDATES = 2000


def may_edit(user) -> bool:
    return bool(user and user.is_authenticated and user.has_perm(EDIT_PERM))


def may_read(user) -> bool:
    return bool(user and user.is_authenticated and (user.has_perm("support.view_ticket") or may_edit(user)))


def article_qs_visible_to(user) -> QuerySet[Article]:
    if may_edit(user):
        return Article.objects.all()
    if may_read(user):
        return Article.objects.filter(state=ArticleState.PUBLISHED)
    return Article.objects.none()


def public_articles() -> QuerySet[Article]:
    return Article.objects.filter(state=ArticleState.PUBLISHED, is_public=True)


def article_get(user, pk) -> Article:
    try:
        return article_qs_visible_to(user).select_related("category", "product").get(pk=int(pk))
    except (Article.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


def public_article_get(pk) -> Article:
    try:
        return public_articles().select_related("category").get(pk=int(pk))
    except (Article.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


def query_words(q: str) -> list[str]:
    words = []
    for word in normalise(q).split():
        if word not in words:
            words.append(word[:50])
    return words[:MAX_WORDS]


def _holds(word: str) -> Q:
    """The search text holds `word` (both are normalised, so case needs no folding). SQLite: instr()
    compares bytes, several times faster than LIKE's case-insensitive scan; PostgreSQL: LIKE, which
    the trigram index serves."""
    if connection.vendor == "sqlite":
        return Q(GreaterThan(StrIndex("search_text", Value(word)), 0))
    return Q(search_text__contains=word)


def _holds_all(words: list[str]) -> Q:
    found = Q()
    for word in words:
        found &= _holds(word)
    return found


def article_search(qs: QuerySet[Article], q: str) -> QuerySet[Article]:
    """The articles of `qs` whose text holds every word of `q`, title matches first (an empty query:
    all of them, newest first)."""
    words = query_words(q)
    if not words:
        return qs.order_by("-published_at", "-pk")
    qs = qs.filter(_holds_all(words))
    title = Q()
    for word in words:
        title |= Q(title_zh__icontains=word) | Q(title_en__icontains=word)
    return qs.annotate(rank=Case(When(title, then=Value(0)), default=Value(1), output_field=IntegerField())).order_by(
        "rank", "-published_at", "-pk"
    )


def suggestions(qs: QuerySet[Article], text: str, *, limit: int = 5) -> list[Article]:
    """Articles for what someone typed (a ticket's subject, a visitor's problem): those holding all its
    words, else those holding any of them (the words of 2+ characters; a Chinese phrase without spaces
    is also tried as its overlapping two-character pieces)."""
    words = [w for w in query_words(text) if len(w) >= 2]
    if not words:
        return []
    found = list(article_search(qs, " ".join(words))[:limit])
    if found:
        return found
    pieces: list[str] = []
    for word in words:
        pieces.append(word)
        if len(word) > 2 and not word.isascii():
            pieces += [word[i : i + 2] for i in range(len(word) - 1)]
    any_word = Q()
    for piece in dict.fromkeys(pieces):
        any_word |= _holds(piece)
    score = sum(
        (Case(When(_holds(p), then=Value(1)), default=Value(0)) for p in dict.fromkeys(pieces)),
        Value(0),
    )
    return list(qs.filter(any_word).annotate(score=score).order_by("-score", "-published_at", "-pk")[:limit])


def with_counts(qs: QuerySet[Article]) -> QuerySet[Article]:
    """Articles with their yes/no answers and deflections counted (subqueries: one query for a page)."""

    def counted(model, **filters):
        return Coalesce(
            Subquery(
                model.objects.filter(article=OuterRef("pk"), **filters)
                .order_by()
                .values("article")
                .annotate(n=Count("pk"))
                .values("n")[:1],
                output_field=IntegerField(),
            ),
            0,
        )

    return qs.annotate(
        helpful_count=counted(ArticleFeedback, helpful=True),
        unhelpful_count=counted(ArticleFeedback, helpful=False),
        deflection_count=counted(Deflection),
    )


def totals() -> dict:
    """Answers and deflections over the whole knowledge base."""
    answers = ArticleFeedback.objects.aggregate(
        yes=Count("pk", filter=Q(helpful=True)), no=Count("pk", filter=Q(helpful=False))
    )
    return {"helpful": answers["yes"], "unhelpful": answers["no"], "deflections": Deflection.objects.count()}


def categories() -> QuerySet[ArticleCategory]:
    return ArticleCategory.objects.all()


def attachments_of(article: Article) -> list[ArticleAttachment]:
    return list(ArticleAttachment.objects.filter(article=article))


def attachment_get(article: Article, pk) -> ArticleAttachment:
    try:
        return ArticleAttachment.objects.get(article=article, pk=int(pk))
    except (ArticleAttachment.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None
