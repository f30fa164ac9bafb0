from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DealerplansConfig(AppConfig):
    name = "kehu.dealerplans"
    label = "dealerplans"
    verbose_name = _("Dealer plans")

    def ready(self):
        from kehu.dealerplans import events  # noqa: F401 (registers the kinds)
        from kehu.dealerplans.export_kinds import register_kinds

        register_kinds()
