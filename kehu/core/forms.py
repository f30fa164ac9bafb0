from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from kehu.core.models import MailStatus


def apply_errors(form, exc: ValidationError, password_field: str | None = None) -> None:
    """Show a service's ValidationError on the form: field errors on fields, the rest on top."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            target = field if field in form.fields else None
            if field == "password" and password_field:
                target = password_field
            for error in errors:
                form.add_error(target, error)
    else:
        for error in exc.messages:
            form.add_error(password_field if password_field and _is_password_error(exc) else None, error)


def _is_password_error(exc: ValidationError) -> bool:
    codes = {e.code for e in exc.error_list if getattr(e, "code", None)}
    return bool(
        codes & {"password_too_short", "password_too_common", "password_entirely_numeric", "password_too_similar"}
    )


class OutboxFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("All")), *MailStatus.choices])
    to = forms.CharField(label=_("Recipient"), required=False, max_length=254)
    before = forms.IntegerField(required=False, min_value=1, max_value=2**53, widget=forms.HiddenInput)
