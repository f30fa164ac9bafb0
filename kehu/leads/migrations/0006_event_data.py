import re

from django.db import migrations, models
from django.utils import translation

STATUSES = {"new", "contacted", "qualified", "disqualified", "converted"}
SOURCES = {
    "manual": "Manual entry",
    "web_inquiry": "Web inquiry",
    "import": "Import",
    "trade_show": "Trade show",
    "referral": "Referral",
    "other": "Other",
}
FIELD = re.compile(r"^[a-z_]+$")


def _labels() -> tuple[dict, list]:
    """Source labels and "Imported from <file>" patterns as they were written, in both languages."""
    labels, imported = {}, []
    for language in ("en", "zh-hans"):
        with translation.override(language):
            for code, label in SOURCES.items():
                labels[translation.gettext(label)] = code
            head, _sep, tail = translation.gettext("Imported from %(file)s").partition("%(file)s")
            imported.append(re.compile("^" + re.escape(head) + "(.*)" + re.escape(tail) + "$"))
    return labels, imported


def _parse(kind: str, summary: str, labels: dict, imported: list) -> dict | None:
    if kind == "status":
        before, sep, after = summary.partition(" → ")
        if sep and before in STATUSES and after in STATUSES:
            return {"from": before, "to": after}
    elif kind == "changed":
        names = summary.split(", ")
        if summary and all(FIELD.match(n) for n in names):
            return {"fields": names}
    elif kind == "created":
        label, sep, rest = summary.partition(" · ")
        if label in labels:
            data = {"source": labels[label]}
            for pattern in imported:
                if sep and (match := pattern.match(rest)):
                    data["file"] = match.group(1)
            if not sep or "file" in data:
                return data
    return None


def words_to_data(apps, schema_editor):
    """History lines written before `data` kept codes in their text ("new → contacted") or a label in
    the writer's language ("展会"): move what can be read back into `data`."""
    LeadEvent = apps.get_model("leads", "LeadEvent")
    labels, imported = _labels()
    rows = LeadEvent.objects.filter(kind__in=["status", "changed", "created"]).only("id", "kind", "summary")
    last = 0
    # Pages by id, each read whole before it is written: SQLite does not isolate a cursor from writes.
    while page := list(rows.filter(id__gt=last).order_by("id")[:2000]):
        last = page[-1].id
        batch = []
        for event in page:
            data = _parse(event.kind, event.summary, labels, imported)
            if data is not None:
                event.data, event.summary = data, ""
                batch.append(event)
        LeadEvent.objects.bulk_update(batch, ["data", "summary"], batch_size=500)

class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0005_repeat_inquiries"),
    ]

    operations = [
        migrations.AddField(
            model_name="leadevent",
            name="data",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.RunPython(words_to_data, migrations.RunPython.noop),
    ]
