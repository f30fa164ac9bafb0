from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "kehu.customers"
    label = "customers"
    verbose_name = _("Customers")

    def ready(self):
        from kehu.core import events
        from kehu.customers import approval
        from kehu.customers import events as customer_events  # noqa: F401 (registers the kinds)
        from kehu.customers.timeline import timeline_events

        events.sink(timeline_events, after_commit=False)
        approval.register()
