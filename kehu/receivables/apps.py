from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReceivablesConfig(AppConfig):
    name = "kehu.receivables"
    label = "receivables"
    verbose_name = _("Receivables")
