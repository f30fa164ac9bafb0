"""Background jobs of webhooks: send one delivery; pick up the retries that are due (INT-4)."""

from datetime import timedelta

from django.tasks import task

from kehu.core.schedule import periodic
from kehu.webhooks import services


@task
def deliver_webhook(delivery_id: int):
    return services.webhook_deliver(delivery_id)


@periodic(every=timedelta(minutes=1))
@task
def retry_due_webhooks():
    """Send again the deliveries whose backoff has run out."""
    return services.webhook_retry_due()
