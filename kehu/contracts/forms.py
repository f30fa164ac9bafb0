"""Forms of the contract pages."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.contracts.models import Contract, ContractAmendment, ContractSettings, ContractStage, ContractTemplate
from kehu.users.models import User

EXPIRING_CHOICES = [("", _("Any end date")), ("30", _("Ending within 30 days")), ("90", _("Ending within 90 days"))]


class ContractHeaderForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Contract
        fields = [
            "title",
            "contact",
            "owner",
            "template",
            "language",
            "amount",
            "starts_on",
            "ends_on",
            "payment_terms",
            "delivery_terms",
            "other_terms",
            "our_signatory",
            "notes",
        ]
        widgets = {
            "starts_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "ends_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "payment_terms": forms.Textarea(attrs={"rows": 2}),
            "delivery_terms": forms.Textarea(attrs={"rows": 2}),
            "other_terms": forms.Textarea(attrs={"rows": 3}),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, contacts, owners, templates, has_lines=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = contacts
        self.fields["contact"].required = False
        self.fields["contact"].empty_label = _("— no signatory —")
        self.fields["owner"].queryset = owners
        self.fields["owner"].required = False
        self.fields["template"].queryset = templates
        self.fields["template"].required = False
        self.fields["template"].empty_label = _("— the default template —")
        self.fields["amount"].required = False
        if has_lines:
            self.fields["amount"].disabled = True
            self.fields["amount"].help_text = _("The sum of the lines.")
        else:
            self.fields["amount"].help_text = _("With tax; when the contract has lines, their sum.")
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version


class ContractFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": _("Contract number, title or customer"), "type": "search"}),
    )
    stage = forms.ChoiceField(choices=[("", _("Any stage")), *ContractStage.choices], required=False, label=_("Stage"))
    owner = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, label=_("Responsible person"), empty_label=_("Anyone")
    )
    customer = forms.IntegerField(required=False, min_value=1, max_value=2**53, widget=forms.HiddenInput)
    expiring = forms.TypedChoiceField(
        choices=EXPIRING_CHOICES, required=False, coerce=int, empty_value=None, label=_("End date")
    )

    def __init__(self, *args, owners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners


class LineAddForm(forms.Form):
    code = forms.CharField(label=_("Specification code"), max_length=100)
    quantity = forms.DecimalField(label=_("Quantity"), max_digits=14, decimal_places=3, min_value=Decimal("0.001"))
    unit_price = forms.DecimalField(
        label=_("Unit price"),
        max_digits=14,
        decimal_places=4,
        min_value=Decimal("0"),
        required=False,
        help_text=_("Empty: the price book's price."),
    )


class SignForm(forms.Form):
    signed_on = forms.DateField(label=_("Signing date"), widget=forms.DateInput(attrs={"type": "date"}))


class CloseForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class AmendmentForm(forms.ModelForm):
    class Meta:
        model = ContractAmendment
        fields = ["summary", "amount_after", "payment_terms_after", "other_terms_after", "ends_on_after", "signed_on"]
        widgets = {
            "summary": forms.Textarea(attrs={"rows": 2}),
            "payment_terms_after": forms.Textarea(attrs={"rows": 2}),
            "other_terms_after": forms.Textarea(attrs={"rows": 2}),
            "ends_on_after": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "signed_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args, contract, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("amount_after", "payment_terms_after", "other_terms_after", "ends_on_after", "signed_on"):
            self.fields[name].required = False
        if not self.instance.pk:
            self.initial.setdefault("amount_after", contract.amount)
            self.initial.setdefault("payment_terms_after", contract.payment_terms)
            self.initial.setdefault("other_terms_after", contract.other_terms)
            self.initial.setdefault("ends_on_after", contract.ends_on)


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("File (PDF, PNG, JPEG)"))
    is_signed_copy = forms.BooleanField(label=_("Signed copy"), required=False)


class TemplateForm(forms.ModelForm):
    class Meta:
        model = ContractTemplate
        fields = ["name", "language", "is_default", "is_active", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 18, "class": "font-monospace"})}


class SettingsForm(forms.ModelForm):
    class Meta:
        model = ContractSettings
        fields = ["remind_days_before_end", "approval_above"]
