"""Forms of the lead pages and the public web inquiry form (spam-guarded without third parties)."""

import time

from django import forms
from django.core import signing
from django.utils.translation import gettext_lazy as _

from kehu.leads.models import DisqualifyReason, Lead, LeadSource, LeadStatus

INQUIRY_SALT = "kehu.leads.inquiry"
# A person needs a few seconds to fill the form; a token older than this is stale.
MIN_SECONDS = 3
MAX_SECONDS = 2 * 60 * 60


class LeadForm(forms.ModelForm):
    class Meta:
        model = Lead
        fields = [
            "company_name",
            "contact_name",
            "phone",
            "email",
            "region",
            "industry",
            "size_band",
            "source",
            "message",
        ]
        widgets = {"message": forms.Textarea(attrs={"rows": 3})}


class LeadFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("Open leads")), *LeadStatus.choices])
    source = forms.ChoiceField(label=_("Source"), required=False, choices=[("", _("Any source")), *LeadSource.choices])
    region = forms.CharField(label=_("Region"), required=False, max_length=50)
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    sort = forms.ChoiceField(
        label=_("Sort"),
        required=False,
        choices=[("score", _("Score")), ("sla", _("First response due")), ("new", _("Newest"))],
    )


class DisqualifyForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Reason"), choices=DisqualifyReason.choices, widget=forms.Select(attrs={"aria-label": _("Reason")})
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=300,
        widget=forms.TextInput(attrs={"placeholder": _("Note (optional)"), "aria-label": _("Note")}),
    )


class AssignForm(forms.Form):
    owner = forms.ModelChoiceField(
        label=_("Assign to"),
        queryset=None,
        empty_label=_("Assign to…"),
        widget=forms.Select(attrs={"aria-label": _("Assign to")}),
    )

    def __init__(self, *args, users=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = users


class ConvertForm(forms.Form):
    customer_id = forms.IntegerField(
        label=_("Link to existing customer (id)"), required=False, help_text=_("Leave empty to create a new customer.")
    )
    opportunity_name = forms.CharField(label=_("Opportunity name"), required=False, max_length=200)
    amount = forms.DecimalField(label=_("Amount"), required=False, max_digits=14, decimal_places=2, min_value=0)
    allow_duplicate = forms.BooleanField(label=_("Create the customer even if it may already exist"), required=False)


def inquiry_token(now: float | None = None) -> str:
    return signing.dumps(int(now if now is not None else time.time()), salt=INQUIRY_SALT)


class InquiryForm(forms.Form):
    company_name = forms.CharField(label=_("Company"), max_length=200)
    contact_name = forms.CharField(label=_("Your name"), max_length=100)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    email = forms.EmailField(label=_("Email"), required=False)
    region = forms.CharField(label=_("Province or city"), max_length=50, required=False)
    message = forms.CharField(label=_("Your message"), max_length=4000, widget=forms.Textarea(attrs={"rows": 5}))
    # Honeypot: hidden from people by CSS, filled by bots.
    website = forms.CharField(label=_("Leave this empty"), required=False, max_length=200)
    token = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, now: float | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.now = now if now is not None else time.time()
        self.spam = False

    def clean_token(self):
        try:
            issued = signing.loads(self.cleaned_data["token"], salt=INQUIRY_SALT)
        except signing.BadSignature:
            self.spam = True
            raise forms.ValidationError(_("The form has expired; please send it again.")) from None
        age = self.now - float(issued)
        if age < MIN_SECONDS:
            self.spam = True
            raise forms.ValidationError(_("That was too fast; please send it again."))
        if age > MAX_SECONDS:
            raise forms.ValidationError(_("The form has expired; please send it again."))
        return issued

    def clean(self):
        data = super().clean()
        if data.get("website"):
            self.spam = True
            raise forms.ValidationError(_("Your message could not be sent."))
        if not data.get("phone") and not data.get("email"):
            raise forms.ValidationError(_("Give a phone number or an email address so we can answer."))
        return data


class AssignmentRuleForm(forms.Form):
    region = forms.CharField(label=_("Region"), required=False, max_length=50, help_text=_("Empty: any other region."))
    user = forms.ModelChoiceField(label=_("Assign to"), queryset=None)

    def __init__(self, *args, users=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = users


class SlaRuleForm(forms.Form):
    source = forms.ChoiceField(label=_("Source"), choices=LeadSource.choices)
    hours = forms.IntegerField(label=_("Working hours to first response"), min_value=1, max_value=400)


class LeadSettingsForm(forms.Form):
    work_start = forms.TimeField(label=_("Working day starts"), widget=forms.TimeInput(attrs={"type": "time"}))
    work_end = forms.TimeField(label=_("Working day ends"), widget=forms.TimeInput(attrs={"type": "time"}))
    default_sla_hours = forms.IntegerField(
        label=_("Default first-response time (working hours)"),
        min_value=1,
        max_value=400,
        help_text=_("For sources without their own limit."),
    )
    min_closed_for_learning = forms.IntegerField(
        label=_("Leads needed before the learned score"),
        min_value=1,
        max_value=100_000,
        help_text=_("Converted and disqualified leads, each, before the score also learns from your history."),
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("work_start"), data.get("work_end")
        if start and end and start >= end:
            self.add_error("work_end", _("The working day must end after it starts."))
        return data
