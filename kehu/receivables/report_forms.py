"""Forms of the report pages: the statement period, the credit settings, a credit check."""

from datetime import date
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.receivables.models import ReceivablesSettings
from kehu.receivables.statement import MAX_DAYS


class PeriodForm(forms.Form):
    first = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    last = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    def clean(self):
        data = super().clean()
        first, last = data.get("first"), data.get("last")
        if first and last:
            if first > last:
                raise forms.ValidationError(_("The first day must not be after the last."))
            if (last - first).days > MAX_DAYS:
                raise forms.ValidationError(_("A statement covers at most three years."))
            if first < date(1900, 1, 1) or last > date(2999, 12, 31):
                raise forms.ValidationError(_("Enter dates between 1900 and 2999."))
        return data


class CreditSettingsForm(forms.ModelForm):
    class Meta:
        model = ReceivablesSettings
        fields = [
            "credit_stage",
            "hold_over_limit",
            "hold_overdue_days",
            "payments_need_approval",
            "remind_days_before_due",
        ]
        widgets = {"credit_stage": forms.RadioSelect}


class CreditCheckForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Amount of the new order (CNY)"),
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0"),
        initial=Decimal("0"),
    )
