from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.customers.models import (
    POINT_KINDS,
    Contact,
    Customer,
    CustomerFact,
    CustomerStatus,
    EmailKind,
    ImService,
    Industry,
    Medium,
    PhoneKind,
    Tier,
)
from kehu.customers.points import LIST_NAMES, MAX_LENGTH, MAX_PER_MEDIUM, Point
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
            "channel_level",
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


MONTHS = [("", _("Month"))] + [(m, str(m)) for m in range(1, 13)]
DAYS = [("", pgettext_lazy("date part", "Day"))] + [(d, str(d)) for d in range(1, 32)]


class ContactForm(forms.ModelForm):
    """A contact's own fields; its phones, e-mails and handles are the three `point_formsets`."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    birthday_month = forms.TypedChoiceField(
        label=_("Month"), choices=MONTHS, coerce=int, empty_value=None, required=False
    )
    birthday_day = forms.TypedChoiceField(
        label=_("Day of the month"), choices=DAYS, coerce=int, empty_value=None, required=False
    )

    class Meta:
        model = Contact
        fields = [
            "name",
            "gender",
            "position",
            "department",
            "buying_role",
            "is_primary",
            "birthday",
            "birthday_month",
            "birthday_day",
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
        for name in ("birthday_month", "birthday_day"):
            self.fields[name].widget.attrs["aria-label"] = Contact._meta.get_field(name).verbose_name


class PointForm(forms.Form):
    """One phone number, e-mail address or messaging handle; a blank row is ignored."""

    kind = forms.ChoiceField(label=_("Kind"))
    value = forms.CharField(label=_("Phone number"), required=False, max_length=254)
    label = forms.CharField(
        label=_("Label"),
        required=False,
        max_length=50,
        widget=forms.TextInput(attrs={"placeholder": _("Label, e.g. assistant")}),
    )

    medium = Medium.PHONE

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = POINT_KINDS[self.medium].choices
        self.fields["value"].max_length = MAX_LENGTH[self.medium]
        self._label_widgets()

    def _label_widgets(self):
        # The rows show no labels of their own (too wide for a phone): screen readers get them here.
        for field in self.fields.values():
            field.widget.attrs["aria-label"] = str(field.label)
        self.fields["value"].widget.attrs["placeholder"] = str(self.fields["value"].label)

    def point(self) -> Point | None:
        data = getattr(self, "cleaned_data", {})
        if not data or data.get("DELETE") or not (data.get("value") or "").strip():
            return None
        return Point(self.medium, data["kind"], data["value"].strip(), (data.get("label") or "").strip())


class PhoneForm(PointForm):
    medium = Medium.PHONE

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["value"].widget = forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "off"})
        self._label_widgets()


class EmailForm(PointForm):
    medium = Medium.EMAIL

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["value"].label = _("Email")
        self.fields["value"].widget = forms.EmailInput(attrs={"inputmode": "email", "autocomplete": "off"})
        self._label_widgets()


class HandleForm(PointForm):
    medium = Medium.IM

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].label = _("Messaging app")
        self.fields["value"].label = _("Account name")
        self._label_widgets()


POINT_FORMS = {Medium.PHONE: PhoneForm, Medium.EMAIL: EmailForm, Medium.IM: HandleForm}
# What a new contact's blank rows offer: a mobile and a work number, a work address, WeChat.
NEW_ROWS = {
    Medium.PHONE: [{"kind": PhoneKind.MOBILE}, {"kind": PhoneKind.WORK}],
    Medium.EMAIL: [{"kind": EmailKind.WORK}],
    Medium.IM: [{"kind": ImService.WECHAT}],
}


def point_formsets(data=None, *, points: list[Point] | None = None, add: str = "") -> dict:
    """{"phones": formset, "emails": …, "handles": …} of the contact's points. A new contact gets
    the usual blank rows; `add` (a list name) gives that list one more blank row — what the
    "add another" buttons ask for, with or without JavaScript."""
    formsets = {}
    for medium, form_class in POINT_FORMS.items():
        name = LIST_NAMES[medium]
        if points is None:
            initial, extra = list(NEW_ROWS[medium]), 0
        else:
            initial = [{"kind": p.kind, "value": p.value, "label": p.label} for p in points if p.medium == medium]
            extra = 1  # an edited contact gets one blank row per list
        factory = forms.formset_factory(
            form_class, extra=extra, can_delete=True, max_num=MAX_PER_MEDIUM, validate_max=True
        )
        bound = data
        if data is not None and f"{name}-TOTAL_FORMS" not in data:
            bound = None  # a post without this list (an older form or client) leaves the list as it is
        elif data is not None and add == name:
            bound = data.copy()
            total = f"{name}-TOTAL_FORMS"
            try:
                bound[total] = str(min(int(bound.get(total, 0)) + 1, MAX_PER_MEDIUM))
            except ValueError:
                pass
        formsets[name] = factory(bound, initial=initial, prefix=name)
    return formsets


def point_formsets_valid(formsets: dict) -> bool:
    return all(f.is_valid() for f in formsets.values() if f.is_bound)


def points_from_formsets(formsets: dict) -> dict[str, list[Point]]:
    """{"phones": [Point, …], …} of the filled rows not marked for removal; None for a list the
    post did not hold."""
    return {
        name: [p for form in formset.forms if (p := form.point()) is not None] if formset.is_bound else None
        for name, formset in formsets.items()
    }


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
