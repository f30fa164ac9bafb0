"""Webhooks (INT-4): subscriptions, signed deliveries with retries and a delivery log. Administrators only."""

from datetime import datetime
from typing import Annotated, Literal

from django.core.exceptions import PermissionDenied
from django.http import Http404
from ninja import Field, Query, Router, Schema, Status

from kehu.core.api import Id, Page, Text
from kehu.core.pagination import Limit, Offset, page_of
from kehu.webhooks import services
from kehu.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookSubscription, webhook_event_choices

router = Router(tags=["webhooks"])
# The names the apps registered by the time the URLs load (after every AppConfig.ready).
WebhookEvent = Literal[tuple(name for name, _label in webhook_event_choices())]  # type: ignore[valid-type]


# An http(s) address with a host name (or IPv4 address) and no space or control character: what the
# service takes (kehu.webhooks.services), stated in the schema and checked before it (422).
WebhookUrl = Annotated[
    str,
    Field(
        max_length=500,
        pattern=r"^https?://[A-Za-z0-9][A-Za-z0-9.-]*(:[0-9]{1,5})?([/?#][^\s\u0000-\u001f\u007f-\u009f\ufffe\uffff]*)?$",
    ),
]


class SubscriptionOut(Schema):
    id: int
    url: str
    events: list[str]
    is_active: bool
    description: str
    secret: str = Field(description="Signs each body: X-Kehu-Signature = sha256=HMAC(secret, timestamp + '.' + body).")
    created_at: datetime


class SubscriptionIn(Schema):
    url: WebhookUrl
    events: Annotated[list[WebhookEvent], Field(min_length=1, max_length=10)]
    is_active: bool = True
    description: Text(200) = ""


class SubscriptionPatch(Schema):
    url: WebhookUrl | None = None
    events: Annotated[list[WebhookEvent], Field(min_length=1, max_length=10)] | None = None
    is_active: bool | None = None
    description: Text(200) | None = None


class DeliveryOut(Schema):
    id: int
    subscription_id: int
    event: str
    payload: dict
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_response_code: int | None
    last_response_body: str
    last_error: str
    created_at: datetime
    delivered_at: datetime | None


class DeliveryList(Page):
    items: list[DeliveryOut]


class DeliveryQuery(Schema):
    subscription_id: Id | None = None
    status: DeliveryStatus | None = None
    limit: Limit = 25
    offset: Offset = 0


def _admin(request) -> None:
    if not request.user.has_perm("webhooks.manage_webhooks"):
        raise PermissionDenied


def _subscription(request, subscription_id: int) -> WebhookSubscription:
    _admin(request)
    try:
        return WebhookSubscription.objects.get(pk=subscription_id)
    except WebhookSubscription.DoesNotExist:
        raise Http404 from None


@router.get("/subscriptions", response=list[SubscriptionOut])
def subscription_list(request):
    _admin(request)
    return list(WebhookSubscription.objects.order_by("-created_at", "-id")[:500])


@router.post("/subscriptions", response={201: SubscriptionOut})
def subscription_create(request, payload: SubscriptionIn):
    _admin(request)
    data = payload.dict()
    data["events"] = list(payload.events)
    return Status(201, services.webhook_subscription_create(actor=request.user, **data))


@router.get("/subscriptions/{subscription_id}", response=SubscriptionOut)
def subscription_read(request, subscription_id: Id):
    return _subscription(request, subscription_id)


@router.patch("/subscriptions/{subscription_id}", response=SubscriptionOut)
def subscription_update(request, subscription_id: Id, payload: SubscriptionPatch):
    subscription = _subscription(request, subscription_id)
    data = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    if "events" in data:
        data["events"] = list(payload.events)
    if not data:
        return subscription
    return services.webhook_subscription_update(subscription=subscription, actor=request.user, **data)


@router.delete("/subscriptions/{subscription_id}", response={204: None})
def subscription_delete(request, subscription_id: Id):
    services.webhook_subscription_delete(subscription=_subscription(request, subscription_id), actor=request.user)
    return Status(204, None)


@router.post("/deliveries/{delivery_id}/retry", response=DeliveryOut)
def delivery_retry(request, delivery_id: Id):
    """Send a delivery that failed or was given up again now. The answer shows the delivery after the
    attempt when it was made at once, else still pending (a worker sends it shortly)."""
    _admin(request)
    try:
        delivery = WebhookDelivery.objects.select_related("subscription").get(pk=delivery_id)
    except WebhookDelivery.DoesNotExist:
        raise Http404 from None
    services.webhook_delivery_retry(delivery=delivery, actor=request.user)
    delivery.refresh_from_db()
    return delivery


@router.get("/deliveries", response=DeliveryList)
def delivery_list(request, query: Query[DeliveryQuery]):
    _admin(request)
    qs = WebhookDelivery.objects.order_by("-created_at", "-id")
    if query.subscription_id:
        qs = qs.filter(subscription_id=query.subscription_id)
    if query.status:
        qs = qs.filter(status=query.status)
    return page_of(qs, offset=query.offset, limit=query.limit).as_dict()
