from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClassificationConfig(AppConfig):
    name = "kehu.classification"
    label = "classification"
    verbose_name = _("Classification")

    def ready(self):
        from kehu.classification import (
            approval,
            events,  # noqa: F401 (registers the kinds)
        )

        approval.register()
