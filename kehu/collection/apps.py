from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CollectionConfig(AppConfig):
    name = "kehu.collection"
    label = "collection"
    verbose_name = _("Information collection")

    def ready(self):
        from kehu.collection import events  # noqa: F401 (registers the kinds)
