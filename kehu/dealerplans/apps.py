from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DealerplansConfig(AppConfig):
    name = "kehu.dealerplans"
    label = "dealerplans"
    verbose_name = _("Dealer plans")
