"""Every domain announces its events here; subscribers get signed deliveries (INT-4).

A delivery is a POST of a JSON body with the headers
`X-Kehu-Event`, `X-Kehu-Delivery`, `X-Kehu-Timestamp` and
`X-Kehu-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>" with the subscription's secret>`.
A 2xx answer ends it; anything else is retried with exponential backoff, up to MAX_ATTEMPTS.
"""

import hashlib
import hmac
import json
import secrets
import time
from datetime import timedelta
from urllib.parse import urlsplit

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core import outgoing
from kehu.core.audit import audit_record, diff, snapshot
from kehu.core.models import AuditAction
from kehu.core.text import text_field_errors
from kehu.users.models import User
from kehu.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookSubscription, webhook_event_choices

MAX_ATTEMPTS = 6
BACKOFF_BASE = timedelta(minutes=1)  # 1, 2, 4, 8, 16 minutes between attempts
LEASE = timedelta(minutes=2)  # a delivery being sent is not picked up again meanwhile
SUBSCRIPTION_FIELDS = ("url", "events", "is_active", "description")


def webhook_events(recorded) -> None:
    """The event door's after-commit sink: a delivery to every active subscription that asked for
    the event, for each recorded kind with a webhook name and a payload (e.g. "lead.created")."""
    from kehu.webhooks.tasks import deliver_webhook

    wanted = [(e.kind.webhook, e.webhook) for e in recorded if e.kind.webhook and e.webhook is not None]
    if not wanted:
        return
    now = timezone.now()
    subscriptions = list(WebhookSubscription.objects.filter(is_active=True))
    deliveries = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(subscription=s, event=name, payload=data, next_attempt_at=now)
            for name, data in wanted
            for s in subscriptions
            if name in (s.events or [])
        ]
    )
    for delivery in deliveries:
        deliver_webhook.enqueue(delivery.pk)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The value of X-Kehu-Signature for a body sent at `timestamp`."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt."""
    return BACKOFF_BASE * (2 ** max(attempts - 1, 0))


def webhook_deliver(delivery_id: int) -> str | None:
    """Send one due delivery once; record the answer; schedule the retry or give up. Returns the status."""
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=now + LEASE)
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("subscription").get(pk=delivery_id)
    subscription = delivery.subscription
    body = json.dumps(
        {
            "id": delivery.pk,
            "event": delivery.event,
            "created_at": delivery.created_at.isoformat(),
            "data": delivery.payload,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Kehu-Webhooks/1",
        "X-Kehu-Event": delivery.event,
        "X-Kehu-Delivery": str(delivery.pk),
        "X-Kehu-Timestamp": timestamp,
        "X-Kehu-Signature": sign(subscription.secret, timestamp, body),
    }
    if not subscription.is_active:
        code, excerpt, error = None, "", "subscription inactive"
    else:
        code, excerpt, error = outgoing.post(subscription.url, body, headers)
    delivery.attempts += 1
    delivery.last_response_code, delivery.last_response_body, delivery.last_error = code, excerpt[:500], error
    done = timezone.now()
    if code is not None and 200 <= code < 300:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = DeliveryStatus.SUCCEEDED, done, None
    elif delivery.attempts >= MAX_ATTEMPTS or not subscription.is_active:
        delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
    else:
        delivery.next_attempt_at = done + backoff(delivery.attempts)
    delivery.save()
    return delivery.status


def webhook_retry_due(*, now=None, limit: int = 200) -> int:
    """Send the deliveries whose next attempt is due; returns how many were tried."""
    now = now or timezone.now()
    due = list(
        WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(1 for pk in due if webhook_deliver(pk) is not None)


def may_retry(delivery: WebhookDelivery) -> bool:
    """A delivery that failed (waiting for its next try) or was given up can be sent again now."""
    return delivery.status == DeliveryStatus.FAILED or (
        delivery.status == DeliveryStatus.PENDING and delivery.attempts > 0
    )


@transaction.atomic
def webhook_delivery_retry(*, delivery: WebhookDelivery, actor: User) -> WebhookDelivery:
    """Send a failed or given-up delivery again now ("retry now"), once the transaction commits.

    It gets one more attempt: if that fails too, a given-up delivery is given up again, and one still
    being retried goes on with its backoff."""
    _check(actor)
    if not may_retry(delivery):
        raise ValidationError(_("Only a delivery that failed or was given up can be retried."))
    if not delivery.subscription.is_active:
        raise ValidationError(_("The subscription is switched off; switch it on before retrying."))
    now = timezone.now()
    updated = WebhookDelivery.objects.filter(pk=delivery.pk, status=delivery.status, attempts=delivery.attempts).update(
        status=DeliveryStatus.PENDING, next_attempt_at=now, updated_at=now
    )
    if not updated:  # a worker sent it meanwhile
        raise ValidationError(_("This delivery changed meanwhile; reload the log and try again."))
    before = delivery.status
    delivery.status, delivery.next_attempt_at = DeliveryStatus.PENDING, now
    audit_record(
        actor=actor, action=AuditAction.UPDATE, instance=delivery, changes={"status": [before, DeliveryStatus.PENDING]}
    )
    transaction.on_commit(lambda: _deliver_now(delivery.pk))
    return delivery


def _deliver_now(delivery_id: int) -> None:
    from kehu.webhooks.tasks import deliver_webhook

    deliver_webhook.enqueue(delivery_id)


def _check(actor: User) -> None:
    if not actor.is_authenticated or not actor.has_perm("webhooks.manage_webhooks"):
        raise PermissionDenied


def _clean(subscription: WebhookSubscription) -> None:
    errors = {}
    url = (subscription.url or "").strip()
    subscription.url = url
    try:
        parts = urlsplit(url) if len(url) <= 500 else None
    except ValueError:  # e.g. an unclosed [IPv6 bracket
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or " " in url:
        errors["url"] = _("Give an http:// or https:// address.")
    # No control character in the address or the description (a line break would even split the request).
    errors.update({k: v for k, v in text_field_errors(subscription).items() if k not in errors})
    events = subscription.events
    if not isinstance(events, list) or not events or any(e not in dict(webhook_event_choices()) for e in events):
        errors["events"] = _("Choose one or more of the known events.")
    else:
        subscription.events = sorted(set(events))
    if len(subscription.description or "") > 200:
        errors["description"] = _("Keep the description under 200 characters.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def webhook_subscription_create(
    *, actor: User, url: str, events: list, is_active: bool = True, description: str = ""
) -> WebhookSubscription:
    _check(actor)
    subscription = WebhookSubscription(
        url=url,
        events=events,
        is_active=is_active,
        description=description or "",
        created_by=actor,
        secret=secrets.token_hex(24),
    )
    _clean(subscription)
    subscription.save()
    audit_record(actor=actor, action=AuditAction.CREATE, instance=subscription)
    return subscription


@transaction.atomic
def webhook_subscription_update(*, subscription: WebhookSubscription, actor: User, **fields) -> WebhookSubscription:
    _check(actor)
    before = snapshot(subscription, SUBSCRIPTION_FIELDS)
    for name, value in fields.items():
        if name not in SUBSCRIPTION_FIELDS:
            raise ValidationError({name: _("This field cannot be changed.")})
        setattr(subscription, name, value)
    _clean(subscription)
    subscription.save()
    changes = diff(before, snapshot(subscription, SUBSCRIPTION_FIELDS))
    if changes:
        audit_record(actor=actor, action=AuditAction.UPDATE, instance=subscription, changes=changes)
    return subscription


@transaction.atomic
def webhook_subscription_rotate_secret(*, subscription: WebhookSubscription, actor: User) -> WebhookSubscription:
    _check(actor)
    subscription.secret = secrets.token_hex(24)
    subscription.save(update_fields=["secret", "updated_at"])
    audit_record(actor=actor, action=AuditAction.UPDATE, instance=subscription, changes={"secret": ["***", "***"]})
    return subscription


@transaction.atomic
def webhook_subscription_delete(*, subscription: WebhookSubscription, actor: User) -> None:
    _check(actor)
    audit_record(actor=actor, action=AuditAction.DELETE, instance=subscription)
    subscription.delete()
