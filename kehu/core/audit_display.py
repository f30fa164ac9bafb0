"""The audit trail in words: what a stored entry says in codes (model labels, field names, choice
values, UTC timestamps, an export's JSON summary) as the reader's language says it.

`describe_entries(entries)` reads at most one query per kind of record named by id in the page
(owners in export filters, users in `owner` changes stored as ids), whatever the number of entries.
A model may name keys that are not its fields in a class attribute `audit_labels` ({key: label})
and give choices to JSON fields in `audit_choices` ({key: choices})."""

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import formats, timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext

from kehu.core.models import AuditAction, AuditEntry
from kehu.core.text import join_words

# Keys that several services write beside the model's own fields.
COMMON_LABELS = {
    "import": gettext_lazy("import"),
    "job": gettext_lazy("background job"),
    "reason": gettext_lazy("reason"),
    "note": gettext_lazy("note"),
    "q": gettext_lazy("search"),
}
EXPORT_WHAT = {
    "customers.customer": gettext_lazy("the customer list"),
    "customers.contact": gettext_lazy("contact cards"),
}
FORMATS = {"csv": "CSV", "xlsx": "Excel", "vcard": "vCard"}
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
VCARD_WHAT = re.compile(r"^(contact|customer) (\d+)$")
# Export summary keys that are bookkeeping, not something a reader needs.
EXPORT_SKIP = {"format", "rows", "filters", "job", "ids", "what", "kind", "reason"}
LINKS = {
    "customers.customer": "workspace:customer-detail",
    "leads.lead": "leads:lead-detail",
    "sales.opportunity": "sales:opportunity-detail",
}


@dataclass
class Change:
    label: str
    before: str
    after: str


@dataclass
class AuditLine:
    entry: AuditEntry
    action: str
    record_type: str
    record: str
    link: str = ""
    changes: list[Change] = field(default_factory=list)
    summary: str = ""


def model_for(target_type: str):
    try:
        return apps.get_model(target_type)
    except (LookupError, ValueError):
        return None


def record_type_label(target_type: str, *, plural: bool = False) -> str:
    model = model_for(target_type)
    if model is None:
        return _("records") if plural else _("record")
    return capfirst(str(model._meta.verbose_name_plural if plural else model._meta.verbose_name))


def _field(model, key: str):
    if model is None:
        return None
    try:
        return model._meta.get_field(key)
    except FieldDoesNotExist:
        return None


def field_label(model, key: str) -> str:
    extra = getattr(model, "audit_labels", {}) if model is not None else {}
    if key in extra:
        return capfirst(str(extra[key]))
    f = _field(model, key)
    if f is not None and getattr(f, "verbose_name", None):
        return capfirst(str(f.verbose_name))
    if key in COMMON_LABELS:
        return capfirst(str(COMMON_LABELS[key]))
    return capfirst(key.replace("_", " "))


def _key_label(model, key: str) -> str:
    """A key inside a stored dict: a field of `model`, or `app.model.field` (records of that model)."""
    parts = key.split(".")
    if len(parts) == 3 and model_for(f"{parts[0]}.{parts[1]}") is not None:
        return record_type_label(f"{parts[0]}.{parts[1]}", plural=True)
    return field_label(model, key)


class _Names:
    """Names of records stored by id, read in one query per model for a whole page of entries."""

    def __init__(self):
        self.wanted: dict = defaultdict(set)
        self.found: dict = {}

    def want(self, model, pk) -> None:
        if model is not None and isinstance(pk, int) and not isinstance(pk, bool):
            self.wanted[model].add(pk)

    def load(self) -> None:
        for model, ids in self.wanted.items():
            for obj in model._base_manager.filter(pk__in=ids):
                self.found[(model, obj.pk)] = str(obj)

    def name(self, model, pk) -> str | None:
        return self.found.get((model, pk))


def _choices_of(model, key: str, f):
    choices = getattr(model, "audit_choices", {}).get(key) if model is not None else None
    if callable(choices):  # worked out when read: e.g. the event kinds the apps registered
        choices = choices()
    if choices is None and f is not None and getattr(f, "choices", None):
        choices = f.flatchoices
    return dict(choices) if choices else None


def _local(value: str) -> str:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_default_timezone())
    return formats.date_format(timezone.localtime(moment), "Y-m-d H:i")


def value_text(model, key: str, value, names: _Names | None = None) -> str:
    """One stored value as the reader should see it."""
    f = _field(model, key)
    if value is None or value == "":
        return "—"
    if isinstance(value, list):
        return join_words(value_text(model, key, v, names) for v in value) or "—"
    if isinstance(value, dict):
        return join_words(f"{_key_label(model, k)} {value_text(model, k, v, names)}" for k, v in value.items())
    choices = _choices_of(model, key, f)
    if choices is not None and value in choices:
        return str(choices[value])
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(f, models.ForeignKey) and names is not None:
        name = names.name(f.related_model, value)
        if name is not None:
            return name
    if isinstance(f, models.DecimalField):
        try:
            return formats.number_format(Decimal(str(value)), f.decimal_places, use_l10n=True, force_grouping=True)
        except (InvalidOperation, ValueError):
            return str(value)
    if isinstance(value, str) and DATETIME.match(value) and (f is None or isinstance(f, models.DateTimeField)):
        return _local(value)
    return str(value)


def _want_ids(model, data: dict, names: _Names) -> None:
    for key, value in data.items():
        f = _field(model, key)
        if not isinstance(f, models.ForeignKey):
            continue
        for v in value if isinstance(value, list) else [value]:
            names.want(f.related_model, v)


def _export_text(entry: AuditEntry, model, names: _Names) -> str:
    from kehu.core.exports import kind_for

    data = entry.changes or {}
    kind = kind_for(str(data.get("kind", "")), entry.target_type)
    what = (
        (kind.label if kind else None)
        or EXPORT_WHAT.get(entry.target_type)
        or (model._meta.verbose_name_plural if model else _("records"))
    )
    details = []
    fmt = str(data.get("format", ""))
    if fmt:
        details.append(FORMATS.get(fmt, fmt.upper()))
    if isinstance(data.get("rows"), int):
        n = data["rows"]
        count = formats.number_format(n, use_l10n=True, force_grouping=True)
        if fmt == "vcard":
            details.append(ngettext("%(n)s card", "%(n)s cards", n) % {"n": count})
        else:
            details.append(ngettext("%(n)s row", "%(n)s rows", n) % {"n": count})
    match = VCARD_WHAT.match(str(data.get("what", "")))
    if match:
        source = model_for(f"customers.{match.group(1)}")
        name = names.name(source, int(match.group(2))) or f"#{match.group(2)}"
        label = _("customer") if match.group(1) == "customer" else _("contact")
        details.append(f"{label} {name}")
    filters = data.get("filters")
    if isinstance(filters, dict):
        if filters:
            words = join_words(
                f"{field_label(model, k)} = {value_text(model, k, v, names)}" for k, v in filters.items()
            )
            details.append(_("filters: %(filters)s") % {"filters": words})
        else:
            details.append(_("no filters"))
    for key, value in data.items():
        if key not in EXPORT_SKIP:
            details.append(f"{field_label(model, key)} {value_text(model, key, value, names)}")
    # The export policy (kehu.core.exports): why a large export was made, and whether it held
    # personal information (PIPL).
    if data.get("reason"):
        details.append(_("reason: %(reason)s") % {"reason": data["reason"]})
    if kind is not None and kind.personal:
        details.append(_("personal information"))
    return _("Exported %(what)s (%(details)s)") % {
        "what": what,
        "details": pgettext("clause separator", ", ").join(str(d) for d in details),
    }


def _live_targets(entries) -> set[tuple[str, int]]:
    """(type, id) of the linkable records that still exist outside the recycle bin: one query per
    type. A deleted deal or lead has no page, so the log names it without a link."""
    wanted: dict[str, set[int]] = {}
    for entry in entries:
        if entry.target_type in LINKS and entry.target_id:
            wanted.setdefault(entry.target_type, set()).add(entry.target_id)
    live = set()
    for target_type, ids in wanted.items():
        model = model_for(target_type)
        if model is None:
            continue
        qs = model._default_manager.filter(pk__in=ids)
        if any(f.name == "deleted_at" for f in model._meta.concrete_fields):
            qs = qs.filter(deleted_at__isnull=True)
        live |= {(target_type, pk) for pk in qs.values_list("pk", flat=True)}
    return live


def describe_entries(entries) -> list[AuditLine]:
    from django.urls import NoReverseMatch, reverse

    entries = list(entries)
    names = _Names()
    for entry in entries:
        model = model_for(entry.target_type)
        data = entry.changes or {}
        if entry.action == AuditAction.EXPORT:
            _want_ids(model, data.get("filters") or {}, names)
            match = VCARD_WHAT.match(str(data.get("what", "")))
            if match:
                names.want(model_for(f"customers.{match.group(1)}"), int(match.group(2)))
        else:
            _want_ids(model, data, names)
    names.load()
    live = _live_targets(entries)
    lines = []
    for entry in entries:
        model = model_for(entry.target_type)
        line = AuditLine(
            entry=entry,
            action=entry.get_action_display(),
            record_type=record_type_label(entry.target_type),
            record=entry.target_repr or (f"#{entry.target_id}" if entry.target_id else ""),
        )
        if (entry.target_type, entry.target_id) in live and entry.action != AuditAction.DELETE:
            try:
                line.link = reverse(LINKS[entry.target_type], args=[entry.target_id])
            except NoReverseMatch:
                pass
        data = entry.changes or {}
        if entry.action == AuditAction.EXPORT:
            line.summary = _export_text(entry, model, names)
        else:
            for key, pair in data.items():
                before, after = pair if isinstance(pair, list) and len(pair) == 2 else (None, pair)
                line.changes.append(
                    Change(
                        label=field_label(model, key),
                        before=value_text(model, key, before, names),
                        after=value_text(model, key, after, names),
                    )
                )
        lines.append(line)
    return lines
