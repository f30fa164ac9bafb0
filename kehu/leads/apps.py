from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeadsConfig(AppConfig):
    name = "kehu.leads"
    label = "leads"
    verbose_name = _("Leads")

    def ready(self):
        # The import machinery lives below the leads app; the leads hand it their import target.
        from kehu.integrations.targets import register
        from kehu.leads import events  # noqa: F401 (registers the kinds)
        from kehu.leads.imports import LeadTarget

        register(LeadTarget())
