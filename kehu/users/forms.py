from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from kehu.core.audit_display import model_for, record_type_label
from kehu.core.models import AuditAction
from kehu.users.models import CompanySettings, Department, User
from kehu.users.roles import DataScope, Role


class LoginForm(AuthenticationForm):
    username = forms.CharField(
        label=_("Username or email"),
        max_length=254,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )


class SetUpForm(forms.Form):
    company_name = forms.CharField(label=_("Company name"), max_length=200)
    last_name = forms.CharField(label=_("Family name"), max_length=150, required=False)
    first_name = forms.CharField(label=_("Given name"), max_length=150, required=False)
    username = forms.CharField(label=_("Administrator username"), max_length=150)
    email = forms.EmailField(label=_("Email"))
    password1 = forms.CharField(label=_("Password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password2 = forms.CharField(
        label=_("Password again"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", _("The two passwords differ."))
        return data


class RegisterForm(SetUpForm):
    company_name = None
    username = forms.CharField(label=_("Username"), max_length=150)


class InvitationAcceptForm(SetUpForm):
    company_name = None
    email = None
    username = forms.CharField(label=_("Username"), max_length=150)


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("Email"))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.SALES_REP)
    department = forms.ModelChoiceField(label=_("Department"), queryset=Department.objects.all(), required=False)
    manager = forms.ModelChoiceField(
        label=_("Reports to"), queryset=User.objects.filter(is_active=True), required=False
    )


class UserEditForm(forms.ModelForm):
    class Meta:
        model = User
        fields = [
            "last_name",
            "first_name",
            "email",
            "phone",
            "role",
            "department",
            "manager",
            "data_scope_override",
            "is_active",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["manager"].queryset = User.objects.filter(is_active=True).exclude(pk=self.instance.pk)
        self.fields["data_scope_override"].choices = [("", _("As the role says"))] + list(DataScope.choices)


class DepartmentForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    parent = forms.ModelChoiceField(label=_("Parent department"), queryset=Department.objects.all(), required=False)
    head = forms.ModelChoiceField(
        label=_("Department head"), queryset=User.objects.filter(is_active=True), required=False
    )


class CompanySettingsForm(forms.ModelForm):
    class Meta:
        model = CompanySettings
        fields = ["company_name", "allow_self_registration", "two_factor_policy"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["two_factor_policy"].required = False

    def clean_two_factor_policy(self):
        # Not sent (an older form, a script): the policy stays as it is.
        return self.cleaned_data.get("two_factor_policy") or self.instance.two_factor_policy


# What the audit log can be filtered by, named by the models themselves in the reader's language.
AUDITED_TYPES = [
    "customers.customer",
    "customers.contact",
    "customers.customerfact",
    "activities.activity",
    "leads.lead",
    "sales.opportunity",
    "sales.target",
    "sales.pipeline",
    "sales.stage",
    "collection.infoform",
    "classification.tiersuggestion",
    "classification.creditrecord",
    "users.user",
    "users.department",
    "users.companysettings",
    "webhooks.webhooksubscription",
]


def audit_record_types() -> list[tuple[str, str]]:
    choices = [(t, record_type_label(t, plural=True)) for t in AUDITED_TYPES if model_for(t) is not None]
    return [("", _("All records")), *choices]


class AuditFilterForm(forms.Form):
    actor = forms.ModelChoiceField(
        label=_("By"), queryset=User.objects.order_by("username"), required=False, empty_label=_("Anyone")
    )
    target_type = forms.ChoiceField(label=_("Record type"), required=False, choices=audit_record_types)
    action = forms.ChoiceField(
        label=_("Action"), required=False, choices=[("", _("All actions")), *AuditAction.choices]
    )
    before = forms.IntegerField(required=False, min_value=1, max_value=2**53, widget=forms.HiddenInput)


class ApiTokenForm(forms.Form):
    name = forms.CharField(label=_("What is this token for?"), max_length=100, required=False)


# Each language in its own words, as on the footer's switch.
OWN_NAMES = {"zh-hans": "简体中文", "en": "English"}


class LanguageForm(forms.Form):
    language = forms.ChoiceField(
        label=_("Language"),
        choices=[(code, OWN_NAMES.get(code, name)) for code, name in settings.LANGUAGES],
        widget=forms.RadioSelect,
        help_text=_("Pages and the mails Kehu sends you use this language, on every device you sign in from."),
    )
