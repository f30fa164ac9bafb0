"""Forms of the invoice pages: titles, the request's header, filters, issue and reversal."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.invoices.models import InvoiceState, InvoiceTitle, InvoiceType
from kehu.users.models import User

DATE = {"type": "date"}


class TitleForm(forms.ModelForm):
    class Meta:
        model = InvoiceTitle
        fields = ["kind", "name", "tax_number", "bank_name", "bank_account", "address", "phone", "is_default"]
        widgets = {"kind": forms.RadioSelect}
        labels = {"is_default": _("Use as the default title"), "name": _("Name on the invoice")}


class RequestForm(forms.Form):
    title = forms.ModelChoiceField(
        queryset=InvoiceTitle.objects.none(), label=_("Invoice title (抬头)"), empty_label=None
    )
    invoice_type = forms.ChoiceField(choices=InvoiceType.choices, label=_("Invoice type"))
    notes = forms.CharField(
        label=_("Notes for finance"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, titles, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["title"].queryset = titles


class FilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=60,
        widget=forms.TextInput(attrs={"placeholder": _("Request or invoice number"), "type": "search"}),
    )
    state = forms.ChoiceField(choices=[("", _("Any state")), *InvoiceState.choices], required=False, label=_("State"))
    invoice_type = forms.ChoiceField(
        choices=[("", _("Any type")), *InvoiceType.choices], required=False, label=_("Invoice type")
    )
    owner = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, label=_("Requested by"), empty_label=_("Anyone")
    )
    customer = forms.IntegerField(required=False, min_value=1, max_value=2**53, widget=forms.HiddenInput)
    issued_from = forms.DateField(label=_("Issued from"), required=False, widget=forms.DateInput(attrs=DATE))
    issued_to = forms.DateField(label=_("Issued until"), required=False, widget=forms.DateInput(attrs=DATE))

    def __init__(self, *args, owners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners


class IssueForm(forms.Form):
    invoice_number = forms.CharField(label=_("Invoice number"), max_length=40)
    issued_on = forms.DateField(label=_("Invoice date"), widget=forms.DateInput(attrs=DATE), initial=timezone.localdate)
    invoice_type = forms.ChoiceField(choices=InvoiceType.choices, label=_("Invoice type"))
    logistics_number = forms.CharField(label=_("Logistics number"), max_length=60, required=False)


class ReverseForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for the reversal"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    invoice_number = forms.CharField(label=_("Red-letter invoice number"), max_length=40, required=False)
    issued_on = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs=DATE), initial=timezone.localdate)


class LogisticsForm(forms.Form):
    logistics_number = forms.CharField(label=_("Logistics number"), max_length=60, required=False)
