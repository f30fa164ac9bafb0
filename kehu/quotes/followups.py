"""What may follow an accepted quote, offered on its page by the apps above (contracts, orders).

The quotes app sits below them and may not import them: each registers here, from its
AppConfig.ready, a `Followup` (a label, the URL name of its "new" page, which takes `?quote=<pk>`,
and the permission needed). The quote's page shows the follow-ups the user may use.
"""

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Followup:
    label: Any  # a lazy translation: "Create contract"
    url_name: str  # "contracts:new"
    permission: str  # "contracts.add_contract"


_followups: list[Followup] = []


def register(followup: Followup) -> None:
    if followup not in _followups:
        _followups.append(followup)


def for_user(user) -> list[Followup]:
    return [f for f in _followups if user.has_perm(f.permission)]
