"""Periodic and long-running work of the pool: the recycle (自动收回) and large handovers."""

from datetime import timedelta

from django.tasks import task

from kehu.core.schedule import periodic


@periodic(every=timedelta(hours=1))
@task()
def recycle_pool_customers() -> dict:
    """Return customers to the pool by rule and warn owners ahead; safe to run any number of times."""
    from kehu.pool.services import pool_recycle

    result = pool_recycle()
    return {"recycled": len(result.recycled), "warned": len(result.warned)}


@task()
def run_handover(handover_id: int, base_url: str = "") -> int:
    """A large handover, in batches; the brief page shows its progress."""
    from kehu.pool.services import handover_run

    return handover_run(handover_id=handover_id, base_url=base_url).done
