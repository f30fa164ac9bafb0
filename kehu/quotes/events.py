"""The quotes' event kinds (registered with the event door when the app loads)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.core.events import register_choices


class QuoteEvent(models.TextChoices):
    CREATED = "quote_created", _("Quote created")
    CHANGED = "quote_changed", _("Quote changed")
    SUBMITTED = "quote_submitted", _("Quote sent for approval")
    APPROVED = "quote_approved", _("Quote approved")
    APPROVAL_REJECTED = "quote_approval_rejected", _("Quote not approved")
    SENT = "quote_sent", _("Quote sent to the customer")
    EMAILED = "quote_emailed", _("Quote e-mailed with its PDF")
    SHARED = "quote_shared", _("Quote share link created")
    SHARE_REVOKED = "quote_share_revoked", _("Quote share link revoked")
    ACCEPTED = "quote_accepted", _("Quote accepted")
    REJECTED = "quote_rejected", _("Quote rejected by the customer")
    EXPIRED = "quote_expired", _("Quote expired")
    EXPIRING = "quote_expiring", _("Your quote expires soon")
    REVISED = "quote_revised", _("Quote revised")
    PRICE_CONFLICT = "quote_price_conflict", _("Another rep quotes this customer a different price")
    DELETED = "quote_deleted", _("Quote moved to the recycle bin")
    RESTORED = "quote_restored", _("Quote restored")


register_choices(
    QuoteEvent,
    webhooks={QuoteEvent.APPROVED: "quote.approved", QuoteEvent.ACCEPTED: "quote.accepted"},
    notify=[QuoteEvent.APPROVED, QuoteEvent.APPROVAL_REJECTED, QuoteEvent.EXPIRING, QuoteEvent.PRICE_CONFLICT],
)
