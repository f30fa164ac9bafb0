"""The approval event kinds (registered with the event door when the app loads).

Recipients: the approvers who must act (requested, reminded, escalated), the requester on a
decision, the people copied (抄送). The notifications app delivers them."""

from django.utils.translation import gettext_lazy as _

from kehu.core.events import EventKind, register

REQUESTED = EventKind("approval_requested", _("Approval requested"), webhook="approval.requested", notify=True)
APPROVED = EventKind("approval_approved", _("Approved"), webhook="approval.approved", notify=True)
REJECTED = EventKind("approval_rejected", _("Approval rejected"), webhook="approval.rejected", notify=True)
RETURNED = EventKind("approval_returned", _("Approval returned"), webhook="approval.returned", notify=True)
REVOKED = EventKind("approval_revoked", _("Approval request withdrawn"), webhook="approval.revoked", notify=True)
REMINDED = EventKind("approval_reminded", _("Approval reminder"), webhook="approval.reminded", notify=True)
COPIED = EventKind("approval_copied", _("Approval copied to you"), webhook="approval.copied", notify=True)

register(REQUESTED, APPROVED, REJECTED, RETURNED, REVOKED, REMINDED, COPIED)
