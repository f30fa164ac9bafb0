"""Notifications (INT-2, INT-5): what each person is told in the app, their choices per event kind,
the items waiting for the daily digest, and the teams' work-chat robots with their post log."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core import events


class Notification(models.Model):
    """One thing a person was told of in the app (the bell); `read_at` is set once they read it."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recipient"), on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=60)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    summary = models.CharField(_("summary"), max_length=300, blank=True)
    link = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            # The list, newest first (keyset on id) ...
            models.Index(fields=["recipient", "-id"], name="notification_list_idx"),
            # ... and the bell: only unread rows are in this index, so the count reads a few entries.
            models.Index(
                fields=["recipient", "-id"], condition=Q(read_at__isnull=True), name="notification_unread_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.summary or self.kind

    @property
    def kind_label(self) -> str:
        return events.label(self.kind)

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class Preference(models.Model):
    """A person's choice for one event kind; without a row the defaults hold (in-app only)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=60)
    in_app = models.BooleanField(_("in the app"), default=True)
    email = models.BooleanField(_("by e-mail"), default=False)
    digest = models.BooleanField(_("in the daily digest"), default=False)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="notification_preference_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}"


class DigestItem(models.Model):
    """An event waiting for its recipient's daily digest mail; `sent_at` once the digest went out."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=60)
    summary = models.CharField(_("summary"), max_length=300, blank=True)
    link = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("digest item")
        verbose_name_plural = _("digest items")
        indexes = [
            models.Index(fields=["recipient", "id"], condition=Q(sent_at__isnull=True), name="digest_waiting_idx"),
            models.Index(fields=["sent_at"], name="digest_sent_idx"),
        ]

    def __str__(self) -> str:
        return self.summary or self.kind

    @property
    def kind_label(self) -> str:
        return events.label(self.kind)


class Platform(models.TextChoices):
    WECOM = "wecom", _("WeCom (企业微信)")
    DINGTALK = "dingtalk", _("DingTalk (钉钉)")
    FEISHU = "feishu", _("Feishu (飞书)")


ON = pgettext_lazy("robot", "On")
OFF = pgettext_lazy("robot", "Off")


class Robot(models.Model):
    """A team's group robot in a work-chat app: where its incoming webhook is, how to sign, which
    kinds of events it posts. A department's robot also hears its sub-departments' events."""

    name = models.CharField(_("name"), max_length=100)
    platform = models.CharField(_("chat app"), max_length=10, choices=Platform.choices)
    department = models.ForeignKey(
        "users.Department", verbose_name=_("team"), on_delete=models.CASCADE, related_name="+"
    )
    webhook_url = models.CharField(_("webhook address"), max_length=500)
    secret = models.CharField(_("signing secret"), max_length=200, blank=True)
    keyword = models.CharField(_("keyword"), max_length=50, blank=True)
    kinds = models.JSONField(_("events"), default=list)
    is_active = models.BooleanField(pgettext_lazy("robot", "active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    audit_choices = {"is_active": [(True, ON), (False, OFF)]}

    class Meta:
        verbose_name = _("work-chat robot")
        verbose_name_plural = _("work-chat robots")
        indexes = [models.Index(fields=["department", "is_active"], name="robot_department_idx")]

    def __str__(self) -> str:
        return self.name

    @property
    def masked_secret(self) -> str:
        return mask(self.secret)

    @property
    def masked_url(self) -> str:
        """The address without its token (the token is as good as a password)."""
        head, sep, tail = self.webhook_url.partition("?")
        if sep:
            return f"{head}?{mask(tail)}"
        base, slash, last = head.rpartition("/")
        return f"{base}/{mask(last)}" if slash and len(last) > 8 else head

    @property
    def kind_labels(self) -> list[str]:
        return [events.label(k) for k in self.kinds]

    @property
    def state_label(self) -> str:
        return str(ON if self.is_active else OFF)


def mask(value: str) -> str:
    if not value:
        return ""
    if len(value) <= 8:
        return "••••"
    return f"{value[:4]}••••{value[-2:]}"


class RobotItem(models.Model):
    """One event waiting to be posted by a robot; it goes out alone or merged into a digest post."""

    robot = models.ForeignKey(Robot, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(_("kind"), max_length=60)
    summary = models.CharField(_("summary"), max_length=300, blank=True)
    link = models.CharField(_("link"), max_length=300, blank=True)
    actor_name = models.CharField(_("by"), max_length=150, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    post = models.ForeignKey("RobotPost", null=True, blank=True, on_delete=models.SET_NULL, related_name="items")

    class Meta:
        indexes = [
            models.Index(fields=["robot", "id"], condition=Q(post__isnull=True), name="robot_item_waiting_idx"),
        ]

    def __str__(self) -> str:
        return self.summary or self.kind


class PostStatus(models.TextChoices):
    PENDING = "pending", _("waiting")
    SENT = "sent", _("delivered")
    FAILED = "failed", _("given up")


class RobotPost(models.Model):
    """One message posted (or to be posted) to a robot's webhook, with the platform's answer."""

    robot = models.ForeignKey(Robot, on_delete=models.CASCADE, related_name="posts")
    title = models.CharField(_("title"), max_length=200)
    text = models.TextField(_("text"))
    link = models.CharField(_("link"), max_length=500, blank=True)
    item_count = models.PositiveIntegerField(_("events"), default=0)
    is_test = models.BooleanField(_("test message"), default=False)
    status = models.CharField(_("status"), max_length=10, choices=PostStatus.choices, default=PostStatus.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt at"), null=True, blank=True)
    last_response_code = models.PositiveIntegerField(_("last response code"), null=True, blank=True)
    last_response_body = models.CharField(_("last response (excerpt)"), max_length=500, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("robot message")
        verbose_name_plural = _("robot messages")
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="robot_post_due_idx"),
            models.Index(fields=["robot", "-id"], name="robot_post_log_idx"),
            models.Index(fields=["robot", "last_attempt_at"], name="robot_post_rate_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def may_retry(self) -> bool:
        return self.status == PostStatus.FAILED or (self.status == PostStatus.PENDING and self.attempts > 0)
