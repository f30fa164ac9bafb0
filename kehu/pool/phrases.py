"""Sentences about a move that several places say the same way (timeline, brief page, brief mail)."""

from django.utils.translation import gettext as _
from django.utils.translation import ngettext


def work_phrase(commitments: int, visits: int, holder) -> str:
    """'2 open commitments and 1 planned visit now with 王芳' (empty when nothing moved)."""
    if not commitments and not visits:
        return ""
    parts = []
    if commitments:
        parts.append(ngettext("%(n)s open commitment", "%(n)s open commitments", commitments) % {"n": commitments})
    if visits:
        parts.append(ngettext("%(n)s planned visit", "%(n)s planned visits", visits) % {"n": visits})
    return _("%(work)s now with %(user)s") % {"work": _(" and ").join(parts), "user": holder}
