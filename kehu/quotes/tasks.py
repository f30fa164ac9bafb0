"""The quotes' periodic work: expiry and the reminder before it (SAL-3).

Daily work, run every hour so that it happens early in the day whenever the scheduler started;
safe to run any number of times (a quote expires once, its owner is reminded once).
"""

from datetime import timedelta

from django.db import transaction
from django.tasks import task
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core.schedule import periodic

REMIND_DAYS = 3
BATCH = 500


def quotes_expiry(*, today=None) -> dict:
    """Approved and sent quotes past their date expire (the owner is told); owners of those that
    expire within three days are reminded once (`expiry_reminded_on`). Reads the (state,
    valid_until) index."""
    from kehu.core import events
    from kehu.quotes import services
    from kehu.quotes.events import QuoteEvent
    from kehu.quotes.models import Quote, QuoteState

    today = today or timezone.localdate()
    live = Quote.objects.filter(state__in=[QuoteState.APPROVED, QuoteState.SENT], deleted_at__isnull=True)
    counts = {"expired": 0, "reminded": 0}
    while True:
        due = list(live.filter(valid_until__lt=today).order_by("valid_until", "pk")[:BATCH])
        for quote in due:
            counts["expired"] += services.quote_expire(quote=quote)
        if len(due) < BATCH:
            break
    soon = live.filter(valid_until__gte=today, valid_until__lte=today + timedelta(days=REMIND_DAYS))
    for quote in soon.filter(expiry_reminded_on__isnull=True).select_related("customer").order_by("pk").iterator():
        with transaction.atomic():
            if not Quote.objects.filter(pk=quote.pk, expiry_reminded_on__isnull=True).update(expiry_reminded_on=today):
                continue
            events.record(
                QuoteEvent.EXPIRING,
                subject=quote,
                summary=_("%(number)s for %(customer)s expires on %(date)s")
                % {"number": str(quote), "customer": quote.customer.name, "date": quote.valid_until.isoformat()},
                payload={"quote": quote.pk, "valid_until": quote.valid_until.isoformat()},
                notify=[quote.owner_id],
                link=services.quote_link(quote),
            )
            counts["reminded"] += 1
    return counts


@periodic(every=timedelta(hours=1))
@task()
def quotes_expire_and_remind() -> dict:
    return quotes_expiry()
