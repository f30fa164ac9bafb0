from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.activities.models import Activity, ActivityKind


class ActivityForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Activity
        fields = ["kind", "occurred_at", "duration_minutes", "subject", "content", "contact", "due_on"]
        widgets = {
            "occurred_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "due_on": forms.DateInput(attrs={"type": "date"}),
            "content": forms.Textarea(attrs={"rows": 2}),
        }
        labels = {"due_on": _("Due on (commitments)")}

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = customer.contacts.filter(deleted_at__isnull=True)
        self.fields["occurred_at"].initial = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
        self.fields["occurred_at"].input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version


class ActivityFilterForm(forms.Form):
    customer = forms.IntegerField(required=False, min_value=1, max_value=2**53, widget=forms.HiddenInput)
    kind = forms.ChoiceField(required=False, choices=[("", _("All kinds"))] + ActivityKind.choices)
    open_commitments = forms.BooleanField(required=False, label=_("Open commitments only"))
