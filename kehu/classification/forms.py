from datetime import date

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.classification.models import (
    ClassificationSettings,
    CreditRecord,
    DealerEvaluation,
    KeyAccountEvaluation,
)

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
NOTES = forms.Textarea(attrs={"rows": 2})


class KeyEvaluationForm(forms.ModelForm):
    class Meta:
        model = KeyAccountEvaluation
        fields = [
            "evaluated_on",
            "attractiveness",
            "potential_volume",
            "potential_margin",
            "relationship_state",
            "relationship_level",
            "notes",
        ]
        widgets = {"evaluated_on": DATE, "notes": NOTES}


class DealerEvaluationForm(forms.ModelForm):
    class Meta:
        model = DealerEvaluation
        fields = [
            "evaluated_on",
            "enthusiasm",
            "enthusiasm_notes",
            "capability",
            "capability_notes",
            "credit",
            "credit_notes",
            "social",
            "social_notes",
        ]
        widgets = {
            "evaluated_on": DATE,
            **{name: NOTES for name in ("enthusiasm_notes", "capability_notes", "credit_notes", "social_notes")},
            **{
                name: forms.NumberInput(attrs={"min": 1, "max": 5})
                for name in ("enthusiasm", "capability", "credit", "social")
            },
        }


class CreditForm(forms.ModelForm):
    class Meta:
        model = CreditRecord
        fields = ["rating", "limit", "investigated_on", "investigation"]
        widgets = {"investigated_on": DATE, "investigation": forms.Textarea(attrs={"rows": 3})}


class RevenueForm(forms.Form):
    year = forms.IntegerField(label=_("Year"), min_value=1900, max_value=2999)
    revenue = forms.DecimalField(label=_("Revenue (CNY)"), max_digits=16, decimal_places=2)
    potential = forms.DecimalField(label=_("Potential sales volume (CNY)"), max_digits=16, decimal_places=2)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].initial = timezone.localdate().year


class SettingsForm(forms.ModelForm):
    class Meta:
        model = ClassificationSettings
        fields = [
            "key_share",
            "ordinary_share",
            "potential_weight",
            "reject_cooldown_days",
            "key_time_target",
            "credit_limit_prospect",
            "credit_limit_ordinary",
            "credit_limit_key",
        ]


class DecisionForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class SuggestionFilterForm(forms.Form):
    status = forms.ChoiceField(
        required=False,
        label=_("Status"),
        choices=[
            ("open", _("Open")),
            ("accepted", _("Accepted")),
            ("rejected", _("Rejected")),
            ("superseded", _("Superseded")),
        ],
    )
    direction = forms.ChoiceField(
        required=False,
        label=_("Direction"),
        choices=[("", _("Promotions and demotions")), ("up", _("Promotions")), ("down", _("Demotions"))],
    )


class PeriodForm(forms.Form):
    start = forms.DateField(label=_("From"), widget=DATE)
    end = forms.DateField(label=_("To"), widget=DATE)

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", _("The end comes before the start."))
            elif (end - start).days > 366 * 3:
                self.add_error("end", _("Choose a period of at most three years."))
            if not (date(1900, 1, 1) <= start and end <= date(2999, 12, 31)):
                self.add_error("start", _("Choose dates between 1900 and 2999."))
        return data
