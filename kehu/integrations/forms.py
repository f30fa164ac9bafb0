from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.integrations.targets import CUSTOMERS, ImportTarget, choices_of


class UploadForm(forms.Form):
    target = forms.ChoiceField(label=_("Import"), choices=(), widget=forms.RadioSelect, initial=CUSTOMERS)
    file = forms.FileField(
        label=_("File"),
        help_text=_("CSV (UTF-8 or GBK), Excel (.xlsx) or vCard (.vcf) from a phone or mail program."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.xlsx,.vcf,.vcard"}),
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
