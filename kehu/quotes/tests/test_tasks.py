"""The daily job: expiry of approved and sent quotes, the reminder three days before, once."""

from datetime import timedelta

from django.utils import timezone

from kehu.core.schedule import discover
from kehu.customers.models import TimelineEntry
from kehu.notifications.models import Notification
from kehu.quotes import services
from kehu.quotes.events import QuoteEvent
from kehu.quotes.models import Quote, QuoteState
from kehu.quotes.tasks import quotes_expiry


def test_expiry_and_the_reminder(draft, team, customer, book, django_capture_on_commit_callbacks):
    from kehu.quotes.tests.factories import make_quote

    today = timezone.localdate()
    services.quote_submit(quote=draft, actor=team.rep1)
    sent = make_quote(customer, team.rep1, [(book.lathe_a.pk, 1)])
    services.quote_submit(quote=sent, actor=team.rep1)
    services.quote_mark_sent(quote=sent, actor=team.rep1)
    still_draft = make_quote(customer, team.rep1, [(book.lathe_a.pk, 1)])
    Quote.objects.filter(pk__in=[draft.pk, still_draft.pk]).update(valid_until=today + timedelta(days=3))
    Quote.objects.filter(pk=sent.pk).update(valid_until=today + timedelta(days=4))

    with django_capture_on_commit_callbacks(execute=True):
        assert quotes_expiry(today=today) == {"expired": 0, "reminded": 1}
        assert quotes_expiry(today=today) == {"expired": 0, "reminded": 0}  # once
        assert quotes_expiry(today=today + timedelta(days=1)) == {"expired": 0, "reminded": 1}
    reminders = Notification.objects.filter(recipient=team.rep1, kind=QuoteEvent.EXPIRING)
    assert reminders.count() == 2
    draft.refresh_from_db()
    assert draft.expiry_reminded_on == today

    later = today + timedelta(days=5)
    with django_capture_on_commit_callbacks(execute=True):
        assert quotes_expiry(today=later) == {"expired": 2, "reminded": 0}
        assert quotes_expiry(today=later) == {"expired": 0, "reminded": 0}
    states = dict(Quote.objects.values_list("pk", "state"))
    assert states == {draft.pk: QuoteState.EXPIRED, sent.pk: QuoteState.EXPIRED, still_draft.pk: QuoteState.DRAFT}
    assert TimelineEntry.objects.filter(kind=QuoteEvent.EXPIRED).count() == 2
    assert Notification.objects.filter(recipient=team.rep1, kind=QuoteEvent.EXPIRED).count() == 0  # not a notify kind
    # An expired quote is revised into a new draft.
    revision = services.quote_revise(quote=Quote.objects.get(pk=draft.pk), actor=team.rep1)
    assert revision.state == QuoteState.DRAFT and revision.valid_until > today


def test_the_job_is_scheduled():
    assert "kehu.quotes.tasks.quotes_expire_and_remind" in discover()
