"""Periodic upkeep of the database itself."""

from datetime import timedelta

from django.tasks import task

from kehu.core.schedule import periodic


@periodic(every=timedelta(days=1))
@task()
def refresh_database_statistics() -> int:
    """Fresh planner statistics as the tables grow (see kehu.core.dbstats)."""
    from kehu.core.dbstats import refresh_statistics

    return len(refresh_statistics())
