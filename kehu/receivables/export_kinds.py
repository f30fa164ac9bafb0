"""The exports of this app under the export policy (kehu.core.exports, ACC-5)."""

from django.utils.translation import gettext_lazy as _

from kehu.core.exports import ExportKind, register

AGEING = ExportKind("ageing", "receivables.export_ageing", _("the ageing report"), "receivables.customerbalance")


def register_kinds() -> None:
    register(AGEING)
