from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.collection.models import InfoForm, InfoFormStatus


class InfoFormForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    customer_id = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1, max_value=2**53)

    class Meta:
        model = InfoForm
        fields = [
            "name",
            "region",
            "city",
            "address",
            "industry",
            "contact_name",
            "phone",
            "email",
            "credit_code",
            "source",
            "collected_on",
            "content",
        ]
        widgets = {
            "collected_on": forms.DateInput(attrs={"type": "date"}),
            "content": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version
            self.fields["customer_id"].initial = self.instance.customer_id


class ReturnForm(forms.Form):
    reason = forms.CharField(label=_("Reason for return"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class ApproveForm(forms.Form):
    link_customer = forms.IntegerField(required=False, min_value=1, max_value=2**53, widget=forms.HiddenInput)
    create_anyway = forms.BooleanField(required=False, label=_("It is a new customer: create it"))


class FilterForm(forms.Form):
    status = forms.ChoiceField(required=False, choices=[("", _("All statuses")), *InfoFormStatus.choices])
    waiting = forms.BooleanField(required=False, label=_("Waiting for me"))


class RouteForm(forms.Form):
    region = forms.CharField(label=_("Region"), max_length=50)
    rep = forms.ModelChoiceField(label=_("Rep"), queryset=None)

    def __init__(self, *args, reps, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rep"].queryset = reps


class CalendarDayForm(forms.Form):
    day = forms.DateField(label=_("Day"), widget=forms.DateInput(attrs={"type": "date"}))
    is_working_day = forms.TypedChoiceField(
        label=_("Kind"),
        choices=[("0", _("Holiday (no work)")), ("1", _("Make-up working day"))],
        coerce=lambda v: v == "1",
    )
    name = forms.CharField(label=_("Name"), max_length=100, required=False)

    def clean_day(self):
        day = self.cleaned_data["day"]
        if not 1900 <= day.year <= 2999:
            raise forms.ValidationError(_("Enter a date between the years 1900 and 2999."))
        return day
