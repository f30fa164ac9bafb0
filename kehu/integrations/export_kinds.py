"""The exports of this app under the export policy (kehu.core.exports, ACC-5)."""

from django.utils.translation import gettext_lazy as _

from kehu.core.exports import ExportKind, register

CUSTOMERS = ExportKind(
    "customers", "customers.export_customer", _("the customer list"), "customers.customer", personal=True
)
CONTACTS = ExportKind("contacts", "customers.export_contact", _("contact cards"), "customers.contact", personal=True)


def pending_exports(user, since):
    """The user's export jobs still being written: they count against the hour's limit now."""
    from kehu.integrations.models import ExportJob, ExportStatus

    return list(
        ExportJob.objects.filter(
            created_by_id=user.pk, created_at__gt=since, status__in=[ExportStatus.QUEUED, ExportStatus.RUNNING]
        ).values_list("created_at", "expected_rows")
    )


def register_kinds() -> None:
    from kehu.core.exports import register_pending

    register(CUSTOMERS, CONTACTS)
    register_pending(pending_exports)
