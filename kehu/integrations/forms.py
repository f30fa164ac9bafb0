from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.integrations.targets import CUSTOMERS, ImportTarget, choices_of


class UploadForm(forms.Form):
    target = forms.ChoiceField(label=_("Import"), choices=(), widget=forms.RadioSelect, initial=CUSTOMERS)
    file = forms.FileField(
        label=_("File"),
        help_text=_(
            "CSV (UTF-8 or GBK), Excel (.xlsx, .xls), WPS or OpenDocument (.ods) workbooks, or vCard (.vcf) "
            "from a phone or mail program."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.xlsx,.xlsm,.xls,.et,.ods,.vcf,.vcard"}),
    )

    def __init__(self, *args, targets: list[ImportTarget], **kwargs):
        """`targets`: what the user may import; the first is chosen unless the page asks for another."""
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = choices_of(targets)
        if targets and self.initial.get("target") not in {t.name for t in targets}:
            self.initial["target"] = targets[0].name


def field_choices(target: ImportTarget, *, with_owner: bool) -> list[tuple[str, str]]:
    choices = [("", _("— do not import —"))]
    choices += [(f.name, f.label) for f in target.fields.values() if with_owner or f.name != "owner"]
    return choices


class MappingForm(forms.Form):
    """One select per column of the file: which field it fills."""

    def __init__(self, *args, target, headers, mapping, with_owner, **kwargs):
        super().__init__(*args, **kwargs)
        choices = field_choices(target, with_owner=with_owner)
        for index, header in enumerate(headers):
            self.fields[f"col_{index}"] = forms.ChoiceField(
                label=header or _("Column %(n)s") % {"n": index + 1},
                choices=choices,
                required=False,
                initial=mapping.get(str(index), ""),
            )

    def mapping(self) -> dict[str, str]:
        return {name[4:]: value for name, value in self.cleaned_data.items() if value}


class LayoutForm(forms.Form):
    """Where the records are: the sheet of a workbook and the row with the column names."""

    sheet = forms.ChoiceField(label=_("Sheet"), required=False)
    header_row = forms.IntegerField(label=_("Column names in row"), min_value=1, max_value=30)
    two_rows = forms.BooleanField(label=_("The column names span two rows (group headers above them)"), required=False)

    def __init__(self, *args, job, **kwargs):
        kwargs.setdefault(
            "initial", {"sheet": job.sheet, "header_row": job.header_row, "two_rows": job.header_depth == 2}
        )
        super().__init__(*args, **kwargs)
        self.fields["sheet"].choices = [(s["name"], sheet_label(s)) for s in job.sheets]
        if len(job.sheets) < 2:
            del self.fields["sheet"]


def sheet_label(sheet: dict) -> str:
    if sheet.get("hidden"):
        return _("%(name)s (hidden)") % {"name": sheet["name"]}
    if not sheet.get("rows"):
        return _("%(name)s (empty)") % {"name": sheet["name"]}
    return sheet["name"]


class ValuesForm(forms.Form):
    """One select per picklist value of the file that is none of the choices: which choice it
    means, or leave the field empty. Fields are named by position (`<field>__<n>`)."""

    def __init__(self, *args, target: ImportTarget, unmatched: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.groups = []
        for name, items in unmatched.items():
            f = target.fields.get(name)
            if f is None or f.choices is None:
                continue
            choices = [("", _("— leave empty —"))] + [(v, label) for v, label in f.choices.choices if v]
            keys = []
            for position, item in enumerate(items):
                key = f"{name}__{position}"
                self.fields[key] = forms.ChoiceField(
                    label=item["value"], choices=choices, required=False, initial=item.get("guess", "")
                )
                keys.append((key, item))
            self.groups.append((f, [(self[key], item) for key, item in keys]))

    def values(self, unmatched: dict) -> dict[str, dict[str, str]]:
        chosen: dict[str, dict[str, str]] = {}
        for name, items in unmatched.items():
            for position, item in enumerate(items):
                key = f"{name}__{position}"
                if key in self.cleaned_data:
                    chosen.setdefault(name, {})[item["value"]] = self.cleaned_data[key] or ""
        return chosen
