"""Forms of the plans and payments pages (parsing only: the services validate and write)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.receivables.models import PaymentMethod, PaymentState, PlanBasis, PlanState

MAX_INSTALMENTS = 8


class PlanFilterForm(forms.Form):
    state = forms.ChoiceField(label=_("state"), choices=[("", _("Any state"))] + PlanState.choices, required=False)
    due_from = forms.DateField(
        label=_("due from"),
        required=False,
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date", "aria-label": _("due from")}),
    )
    due_to = forms.DateField(
        label=_("due to"),
        required=False,
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date", "aria-label": _("due to")}),
    )
    customer = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    owner = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    order = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    contract = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


class PaymentFilterForm(forms.Form):
    state = forms.ChoiceField(label=_("state"), choices=[("", _("Any state"))] + PaymentState.choices, required=False)
    received_from = forms.DateField(
        label=_("received from"),
        required=False,
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date", "aria-label": _("received from")}),
    )
    received_to = forms.DateField(
        label=_("received to"),
        required=False,
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date", "aria-label": _("received to")}),
    )
    unallocated = forms.BooleanField(label=_("with money not allocated"), required=False)
    customer = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    owner = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


class TermsForm(forms.Form):
    """The instalment generator: up to eight rows of share (% or amount), when and notes."""

    by = forms.ChoiceField(
        label=_("instalments by"),
        choices=[("percent", _("percentage")), ("amount", _("amount"))],
        initial="percent",
    )
    replace = forms.BooleanField(label=_("replace the current plans"), required=False)

    def __init__(self, *args, rows: int = 3, **kwargs):
        super().__init__(*args, **kwargs)
        for i in range(MAX_INSTALMENTS):
            self.fields[f"share_{i}"] = forms.DecimalField(
                label=_("share"), required=False, max_digits=16, decimal_places=2, min_value=0
            )
            self.fields[f"basis_{i}"] = forms.ChoiceField(label=_("due"), choices=PlanBasis.choices, required=False)
            self.fields[f"days_{i}"] = forms.IntegerField(
                label=_("days after"), required=False, min_value=0, max_value=3650
            )
            self.fields[f"due_on_{i}"] = forms.DateField(
                label=_("due date"), required=False, widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
            )
            self.fields[f"notes_{i}"] = forms.CharField(label=_("notes"), required=False, max_length=200)
        self.rows = rows

    def row_fields(self):
        return [
            (i, self[f"share_{i}"], self[f"basis_{i}"], self[f"days_{i}"], self[f"due_on_{i}"], self[f"notes_{i}"])
            for i in range(MAX_INSTALMENTS)
        ]

    def terms(self) -> list[dict]:
        by = self.cleaned_data["by"]
        found = []
        for i in range(MAX_INSTALMENTS):
            share = self.cleaned_data.get(f"share_{i}")
            if share in (None, ""):
                continue
            found.append(
                {
                    by: share,
                    "basis": self.cleaned_data.get(f"basis_{i}") or PlanBasis.FIXED,
                    "days_after": self.cleaned_data.get(f"days_{i}") or 0,
                    "due_on": self.cleaned_data.get(f"due_on_{i}"),
                    "notes": self.cleaned_data.get(f"notes_{i}") or "",
                }
            )
        return found


class PlanForm(forms.Form):
    amount = forms.DecimalField(label=_("amount"), max_digits=16, decimal_places=2, min_value=0)
    basis = forms.ChoiceField(label=_("due"), choices=PlanBasis.choices)
    days_after = forms.IntegerField(label=_("days after"), required=False, min_value=0, max_value=3650)
    due_on = forms.DateField(
        label=_("due date"), required=False, widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    notes = forms.CharField(label=_("notes"), required=False, max_length=200)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class PaymentForm(forms.Form):
    customer = forms.IntegerField(
        widget=forms.HiddenInput, min_value=1, error_messages={"required": _("Choose the customer.")}
    )
    amount = forms.DecimalField(
        label=_("amount"),
        max_digits=16,
        decimal_places=2,
        min_value=0,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01"}),
    )
    received_on = forms.DateField(
        label=_("date received"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    method = forms.ChoiceField(label=_("method"), choices=PaymentMethod.choices, initial=PaymentMethod.TRANSFER)
    bank_account = forms.CharField(label=_("received into account"), required=False, max_length=60)
    payer_name = forms.CharField(label=_("paid by"), required=False, max_length=200)
    reference = forms.CharField(label=_("bank reference"), required=False, max_length=60)
    notes = forms.CharField(label=_("notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    is_refund = forms.BooleanField(label=_("this is a refund to the customer"), required=False)
    allocation = forms.ChoiceField(
        label=_("allocation"),
        choices=[("auto", _("automatically, oldest due first")), ("none", _("later"))],
        initial="auto",
        widget=forms.RadioSelect,
    )


class ReverseForm(forms.Form):
    reason = forms.CharField(
        label=_("reason for the reversal"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class VoidForm(forms.Form):
    reason = forms.CharField(label=_("reason"), max_length=200, required=False)
