from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.customers.models import Tier
from kehu.pool.models import Pool
from kehu.pool.services import POOL_FIELDS
from kehu.users.models import User
from kehu.users.selectors import assignable_owners, scope_users_q


class PoolFilterForm(forms.Form):
    pool = forms.TypedChoiceField(label=_("Pool"), required=False, coerce=int, empty_value=None)
    region = forms.CharField(label=_("Region"), required=False, max_length=50)
    tier = forms.ChoiceField(label=_("Tier"), required=False, choices=[("", _("Any tier")), *Tier.choices])
    q = forms.CharField(label=_("Search"), required=False, max_length=100)

    def __init__(self, *args, pools, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pool"].choices = [("", _("All pools")), *((p.pk, p.name) for p in pools)]
        self.fields["region"].widget.attrs["placeholder"] = _("Region")
        self.fields["q"].widget.attrs["placeholder"] = _("Name or phone")


class AssignForm(forms.Form):
    to_user = forms.ModelChoiceField(label=_("Assign to"), queryset=None)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_user"].queryset = assignable_owners(user).order_by("username")


class ReleaseForm(forms.Form):
    reason = forms.CharField(label=_("Why"), required=False, max_length=200)


class ExemptForm(forms.Form):
    exempt_until = forms.DateField(
        label=_("Exempt until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    exempt_reason = forms.CharField(label=_("Why exempt"), required=False, max_length=200)


class PoolForm(forms.ModelForm):
    class Meta:
        model = Pool
        fields = POOL_FIELDS
        widgets = {"regions": forms.Textarea(attrs={"rows": 2})}


class HandoverForm(forms.Form):
    SCOPE_ALL = "all"
    SCOPE_FILTERED = "filtered"
    SCOPE_ONE = "one"
    from_user = forms.ModelChoiceField(label=_("Customers of"), queryset=None, required=False)
    scope = forms.ChoiceField(
        label=_("Which customers"),
        choices=[
            (SCOPE_ALL, _("All customers of this person (a leaving rep)")),
            (SCOPE_FILTERED, _("Those matching region and tier")),
            (SCOPE_ONE, _("One customer")),
        ],
        initial=SCOPE_ALL,
        widget=forms.RadioSelect,
    )
    region = forms.CharField(label=_("Region"), required=False, max_length=50)
    tier = forms.ChoiceField(label=_("Tier"), required=False, choices=[("", _("Any tier")), *Tier.choices])
    customer = forms.IntegerField(label=_("Customer number"), required=False, min_value=1, max_value=2**53)
    to_user = forms.ModelChoiceField(
        label=_("Hand over to"), queryset=None, required=False, empty_label=_("— the public pool —")
    )
    work_to = forms.ModelChoiceField(
        label=_("Open commitments and planned visits go to"),
        queryset=None,
        required=False,
        empty_label=_("— the new owner —"),
        help_text=_(
            "Default: the new owner, or you when handing over to the public pool. Name someone else, such as the "
            "rep's manager, to keep them; they must be able to see the customers afterwards."
        ),
    )
    note = forms.CharField(label=_("Note for the new owner"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # A leaving rep's account may be deactivated already: their customers still need a new owner.
        self.fields["from_user"].queryset = User.objects.filter(scope_users_q(user)).order_by("-is_active", "username")
        self.fields["to_user"].queryset = assignable_owners(user).order_by("username")
        self.fields["work_to"].queryset = assignable_owners(user).order_by("username")

    def clean(self):
        data = super().clean()
        scope = data.get("scope")
        if scope in (self.SCOPE_ALL, self.SCOPE_FILTERED) and not data.get("from_user"):
            self.add_error("from_user", _("Choose whose customers to hand over."))
        if scope == self.SCOPE_ONE and not data.get("customer"):
            self.add_error("customer", _("Choose the customer."))
        if data.get("from_user") and data.get("to_user") and data["from_user"] == data["to_user"]:
            self.add_error("to_user", _("Choose someone else than the current owner."))
        return data
