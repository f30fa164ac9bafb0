"""Signed webhook deliveries to a real receiver on loopback, retries with backoff, the log (INT-4)."""

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from kehu.core import events
from kehu.webhooks import services
from kehu.webhooks.models import DeliveryStatus, WebhookDelivery


class Receiver:
    """An HTTP server on 127.0.0.1 that records each POST and answers with the next queued status."""

    def __init__(self):
        self.received = []
        self.statuses = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"boom")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        # A short poll: shutdown() waits for the loop to look (0.5 s by default, at every test's end).
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def subscription(team, receiver):
    return services.webhook_subscription_create(
        actor=team.admin, url=receiver.url, events=["lead.created", "opportunity.won"]
    )


def _record(name: str, payload: dict) -> None:
    """Record the event kind that carries this webhook name, through the event door."""
    kind = next(k for k in events.kinds(webhook=True) if k.webhook == name)
    events.record(kind, webhook=payload)


def _emit(capture, event="lead.created", payload=None):
    with capture(execute=True):
        with transaction.atomic():
            _record(event, payload or {"lead_id": 7, "name": "无锡新光电子"})


def test_a_delivery_is_signed_over_timestamp_and_raw_body(subscription, receiver, django_capture_on_commit_callbacks):
    _emit(django_capture_on_commit_callbacks)
    [(headers, body)] = receiver.received
    expected = hmac.new(
        subscription.secret.encode(), headers["X-Kehu-Timestamp"].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    assert headers["X-Kehu-Signature"] == f"sha256={expected}"
    assert headers["X-Kehu-Event"] == "lead.created"
    data = json.loads(body)
    assert data["event"] == "lead.created" and data["data"] == {"lead_id": 7, "name": "无锡新光电子"}
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_response_code) == (DeliveryStatus.SUCCEEDED, 1, 200)
    assert delivery.delivered_at is not None and delivery.next_attempt_at is None


def test_nothing_is_sent_when_the_transaction_rolls_back_or_nobody_listens(
    subscription, receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            _record("lead.created", {})
            raise RuntimeError
    _emit(django_capture_on_commit_callbacks, event="lead.converted")
    assert receiver.received == [] and not WebhookDelivery.objects.exists()


def test_a_500_is_retried_with_backoff_and_success_stops_the_retries(
    subscription, receiver, django_capture_on_commit_callbacks
):
    receiver.statuses = [500, 500]
    before = timezone.now()
    _emit(django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_response_code) == (DeliveryStatus.PENDING, 1, 500)
    assert delivery.last_response_body == "boom"
    first_wait = delivery.next_attempt_at - before
    assert timedelta(seconds=55) < first_wait <= timedelta(minutes=1, seconds=5)

    assert services.webhook_retry_due() == 0  # not due yet
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert services.webhook_retry_due() == 1
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.last_response_code) == (2, 500)
    second_wait = delivery.next_attempt_at - timezone.now()
    assert timedelta(seconds=115) < second_wait <= timedelta(minutes=2)

    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert services.webhook_retry_due() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_response_code) == (DeliveryStatus.SUCCEEDED, 3, 200)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert services.webhook_retry_due() == 0
    assert len(receiver.received) == 3


def test_it_gives_up_after_the_last_attempt(subscription, receiver, django_capture_on_commit_callbacks):
    receiver.statuses = [500] * services.MAX_ATTEMPTS
    _emit(django_capture_on_commit_callbacks)
    for _ in range(services.MAX_ATTEMPTS - 1):
        WebhookDelivery.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
        services.webhook_retry_due()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (DeliveryStatus.FAILED, 6, None)
    assert len(receiver.received) == services.MAX_ATTEMPTS


def test_an_unreachable_receiver_is_recorded_and_retried(team, django_capture_on_commit_callbacks):
    services.webhook_subscription_create(actor=team.admin, url="http://127.0.0.1:9/none", events=["lead.created"])
    _emit(django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING and delivery.last_response_code is None and delivery.last_error


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.com/x", "javascript:alert(1)", "http://", "not a url"]
)
def test_non_http_urls_are_refused(team, url):
    with pytest.raises(ValidationError):
        services.webhook_subscription_create(actor=team.admin, url=url, events=["lead.created"])


def test_unknown_events_are_refused(team):
    with pytest.raises(ValidationError):
        services.webhook_subscription_create(actor=team.admin, url="https://example.com/h", events=["lead.deleted"])


def test_backoff_doubles():
    assert [services.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [60, 120, 240, 480]


def test_dates_and_decimals_in_the_payload_are_sent_as_strings(
    subscription, receiver, django_capture_on_commit_callbacks
):
    from datetime import date
    from decimal import Decimal

    _emit(
        django_capture_on_commit_callbacks,
        event="opportunity.won",
        payload={"amount": Decimal("1200.50"), "on": date(2026, 11, 24)},
    )
    [(_headers, body)] = receiver.received
    assert json.loads(body)["data"] == {"amount": "1200.50", "on": "2026-11-24"}


def test_a_pending_delivery_of_a_deactivated_subscription_is_given_up_unsent(
    team, subscription, receiver, django_capture_on_commit_callbacks
):
    receiver.statuses = [500]
    _emit(django_capture_on_commit_callbacks)
    services.webhook_subscription_update(subscription=subscription, actor=team.admin, is_active=False)
    WebhookDelivery.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    services.webhook_retry_due()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED and len(receiver.received) == 1


def _given_up(capture, receiver):
    """A delivery that failed every attempt and was given up."""
    receiver.statuses = [500] * services.MAX_ATTEMPTS
    _emit(capture)
    for _ in range(services.MAX_ATTEMPTS - 1):
        WebhookDelivery.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
        services.webhook_retry_due()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    return delivery


def test_retry_now_sends_a_given_up_delivery_again(team, subscription, receiver, django_capture_on_commit_callbacks):
    from kehu.core.models import AuditEntry

    delivery = _given_up(django_capture_on_commit_callbacks, receiver)
    with django_capture_on_commit_callbacks(execute=True):
        services.webhook_delivery_retry(delivery=delivery, actor=team.admin)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_response_code) == (
        DeliveryStatus.SUCCEEDED,
        services.MAX_ATTEMPTS + 1,
        200,
    )
    assert len(receiver.received) == services.MAX_ATTEMPTS + 1
    headers, _body = receiver.received[-1]
    assert headers["X-Kehu-Delivery"] == str(delivery.pk)  # the same delivery: a receiver can tell it apart
    assert AuditEntry.objects.filter(changes={"status": ["failed", "pending"]}).count() == 1


def test_a_retry_that_fails_again_gives_up_again(team, subscription, receiver, django_capture_on_commit_callbacks):
    delivery = _given_up(django_capture_on_commit_callbacks, receiver)
    receiver.statuses = [503]
    with django_capture_on_commit_callbacks(execute=True):
        services.webhook_delivery_retry(delivery=delivery, actor=team.admin)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_response_code, delivery.next_attempt_at) == (
        DeliveryStatus.FAILED,
        503,
        None,
    )


def test_retry_now_does_not_wait_for_the_backoff(team, subscription, receiver, django_capture_on_commit_callbacks):
    receiver.statuses = [500]
    _emit(django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING and delivery.next_attempt_at > timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        services.webhook_delivery_retry(delivery=delivery, actor=team.admin)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SUCCEEDED, 2)


def test_only_failed_deliveries_of_active_subscriptions_are_retried(
    team, subscription, receiver, django_capture_on_commit_callbacks
):
    _emit(django_capture_on_commit_callbacks)
    delivered = WebhookDelivery.objects.get()
    with pytest.raises(ValidationError):
        services.webhook_delivery_retry(delivery=delivered, actor=team.admin)
    waiting = WebhookDelivery.objects.create(subscription=subscription, event="lead.created", payload={})
    with pytest.raises(ValidationError):  # never tried yet: the worker sends it
        services.webhook_delivery_retry(delivery=waiting, actor=team.admin)
    given_up = WebhookDelivery.objects.create(
        subscription=subscription, event="lead.created", payload={}, status=DeliveryStatus.FAILED, attempts=6
    )
    services.webhook_subscription_update(subscription=subscription, actor=team.admin, is_active=False)
    given_up.subscription.refresh_from_db()
    with pytest.raises(ValidationError):
        services.webhook_delivery_retry(delivery=given_up, actor=team.admin)
    assert WebhookDelivery.objects.get(pk=given_up.pk).status == DeliveryStatus.FAILED
    assert len(receiver.received) == 1


def test_the_retry_button_and_endpoint_send_it_again(
    client, api_client, team, subscription, receiver, django_capture_on_commit_callbacks
):
    delivery = _given_up(django_capture_on_commit_callbacks, receiver)
    client.force_login(team.admin)
    body = client.get("/webhooks/deliveries/").content.decode()
    assert f"/webhooks/deliveries/{delivery.pk}/retry/" in body and "csrfmiddlewaretoken" in body
    receiver.statuses = [500]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/webhooks/deliveries/{delivery.pk}/retry/", {"subscription": str(subscription.pk)})
    assert response.status_code == 302 and response.url == f"/webhooks/deliveries/?subscription={subscription.pk}"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, services.MAX_ATTEMPTS + 1)

    with django_capture_on_commit_callbacks(execute=True):
        response = api_client(team.admin).post(f"/api/v1/webhooks/deliveries/{delivery.pk}/retry")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "pending"  # sent once the request's transaction commits
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SUCCEEDED, services.MAX_ATTEMPTS + 2)

    again = api_client(team.admin).post(f"/api/v1/webhooks/deliveries/{delivery.pk}/retry")
    assert again.status_code == 400 and again.json()["errors"]["__all__"]
    assert api_client(team.admin).post("/api/v1/webhooks/deliveries/99999999/retry").status_code == 404
    body = client.get("/webhooks/deliveries/").content.decode()
    assert f"/webhooks/deliveries/{delivery.pk}/retry/" not in body


def test_the_retry_button_needs_csrf(team, subscription, django_capture_on_commit_callbacks, receiver):
    from django.test import Client

    delivery = _given_up(django_capture_on_commit_callbacks, receiver)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(team.admin)
    assert strict.post(f"/webhooks/deliveries/{delivery.pk}/retry/").status_code == 403
    assert WebhookDelivery.objects.get(pk=delivery.pk).attempts == services.MAX_ATTEMPTS
