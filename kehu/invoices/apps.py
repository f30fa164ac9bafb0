from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InvoicesConfig(AppConfig):
    name = "kehu.invoices"
    label = "invoices"
    verbose_name = _("Invoices")

    def ready(self):
        from kehu.invoices import (
            approval,
            events,  # noqa: F401 (registers the kinds)
        )

        approval.register()
