"""The exports of this app under the export policy (kehu.core.exports, ACC-5)."""

from django.utils.translation import gettext_lazy as _

from kehu.core.exports import ExportKind, register

PRODUCTS = ExportKind("products", "catalog.export_product", _("the product list"), "catalog.product")


def register_kinds() -> None:
    register(PRODUCTS)
