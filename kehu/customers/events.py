"""The customer archive's event kinds (registered with the event door when the app loads)."""

from kehu.core.events import EventKind, register
from kehu.customers.models import TimelineKind

# Moving to the apps that record them; until then every kind is declared here.
register(*(EventKind(code, label) for code, label in TimelineKind.choices))
