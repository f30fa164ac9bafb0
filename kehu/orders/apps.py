from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "kehu.orders"
    label = "orders"
    verbose_name = _("Orders and sales records")

    def ready(self):
        from kehu.orders import (
            answers,
            approval,
            events,  # noqa: F401 (registers the kinds)
        )

        approval.register()
        answers.register()

        from kehu.integrations.targets import register
        from kehu.orders.imports import OrderTarget, SellThroughTarget

        register(SellThroughTarget())
        register(OrderTarget())

        from kehu.quotes import followups

        followups.register(followups.Followup(_("Create order"), "orders:new", "orders.add_order"))
