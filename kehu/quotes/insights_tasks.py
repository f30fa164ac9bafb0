"""The nightly count of products quoted together, for the cross-sell suggestions (SAL-10)."""

from datetime import timedelta

from django.tasks import task

from kehu.core.schedule import periodic
from kehu.quotes.affinity import affinity_rebuild


@periodic(every=timedelta(days=1))
@task
def quote_affinity_rebuild() -> int:
    """Count the product pairs again (idempotent: the table is replaced)."""
    return affinity_rebuild()
