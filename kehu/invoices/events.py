"""The invoices' event kinds (registered with the event door when the app loads).

`invoice_issued` and `invoice_reversed` change a customer's exposure: the receivables app listens
to them with an in-transaction sink. Every invoice event carries `customer_id` (the timeline).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.core.events import register_choices


class InvoiceEvent(models.TextChoices):
    REQUESTED = "invoice_requested", _("Invoice requested")
    CHANGED = "invoice_changed", _("Invoice request changed")
    SUBMITTED = "invoice_submitted", _("Invoice request sent for approval")
    APPROVED = "invoice_approved", _("Invoice request approved")
    APPROVAL_REJECTED = "invoice_approval_rejected", _("Invoice request not approved")
    CANCELLED = "invoice_cancelled", _("Invoice request cancelled")
    ISSUED = "invoice_issued", _("Invoice issued")
    REVERSED = "invoice_reversed", _("Invoice reversed (红冲)")
    TITLE_SAVED = "invoice_title_saved", _("Invoice title saved")
    TITLE_DELETED = "invoice_title_deleted", _("Invoice title removed")


# The kinds that change what a customer was invoiced (exposure, balances, rollups).
INVOICED_CHANGED = (InvoiceEvent.ISSUED, InvoiceEvent.REVERSED)

register_choices(
    InvoiceEvent,
    webhooks={InvoiceEvent.ISSUED: "invoice.issued", InvoiceEvent.REVERSED: "invoice.reversed"},
    notify=[InvoiceEvent.APPROVED, InvoiceEvent.APPROVAL_REJECTED, InvoiceEvent.ISSUED, InvoiceEvent.REVERSED],
)
