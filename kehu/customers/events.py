"""The customer archive's event kinds (registered with the event door when the app loads)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.core.events import EventKind, register, register_choices


class CustomerEvent(models.TextChoices):
    CUSTOMER_CREATED = "customer_created", _("Customer created")
    CUSTOMER_CHANGED = "customer_changed", _("Customer changed")
    CUSTOMER_DELETED = "customer_deleted", _("Customer moved to the recycle bin")
    CUSTOMER_RESTORED = "customer_restored", _("Customer restored")
    OWNER_CHANGED = "owner_changed", _("Owner changed")
    TIER_CHANGED = "tier_changed", _("Tier changed")
    CONTACT_ADDED = "contact_added", _("Contact added")
    CONTACT_CHANGED = "contact_changed", _("Contact changed")
    CONTACT_REMOVED = "contact_removed", _("Contact removed")
    CONTACT_LEFT = "contact_left", _("Contact moved to another customer")
    CONTACT_JOINED = "contact_joined", _("Contact joined from another customer")
    FACT_ADDED = "fact_added", _("Information recorded")
    CUSTOMER_MERGED = "customer_merged", _("Duplicate merged in")


register_choices(CustomerEvent)

# The account team (KAM-1, ACC-3 sharing): the member is told (kehu.customers.teams).
TEAM_MEMBER_ADDED = EventKind("team_member_added", _("Account team member added"), notify=True)
TEAM_MEMBER_CHANGED = EventKind("team_member_changed", _("Account team member changed"), notify=True)
TEAM_MEMBER_REMOVED = EventKind("team_member_removed", _("Account team member removed"), notify=True)
register(TEAM_MEMBER_ADDED, TEAM_MEMBER_CHANGED, TEAM_MEMBER_REMOVED)
