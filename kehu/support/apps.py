from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupportConfig(AppConfig):
    name = "kehu.support"
    label = "support"
    verbose_name = _("After-sales service")

    def ready(self):
        from kehu.support import events as _kinds  # noqa: F401 (registers the kinds)
        from kehu.support import lookups

        lookups.register()
