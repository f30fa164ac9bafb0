from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QuotesConfig(AppConfig):
    name = "kehu.quotes"
    label = "quotes"
    verbose_name = _("Quotes")

    def ready(self):
        from kehu.quotes import (
            approval,
            events,  # noqa: F401 (registers the kinds)
            insights_tasks,  # noqa: F401 (schedules the nightly cross-sell count)
            tasks,  # noqa: F401 (schedules the expiry job)
        )

        approval.register()
