"""Forms of the ticket pages: the queue's filters, phone intake, a transition, a response, assignment."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.support.models import Channel, Priority, Ticket, TicketCategory, TicketState


class TicketFilterForm(forms.Form):
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[
            ("open", pgettext_lazy("tickets", "Open")),
            ("paused", _("Waiting")),
            ("closed", _("Finished")),
            ("all", _("All")),
        ],
    )
    mine = forms.BooleanField(label=_("Mine"), required=False)
    priority = forms.ChoiceField(
        label=_("Priority"), required=False, choices=[("", _("Any priority")), *Priority.choices]
    )
    category = forms.ModelChoiceField(
        label=_("Category"), required=False, queryset=TicketCategory.objects.all(), empty_label=_("Any category")
    )
    sla = forms.ChoiceField(
        label=_("SLA"),
        required=False,
        choices=[("", _("Any SLA")), ("breached", _("Overdue")), ("due_soon", _("Due within 24 hours"))],
    )
    customer = forms.IntegerField(required=False, min_value=1, max_value=2**53, widget=forms.HiddenInput)


class TicketForm(forms.ModelForm):
    """Phone intake: the customer is chosen first (hidden here), then its contact and unit."""

    class Meta:
        model = Ticket
        fields = ["contact", "unit", "category", "priority", "channel", "subject", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}
        labels = {"contact": _("Contact"), "subject": _("What the customer needs")}

    def __init__(self, *args, contacts, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = contacts
        self.fields["contact"].empty_label = _("— no contact —")
        self.fields["unit"].queryset = units
        self.fields["unit"].empty_label = _("— no unit —")
        self.fields["unit"].label = _("Installed unit")
        self.fields["category"].queryset = TicketCategory.objects.filter(is_active=True)
        self.fields["category"].empty_label = _("— no category —")
        self.fields["channel"].choices = Channel.choices
        self.fields["priority"].choices = Priority.choices


class TransitionForm(forms.Form):
    to = forms.ChoiceField(choices=TicketState.choices)
    note = forms.CharField(label=_("Note"), required=False, max_length=500)
    version = forms.IntegerField(min_value=0, max_value=2**31, required=False, widget=forms.HiddenInput)


class RespondForm(forms.Form):
    note = forms.CharField(label=_("What the customer was told"), required=False, max_length=500)


class AssignForm(forms.Form):
    owner = forms.ModelChoiceField(
        label=_("Responsible"), queryset=None, required=False, empty_label=_("— unchanged —")
    )
    engineer = forms.ModelChoiceField(
        label=_("Engineer"), queryset=None, required=False, empty_label=_("— unchanged —")
    )
    version = forms.IntegerField(min_value=0, max_value=2**31, required=False, widget=forms.HiddenInput)

    def __init__(self, *args, owners, engineers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners
        self.fields["engineer"].queryset = engineers
