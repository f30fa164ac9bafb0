from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.activities.models import Activity, ActivityKind, CheckInWarning
from kehu.core.models import validate_sane_year


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

    def __init__(self, *args, customer, contacts=None, **kwargs):
        super().__init__(*args, **kwargs)
        contact = self.fields["contact"]
        contact.queryset = customer.contacts.filter(deleted_at__isnull=True)
        if contacts is not None:  # the customer's live contacts, read already (the 360° page): no second query
            contact.choices = [("", contact.empty_label), *((c.pk, contact.label_from_instance(c)) for c in contacts)]
        self.fields["occurred_at"].initial = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
        self.fields["occurred_at"].input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version


class ActivityFilterForm(forms.Form):
    customer = forms.IntegerField(required=False, min_value=1, max_value=2**53, widget=forms.HiddenInput)
    kind = forms.ChoiceField(required=False, choices=[("", _("All kinds"))] + ActivityKind.choices)
    open_commitments = forms.BooleanField(required=False, label=_("Open commitments only"))


class VisitPlanForm(forms.ModelForm):
    class Meta:
        model = Activity
        fields = ["planned_for", "subject", "purpose", "contact"]
        widgets = {"planned_for": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")}

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = customer.contacts.filter(deleted_at__isnull=True)
        self.fields["planned_for"].required = True
        self.fields["planned_for"].input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


class VisitLogForm(forms.ModelForm):
    """How a planned visit went (拜访记录): purpose, duration, content, outcome, next step."""

    class Meta:
        model = Activity
        fields = ["purpose", "duration_minutes", "content", "outcome", "next_step"]
        widgets = {"content": forms.Textarea(attrs={"rows": 3}), "outcome": forms.Textarea(attrs={"rows": 2})}

    def clean_duration_minutes(self):
        value = self.cleaned_data.get("duration_minutes")
        if value is not None and value > 24 * 60:
            raise forms.ValidationError(_("A duration cannot be longer than a day."))
        return value


class CheckInForm(forms.Form):
    """Filled by the phone's browser when it allows geolocation; empty means "time only"."""

    latitude = forms.DecimalField(required=False, min_value=-90, max_value=90, widget=forms.HiddenInput)
    longitude = forms.DecimalField(required=False, min_value=-180, max_value=180, widget=forms.HiddenInput)
    accuracy = forms.FloatField(required=False, min_value=0, max_value=1_000_000, widget=forms.HiddenInput)


class CheckInFilterForm(forms.Form):
    """The check-in review list's filters; each invalid parameter is ignored on its own."""

    user = forms.TypedChoiceField(label=_("Rep"), required=False, coerce=int, empty_value=None)
    warning = forms.ChoiceField(
        label=_("Warning"), required=False, choices=[("", _("Any warning"))] + CheckInWarning.choices
    )
    all = forms.BooleanField(label=_("Also check-ins without warnings"), required=False)
    date_from = forms.DateField(
        label=_("From"),
        required=False,
        input_formats=["%Y-%m-%d"],
        validators=[validate_sane_year],
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    date_to = forms.DateField(
        label=_("To"),
        required=False,
        input_formats=["%Y-%m-%d"],
        validators=[validate_sane_year],
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    page = forms.IntegerField(required=False, min_value=1, max_value=400, widget=forms.HiddenInput)

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = [("", _("Whole team"))] + [(p.pk, p.display_name) for p in people]

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("The end comes before the start."))
        return data


class EmailForm(forms.Form):
    """A mail to the customer: to some of its known addresses and/or others typed in."""

    known = forms.MultipleChoiceField(
        label=pgettext_lazy("mail", "To"), required=False, widget=forms.CheckboxSelectMultiple
    )
    other = forms.CharField(
        label=_("Other addresses"),
        required=False,
        max_length=1000,
        help_text=_("Separate several addresses with commas."),
    )
    contact = forms.ModelChoiceField(label=_("Contact"), queryset=None, required=False)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    body = forms.CharField(
        label=pgettext_lazy("mail", "Message"), widget=forms.Textarea(attrs={"rows": 10}), max_length=10_000
    )

    def __init__(self, *args, customer, addresses, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["known"].choices = addresses
        self.fields["contact"].queryset = customer.contacts.filter(deleted_at__isnull=True)
        if addresses and not self.is_bound:
            self.initial["known"] = [addresses[0][0]]

    def recipients(self) -> list[str]:
        typed = [a.strip() for a in self.cleaned_data["other"].replace(";", ",").replace("，", ",").split(",")]
        return [*self.cleaned_data["known"], *(a for a in typed if a)]
