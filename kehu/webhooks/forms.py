from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.webhooks.models import WebhookSubscription, webhook_event_choices


class SubscriptionForm(forms.ModelForm):
    events = forms.MultipleChoiceField(
        label=_("Events"), choices=webhook_event_choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = WebhookSubscription
        fields = ["url", "events", "description", "is_active"]
        widgets = {"url": forms.TextInput(attrs={"placeholder": "https://"})}
