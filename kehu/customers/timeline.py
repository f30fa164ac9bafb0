"""The customer's timeline as a sink of the event door: an event that names a customer becomes one
line of its history, in the same transaction as the change."""

from kehu.customers.models import TimelineEntry


def timeline_events(events) -> None:
    TimelineEntry.objects.bulk_create(
        [
            TimelineEntry(
                customer_id=e.customer_id,
                kind=e.kind.code,
                actor_id=e.actor_id,
                summary=e.summary,
                payload=e.payload,
                subject_type=e.subject_type,
                subject_id=e.subject_id,
                occurred_at=e.occurred_at,
            )
            for e in events
            if e.customer_id is not None
        ]
    )
