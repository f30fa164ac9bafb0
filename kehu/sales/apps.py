from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "kehu.sales"
    label = "sales"
    verbose_name = _("Sales")

    def ready(self):
        from kehu.core import lookups
        from kehu.sales import events, selectors  # noqa: F401 (events registers the kinds)

        lookups.answer(lookups.OPEN_DEAL, selectors.customers_with_open_deal)
        lookups.answer(lookups.LAST_WON, selectors.last_won_deals)
