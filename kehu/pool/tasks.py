"""Periodic and long-running work of the pool: the recycle (自动收回) and large handovers."""

from datetime import datetime, timedelta

from django.tasks import task

from kehu.core.schedule import periodic


@periodic(every=timedelta(hours=1))
@task()
def recycle_pool_customers(now: str | None = None) -> dict:
    """Return customers to the pool by rule and warn owners ahead; safe to run any number of times.

    `now` (ISO 8601) runs the rules as of another moment: for tests and for checking a rule change."""
    from kehu.pool.services import pool_recycle

    result = pool_recycle(now=datetime.fromisoformat(now) if now else None)
    # Counts, not ids: the result is stored with the task, and a recycle can move many thousands.
    return {"recycled": len(result.recycled), "warned": len(result.warned)}


@task()
def run_handover(handover_id: int, base_url: str = "") -> int:
    """A large handover, in batches; the brief page shows its progress."""
    from kehu.pool.services import handover_run

    return handover_run(handover_id=handover_id, base_url=base_url).done
