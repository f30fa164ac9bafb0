"""Writes of the knowledge base (SRV-4): articles (create, edit, publish, archive), their attachments,
and what the self-service page's visitors tell about them ("did this solve it?", deflections).

Every write keeps the article's `search_text` (titles, texts, keywords and category in both
languages, NFKC and lower case) in step, so the search is one substring match on one column."""

import unicodedata
from pathlib import PurePath

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.core import events
from kehu.core.exceptions import ConcurrentEditError
from kehu.core.text import check_text
from kehu.support.models import (
    Article,
    ArticleAttachment,
    ArticleFeedback,
    ArticleState,
    Deflection,
)

EDIT_PERM = "support.manage_knowledge"
FIELDS = ("title_zh", "title_en", "body_zh", "body_en", "category", "keywords", "product", "is_public")
# What an attachment may be: by extension, with the content type it is served as.
ATTACHMENT_TYPES = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".txt": "text/plain",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".mp4": "video/mp4",
}
ATTACHMENT_MAX_BYTES = 20 * 1024 * 1024
ATTACHMENTS_PER_ARTICLE = 20

ARTICLE_PUBLISHED = events.EventKind("article_published", gettext_lazy("Knowledge article published"))
events.register(ARTICLE_PUBLISHED)

# Which state may follow which.
TRANSITIONS = {
    ArticleState.DRAFT: {ArticleState.PUBLISHED, ArticleState.ARCHIVED},
    ArticleState.PUBLISHED: {ArticleState.DRAFT, ArticleState.ARCHIVED},
    ArticleState.ARCHIVED: {ArticleState.DRAFT, ArticleState.PUBLISHED},
}


def normalise(text: str) -> str:
    """The comparison form of text: NFKC (full-width letters and digits become plain ones), lower case,
    runs of white space as one space."""
    return " ".join(unicodedata.normalize("NFKC", text or "").lower().split())


def search_text(article: Article) -> str:
    category = article.category
    parts = [article.title_zh, article.title_en, article.keywords, article.body_zh, article.body_en]
    if category is not None:
        parts += [category.name, category.name_en]
    return normalise("\n".join(p for p in parts if p))


def _check(actor) -> None:
    if actor is None or not actor.is_authenticated or not actor.has_perm(EDIT_PERM):
        raise PermissionDenied


def _clean(values: dict) -> dict:
    errors: dict[str, list[str]] = {}
    cleaned = dict(values)
    for name, multiline, limit in (
        ("title_zh", False, 200),
        ("title_en", False, 200),
        ("keywords", False, 500),
        ("body_zh", True, 50_000),
        ("body_en", True, 50_000),
    ):
        if name not in cleaned:
            continue
        value = (cleaned[name] or "").strip()
        cleaned[name] = value
        try:
            check_text(value, field=name, multiline=multiline, max_length=limit)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return cleaned


def _check_complete(article: Article) -> None:
    if not (article.title_zh or article.title_en):
        raise ValidationError({"title_zh": [_("Give the article a title in Chinese or in English.")]})
    for lang, title, body in (("zh", article.title_zh, article.body_zh), ("en", article.title_en, article.body_en)):
        if body and not title:
            raise ValidationError({f"title_{lang}": [_("A text needs its title in the same language.")]})


@transaction.atomic
def article_create(*, actor, **values) -> Article:
    _check(actor)
    values = _clean({k: v for k, v in values.items() if k in FIELDS})
    now = timezone.now()
    article = Article(**values, created_by=actor, updated_by=actor, created_at=now, updated_at=now)
    _check_complete(article)
    article.search_text = search_text(article)
    article.full_clean(exclude=["search_text"])
    article.save()
    return article


@transaction.atomic
def article_update(*, article: Article, actor, expected_version: int | None = None, **values) -> Article:
    _check(actor)
    fresh = Article.objects.select_for_update().get(pk=article.pk)
    if expected_version is not None and fresh.version != expected_version:
        raise ConcurrentEditError(_("Someone else changed this article after you opened it. Look again, then retry."))
    values = _clean({k: v for k, v in values.items() if k in FIELDS})
    for name, value in values.items():
        setattr(fresh, name, value)
    _check_complete(fresh)
    fresh.search_text = search_text(fresh)
    fresh.full_clean(exclude=["search_text"])
    fresh.version += 1
    fresh.updated_at = timezone.now()
    fresh.updated_by = actor
    fresh.save()
    return fresh


@transaction.atomic
def article_transition(*, article: Article, actor, to: str) -> Article:
    """Publish, archive or take back to draft."""
    _check(actor)
    fresh = Article.objects.select_for_update().get(pk=article.pk)
    if to not in TRANSITIONS.get(fresh.state, set()):
        raise ValidationError(
            _("An article that is %(from)s cannot become %(to)s.")
            % {
                "from": ArticleState(fresh.state).label,
                "to": ArticleState(to).label if to in ArticleState.values else to,
            }
        )
    now = timezone.now()
    fresh.state = to
    if to == ArticleState.PUBLISHED:
        fresh.published_at = now
    fresh.version += 1
    fresh.updated_at = now
    fresh.updated_by = actor
    fresh.save(update_fields=["state", "published_at", "version", "updated_at", "updated_by"])
    if to == ArticleState.PUBLISHED:
        events.record(ARTICLE_PUBLISHED, actor=actor, subject=fresh, summary=str(fresh))
    return fresh


@transaction.atomic
def attachment_add(*, article: Article, actor, upload) -> ArticleAttachment:
    """Attach a file: its type (by extension: PDF, pictures, text, Word, Excel, MP4) and size checked."""
    _check(actor)
    name = PurePath(getattr(upload, "name", "") or "").name[:200]
    suffix = PurePath(name).suffix.lower()
    if suffix not in ATTACHMENT_TYPES:
        raise ValidationError(
            {
                "file": [
                    _("Attach PDF, pictures, text, Word, Excel or MP4 files (%(types)s).")
                    % {"types": ", ".join(sorted(ATTACHMENT_TYPES))}
                ]
            }
        )
    if upload.size > ATTACHMENT_MAX_BYTES:
        raise ValidationError(
            {"file": [_("A file may have at most %(mb)d MB.") % {"mb": ATTACHMENT_MAX_BYTES // (1024 * 1024)}]}
        )
    if ArticleAttachment.objects.filter(article=article).count() >= ATTACHMENTS_PER_ARTICLE:
        raise ValidationError({"file": [_("An article has at most %(n)d files.") % {"n": ATTACHMENTS_PER_ARTICLE}]})
    attachment = ArticleAttachment(
        article=article, name=name, content_type=ATTACHMENT_TYPES[suffix], size=upload.size, added_by=actor
    )
    attachment.file.save(name, upload, save=False)
    attachment.save()
    Article.objects.filter(pk=article.pk).update(updated_at=timezone.now(), updated_by=actor)
    return attachment


@transaction.atomic
def attachment_remove(*, attachment: ArticleAttachment, actor) -> None:
    _check(actor)
    stored = attachment.file.name
    storage = attachment.file.storage
    attachment.delete()
    transaction.on_commit(lambda: storage.delete(stored))


# What visitors tell.


def feedback_record(*, article: Article, session_key: str, helpful: bool) -> ArticleFeedback:
    """A visitor's answer to "did this solve it?": counted once per session (a second answer replaces
    the first)."""
    if not article.is_visible_publicly:
        raise PermissionDenied
    with transaction.atomic():
        found, _created = ArticleFeedback.objects.update_or_create(
            article=article, session_key=session_key, defaults={"helpful": bool(helpful), "at": timezone.now()}
        )
    return found


def deflection_record(*, article: Article, session_key: str) -> bool:
    """The visitor found the answer in a suggested article and opened no ticket. Counted once per
    session and article; returns whether this one counted."""
    if not article.is_visible_publicly:
        raise PermissionDenied
    try:
        with transaction.atomic():
            Deflection.objects.create(article=article, session_key=session_key)
    except IntegrityError:
        return False
    return True


@transaction.atomic
def article_send(*, ticket, article: Article, actor, url: str):
    """Send a public article's link to the ticket's customer: an outgoing message on the ticket (its
    title in the customer's language and the link)."""
    from kehu.support import services
    from kehu.support.models import MessageDirection

    services.check_may_change(actor, ticket)
    if not ticket.is_open:
        raise ValidationError(_("This ticket is no longer open."))
    if not article.is_visible_publicly:
        raise ValidationError(_("Only a published public article can go to the customer."))
    title = " / ".join(t for t in (article.title_zh, article.title_en) if t)
    return services.ticket_message_add(
        ticket=ticket,
        direction=MessageDirection.OUT,
        channel=ticket.channel,
        body=_("This article may help: %(title)s\n%(url)s") % {"title": title, "url": url},
        actor=actor,
    )
