"""Background jobs of classification: the daily tier suggestion run (CLS-1)."""

from datetime import timedelta

from django.tasks import task

from kehu.classification import services
from kehu.core.schedule import periodic


@periodic(every=timedelta(days=1))
@task
def suggest_tiers():
    """Rank customers by revenue and potential (ABC) and propose promotions and demotions."""
    return services.suggestions_refresh()
