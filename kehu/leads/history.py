"""A lead's history in words: the kind of each line and its codes (statuses, source, field names)
become labels in the reader's language when the page is drawn, never when the line was written."""

from dataclasses import dataclass

from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext as _

from kehu.core.text import join_words
from kehu.leads.models import Lead, LeadEvent, LeadEventKind, LeadSource, LeadStatus


@dataclass(frozen=True)
class HistoryLine:
    event: LeadEvent
    title: str
    detail: str

    @property
    def text(self) -> str:
        if not self.detail:
            return self.title
        return _("%(what)s: %(detail)s") % {"what": self.title, "detail": self.detail}


def _label(choices, value) -> str:
    return str(choices(value).label) if value in choices.values else str(value or "—")


def _field_label(name: str) -> str:
    try:
        return str(Lead._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name.replace("_", " ")


def event_detail(event: LeadEvent) -> str:
    """What happened beyond the kind: `4 → 5`-style moves as labels, the source, the changed fields."""
    data = event.data or {}
    if event.kind == LeadEventKind.STATUS and "to" in data:
        return f"{_label(LeadStatus, data.get('from'))} → {_label(LeadStatus, data['to'])}"
    if event.kind == LeadEventKind.CREATED and "source" in data:
        source = _label(LeadSource, data["source"])
        if data.get("file"):
            return f"{source} · " + _("imported from %(file)s") % {"file": data["file"]}
        return source
    if event.kind == LeadEventKind.CHANGED and "fields" in data:
        return join_words(_field_label(name) for name in data["fields"])
    return event.summary


def lead_history(events) -> list[HistoryLine]:
    return [HistoryLine(event=e, title=e.get_kind_display(), detail=event_detail(e)) for e in events]
