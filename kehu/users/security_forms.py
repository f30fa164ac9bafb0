from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.core.models import validate_sane_year
from kehu.users.models import SignInResult, User


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Verification code"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}
        ),
        help_text=_("The six digits your authenticator app shows for Kehu."),
    )


class SignInCodeForm(CodeForm):
    code = forms.CharField(
        label=_("Verification code"),
        max_length=20,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "one-time-code", "spellcheck": "false"}),
        help_text=_("The six digits your authenticator app shows for Kehu, or one of your recovery codes."),
    )


class DisableForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"), widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    code = forms.CharField(
        label=_("Verification code"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "spellcheck": "false"}),
        help_text=_("A code from your authenticator app, or a recovery code."),
    )


class SignInLogFilterForm(forms.Form):
    user = forms.ModelChoiceField(
        label=_("User"), queryset=User.objects.order_by("username"), required=False, empty_label=_("Anyone")
    )
    result = forms.ChoiceField(
        label=_("Result"), required=False, choices=[("", _("All results")), *SignInResult.choices]
    )
    since = forms.DateField(
        label=_("From"), required=False, validators=[validate_sane_year], widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("To"), required=False, validators=[validate_sane_year], widget=forms.DateInput(attrs={"type": "date"})
    )
    before = forms.IntegerField(required=False, min_value=1, max_value=2**53, widget=forms.HiddenInput)
