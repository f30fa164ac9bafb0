from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.customers.models import Contact, Customer, CustomerFact, CustomerStatus, Industry, Tier
from kehu.users.selectors import assignable_owners


class CustomerForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Customer
        fields = [
            "name",
            "kind",
            "segment",
            "industry",
            "tier",
            "status",
            "source",
            "region",
            "city",
            "address",
            "latitude",
            "longitude",
            "phone",
            "email",
            "website",
            "credit_code",
            "owner",
            "notes",
        ]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, user, sensitive=True, **kwargs):
        super().__init__(*args, **kwargs)
        if not sensitive:
            # Who may not see the phone may not overwrite it either.
            del self.fields["phone"]
        self.fields["owner"].queryset = assignable_owners(user)
        self.fields["owner"].required = False
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version


class ContactForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Contact
        fields = [
            "name",
            "gender",
            "position",
            "buying_role",
            "mobile",
            "office_phone",
            "email",
            "wechat",
            "is_primary",
            "birthday",
            "anniversary",
            "anniversary_name",
            "in_position_since",
            "address",
            "family_background",
            "family_birthdays",
            "hobbies",
            "personality",
            "transfer_reason",
            "notes",
        ]
        widgets = {
            "birthday": forms.DateInput(attrs={"type": "date"}),
            "anniversary": forms.DateInput(attrs={"type": "date"}),
            "in_position_since": forms.DateInput(attrs={"type": "date"}),
            **{
                f: forms.Textarea(attrs={"rows": 2})
                for f in ["family_background", "family_birthdays", "hobbies", "personality", "transfer_reason", "notes"]
            },
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version


class FactForm(forms.ModelForm):
    class Meta:
        model = CustomerFact
        fields = ["level", "title", "content", "source", "cost", "obtained_on"]
        widgets = {"obtained_on": forms.DateInput(attrs={"type": "date"}), "content": forms.Textarea(attrs={"rows": 2})}


class CustomerFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": _("Name, contact or phone"), "type": "search"}),
    )
    owner = forms.IntegerField(required=False, min_value=1, max_value=2**53, widget=forms.Select)
    region = forms.CharField(label=_("Region"), required=False, max_length=50)
    industry = forms.ChoiceField(
        label=_("Industry"), required=False, choices=[("", _("All industries"))] + Industry.choices
    )
    tier = forms.ChoiceField(label=_("Tier"), required=False, choices=[("", _("All tiers"))] + Tier.choices)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All statuses"))] + CustomerStatus.choices
    )
    sort = forms.ChoiceField(
        required=False, choices=[("updated", _("Recently updated")), ("name", _("Name")), ("created", _("Newest"))]
    )
