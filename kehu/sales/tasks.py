"""Periodic work of sales: the forecast sums (SAL-11)."""

from datetime import timedelta

from django.tasks import task

from kehu.core.schedule import periodic


@periodic(every=timedelta(minutes=15))
@task()
def refresh_forecast() -> int:
    """Recompute the forecast rows from the opportunities; safe to run any number of times."""
    from kehu.sales.forecast import forecast_refresh

    return forecast_refresh()
