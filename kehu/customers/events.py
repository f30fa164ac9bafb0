"""The customer archive's event kinds (registered with the event door when the app loads)."""

from django.utils.translation import gettext_lazy as _

from kehu.core.events import EventKind, register
from kehu.customers.models import TimelineKind

# Moving to the apps that record them; until then every kind is declared here.
register(*(EventKind(code, label) for code, label in TimelineKind.choices))

# The account team (KAM-1, ACC-3 sharing): the member is told (kehu.customers.teams).
TEAM_MEMBER_ADDED = EventKind("team_member_added", _("Account team member added"), notify=True)
TEAM_MEMBER_CHANGED = EventKind("team_member_changed", _("Account team member changed"), notify=True)
TEAM_MEMBER_REMOVED = EventKind("team_member_removed", _("Account team member removed"), notify=True)
register(TEAM_MEMBER_ADDED, TEAM_MEMBER_CHANGED, TEAM_MEMBER_REMOVED)
