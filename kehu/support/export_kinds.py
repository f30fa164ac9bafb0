"""The exports of this app under the export policy (kehu.core.exports, ACC-5)."""

from django.utils.translation import gettext_lazy as _

from kehu.core.exports import ExportKind, register

COMPLAINT_REPORT = ExportKind(
    "complaint_report", "support.export_complaint_report", _("the complaint statistics report"), "support.complaint"
)
SERVICE_ECONOMICS = ExportKind(
    "service_economics", "support.export_service_economics", _("the service economics"), "support.serviceeconomics"
)


def register_kinds() -> None:
    register(COMPLAINT_REPORT, SERVICE_ECONOMICS)
