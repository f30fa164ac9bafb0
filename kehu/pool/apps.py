from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PoolConfig(AppConfig):
    name = "kehu.pool"
    label = "pool"
    verbose_name = _("Public pool and handover")

    def ready(self):
        from kehu.pool import events  # noqa: F401 (registers the kinds)
