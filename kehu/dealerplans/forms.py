from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.dealerplans.models import PlanState, SupportKind
from kehu.dealerplans.selectors import parse_month


class MonthField(forms.CharField):
    """An <input type="month"> read as the first day of the month."""

    widget = forms.TextInput(attrs={"type": "month"})

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        month = parse_month(value)
        if month is None:
            raise forms.ValidationError(_("Enter a month like 2026-05."))
        return month


class FilterForm(forms.Form):
    month = MonthField(label=_("Month"), required=False)
    state = forms.ChoiceField(label=_("State"), required=False, choices=[("", _("All states")), *PlanState.choices])
    q = forms.CharField(
        label=_("Customer"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Customer name")}),
    )


class PlanCreateForm(forms.Form):
    customer = forms.TypedChoiceField(label=_("Dealer, sub-distributor or retailer"), coerce=int)
    month = MonthField(label=_("Month"))
    upper = forms.TypedChoiceField(
        label=_("Buys from (for a sub-distributor or retailer)"), coerce=int, required=False, empty_value=None
    )
    copy_previous = forms.BooleanField(
        label=_("Copy last month's plan (targets, schedule and support)"), required=False
    )
    schedule = forms.CharField(
        label=_("Schedule"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, customers, dealers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].choices = [("", "—")] + [
            (c.pk, f"{c.name} · {c.get_channel_level_display()}") for c in customers
        ]
        self.fields["upper"].choices = [("", "—")] + [(c.pk, c.name) for c in dealers]


class PlanEditForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0, max_value=2**31)
    upper = forms.TypedChoiceField(
        label=_("Buys from (for a sub-distributor or retailer)"), coerce=int, required=False, empty_value=None
    )
    schedule = forms.CharField(
        label=_("Schedule"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("When what is delivered, promoted, visited."),
    )
    notes = forms.CharField(label=_("Notes"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, dealers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["upper"].choices = [("", "—")] + [(c.pk, c.name) for c in dealers]


class LineForm(forms.Form):
    target = forms.ChoiceField(label=_("Product or specification"))
    quantity = forms.DecimalField(label=_("Quantity"), min_value=0, max_digits=14, decimal_places=3)
    amount = forms.DecimalField(label=_("Amount (CNY)"), min_value=0, max_digits=16, decimal_places=2, required=False)

    def __init__(self, *args, products, specifications, **kwargs):
        super().__init__(*args, **kwargs)
        choices = []
        anything = _("any specification")
        for product in products:
            choices.append((f"p{product.pk}", f"{product.code} {product.name} · {anything}"))
            for spec in specifications.get(product.pk, []):
                choices.append((f"s{spec.pk}", f"{product.code} {product.name} · {spec.name}"))
        self.fields["target"].choices = [("", "—"), *choices]


class SupportForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=SupportKind.choices)
    description = forms.CharField(label=_("What"), max_length=200)
    value = forms.DecimalField(label=_("Value (CNY)"), min_value=0, max_digits=14, decimal_places=2, required=False)


class VisitForm(forms.Form):
    planned_for = forms.DateTimeField(
        label=_("Planned for"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    )
    subject = forms.CharField(label=_("Subject"), max_length=200, required=False)
    purpose = forms.CharField(label=_("Purpose"), max_length=200, required=False)
