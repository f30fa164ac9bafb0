"""The exports of this app under the export policy (kehu.core.exports, ACC-5)."""

from django.utils.translation import gettext_lazy as _

from kehu.core.exports import ExportKind, register

SALES_RECORD = ExportKind(
    "sales_record", "dealerplans.export_salesrecord", _("a dealer's sales record"), "dealerplans.salesrecord"
)


def register_kinds() -> None:
    register(SALES_RECORD)
