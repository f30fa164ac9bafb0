from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    name = "kehu.integrations"
    label = "integrations"
    verbose_name = _("Import and export")

    def ready(self):
        from kehu.integrations import events  # noqa: F401 (registers the kinds)
        from kehu.integrations.customer_import import CustomerTarget
        from kehu.integrations.targets import register

        register(CustomerTarget())
        from kehu.integrations.export_kinds import register_kinds

        register_kinds()
