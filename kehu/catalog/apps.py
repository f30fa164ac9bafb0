from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "kehu.catalog"
    label = "catalog"
    verbose_name = _("Products and price book")

    def ready(self):
        # The import machinery lives below the catalog; the catalog hands it its import target.
        from kehu.catalog.imports import ProductTarget
        from kehu.integrations.targets import register

        register(ProductTarget())
        from kehu.catalog.export_kinds import register_kinds

        register_kinds()
