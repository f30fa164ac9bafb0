"""Every domain announces its events here; subscribers get signed deliveries (INT-4)."""


def webhook_emit(*, event: str, payload: dict) -> None:
    """Queue a delivery of `event` (e.g. "lead.created") with a JSON-serialisable `payload` to every
    active subscription, after the current transaction commits. Call it from services only."""
