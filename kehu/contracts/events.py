"""The contracts' event kinds (registered with the event door when the app loads)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.core.events import register_choices


class ContractEvent(models.TextChoices):
    CREATED = "contract_created", _("Contract created")
    CHANGED = "contract_changed", _("Contract changed")
    SUBMITTED = "contract_submitted", _("Contract sent for approval")
    APPROVED = "contract_approved", _("Contract approved")
    APPROVAL_REJECTED = "contract_approval_rejected", _("Contract not approved")
    SIGNED = "contract_signed", _("Contract signed")
    AMENDED = "contract_amended", _("Contract amendment in effect")
    AMENDMENT_CHANGED = "contract_amendment_changed", _("Contract amendment drafted or changed")
    COMPLETED = "contract_completed", _("Contract completed")
    TERMINATED = "contract_terminated", _("Contract terminated")
    VOIDED = "contract_voided", _("Contract voided")
    EXPIRING = "contract_expiring", _("Your contract ends soon")
    ATTACHMENT = "contract_attachment", _("Contract attachment added or removed")
    DELETED = "contract_deleted", _("Contract moved to the recycle bin")
    RESTORED = "contract_restored", _("Contract restored")


register_choices(
    ContractEvent,
    webhooks={ContractEvent.SIGNED: "contract.signed"},
    notify=[
        ContractEvent.APPROVED,
        ContractEvent.APPROVAL_REJECTED,
        ContractEvent.AMENDED,
        ContractEvent.EXPIRING,
    ],
)
