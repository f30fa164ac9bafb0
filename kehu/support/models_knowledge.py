"""The knowledge base (SRV-4) and the customer self-service page (SRV-1 web intake).

Articles carry a title and body in Chinese and/or English (the reader's language first, the other
as a fallback), a category, keywords and optionally the catalog product they are about. Search reads
one pre-normalised column (`search_text`: NFKC, lower case, every language's title, body and keywords)
with substring matches, so Chinese needs no tokenizer ("漏油" finds "液压站漏油怎么办").

The self-service page keeps what visitors sent: "did this solve it?" answers (one per visitor session
and article), deflections (a visitor who found the answer and did not open a ticket), requests from
people not matched to a customer yet, the signed links that let a customer follow their ticket (only
the SHA-256 of the token is kept) and the attempts the rate limits count."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.core.models import TimeStamped, Versioned

__all__ = [
    "Article",
    "ArticleAttachment",
    "ArticleCategory",
    "ArticleFeedback",
    "ArticleState",
    "Deflection",
    "FollowLink",
    "PortalAttempt",
    "PortalRequest",
    "PortalRequestState",
]


class ArticleCategory(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    name_en = models.CharField(_("name in English"), max_length=100, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("article category")
        verbose_name_plural = _("article categories")
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name

    def name_for(self, language: str) -> str:
        return self.name_en if language.startswith("en") and self.name_en else self.name


class ArticleState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    ARCHIVED = "archived", _("Archived")


class Article(TimeStamped, Versioned):
    title_zh = models.CharField(_("title (Chinese)"), max_length=200, blank=True)
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    body_zh = models.TextField(_("text (Chinese)"), blank=True)
    body_en = models.TextField(_("text (English)"), blank=True)
    category = models.ForeignKey(
        ArticleCategory,
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="articles",
    )
    keywords = models.CharField(
        _("keywords"), max_length=500, blank=True, help_text=_("Words people search with, separated by spaces.")
    )
    product = models.ForeignKey(
        "catalog.Product",
        verbose_name=_("product"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    state = models.CharField(_("state"), max_length=10, choices=ArticleState.choices, default=ArticleState.DRAFT)
    is_public = models.BooleanField(
        _("public"), default=False, help_text=_("Shown on the self-service page once published.")
    )
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    # Titles, texts and keywords in both languages: NFKC, lower case (kb_services.search_text).
    search_text = models.TextField(editable=False, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("knowledge article")
        verbose_name_plural = _("knowledge base")
        permissions = [("manage_knowledge", _("Can write and publish knowledge articles"))]
        indexes = [
            models.Index(fields=["state", "is_public", "-published_at"], name="support_article_public"),
            models.Index(fields=["-updated_at"], name="support_article_updated"),
        ]

    def __str__(self) -> str:
        return self.title_zh or self.title_en

    def title_for(self, language: str) -> str:
        first, second = (self.title_en, self.title_zh) if language.startswith("en") else (self.title_zh, self.title_en)
        return first or second

    def body_for(self, language: str) -> str:
        if language.startswith("en"):
            return self.body_en if self.title_en or self.body_en else self.body_zh
        return self.body_zh if self.title_zh or self.body_zh else self.body_en

    @property
    def is_visible_publicly(self) -> bool:
        return self.state == ArticleState.PUBLISHED and self.is_public


class ArticleAttachment(models.Model):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("file"), upload_to="knowledge/%Y/%m/")
    name = models.CharField(_("name"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField(default=0)
    added_at = models.DateTimeField(default=timezone.now)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("article attachment")
        verbose_name_plural = _("article attachments")
        ordering = ["added_at", "pk"]

    def __str__(self) -> str:
        return self.name


class ArticleFeedback(models.Model):
    """A visitor's "did this solve it?" answer: one per visitor session and article (a new answer
    replaces the old one)."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="feedback")
    session_key = models.CharField(max_length=64)
    helpful = models.BooleanField()
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["article", "session_key"], name="support_feedback_once"),
        ]

    def __str__(self) -> str:
        return f"{self.article_id} {'+' if self.helpful else '-'}"


class Deflection(models.Model):
    """A self-service visitor read a suggested article and said it solved the problem instead of
    opening a ticket (one per visitor session and article)."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="deflections")
    session_key = models.CharField(max_length=64)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["article", "session_key"], name="support_deflection_once"),
        ]
        indexes = [models.Index(fields=["at"], name="support_deflection_at")]

    def __str__(self) -> str:
        return f"{self.article_id} {self.at:%Y-%m-%d}"


class PortalRequestState(models.TextChoices):
    UNMATCHED = "unmatched", _("To match")
    MATCHED = "matched", _("Ticket opened")
    DISMISSED = "dismissed", _("Dismissed")


class PortalRequest(models.Model):
    """What a visitor sent from the self-service page. Matched to a contact it opened a ticket at
    once; otherwise it waits for the service desk to match it to a customer (or dismiss it)."""

    state = models.CharField(_("state"), max_length=10, choices=PortalRequestState.choices)
    name = models.CharField(_("name"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("email"), blank=True)
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    serial_number = models.CharField(_("serial number"), max_length=100, blank=True)
    language = models.CharField(max_length=10, blank=True)
    created_at = models.DateTimeField(_("received"), default=timezone.now)
    ticket = models.ForeignKey(
        "support.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="portal_requests"
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("self-service request")
        verbose_name_plural = _("self-service requests")
        indexes = [models.Index(fields=["state", "-created_at"], name="support_portalreq_state")]

    def __str__(self) -> str:
        return self.subject


class FollowLink(models.Model):
    """A signed link that lets the customer follow a ticket without an account (/help/t/<token>/)."""

    ticket = models.ForeignKey("support.Ticket", on_delete=models.CASCADE, related_name="follow_links")
    token_hash = models.CharField(max_length=64, unique=True)
    email = models.EmailField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("ticket follow link")
        verbose_name_plural = _("ticket follow links")

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.created_at:%Y-%m-%d}"


class PortalAttempt(models.Model):
    """One use of a rate-limited public action (kind: request, feedback, message…) by a key (an IP
    address, an e-mail address or phone's digits); kept a day."""

    kind = models.CharField(max_length=20)
    key = models.CharField(max_length=254)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["kind", "key", "at"], name="support_attempt_key")]

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"
