"""Forms of the complaint pages: the list's filters, registration, each step's form, a step's owner
and deadline, a move (start, reject, withdraw), the report's period."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.support.models_complaints import (
    ComplaintCategory,
    ComplaintCause,
    ComplaintResponsibility,
    ComplaintSeverity,
    ComplaintState,
    ComplaintStepKind,
)
from kehu.users.models import Department

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ComplaintFilterForm(forms.Form):
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[
            ("open", pgettext_lazy("complaints", "Open")),
            ("finished", _("Finished")),
            ("all", _("All")),
            *ComplaintState.choices,
        ],
    )
    overdue = forms.BooleanField(label=_("Overdue"), required=False)
    department = forms.ModelChoiceField(
        label=_("Department"), required=False, queryset=Department.objects.all(), empty_label=_("Any department")
    )
    cause = forms.ChoiceField(label=_("Cause"), required=False, choices=[("", _("Any cause")), *ComplaintCause.choices])
    category = forms.ChoiceField(
        label=_("Category"), required=False, choices=[("", _("Any category")), *ComplaintCategory.choices]
    )
    first = forms.DateField(label=_("From"), required=False, widget=DATE)
    last = forms.DateField(label=_("To"), required=False, widget=DATE)
    customer = forms.IntegerField(required=False, min_value=1, max_value=2**53, widget=forms.HiddenInput)


class ComplaintForm(forms.Form):
    """Registration: the customer is chosen first (hidden here)."""

    contact = forms.ModelChoiceField(label=_("Contact"), queryset=None, required=False, empty_label=_("— no contact —"))
    order_line = forms.ModelChoiceField(
        label=_("Order line"), queryset=None, required=False, empty_label=_("— not from an order in Kehu —")
    )
    order_number = forms.CharField(label=_("Order number"), max_length=40, required=False)
    specification = forms.ModelChoiceField(
        label=_("Product specification"), queryset=None, required=False, empty_label=_("— none —")
    )
    part_number = forms.CharField(
        label=_("Part number (料号)"),
        max_length=60,
        required=False,
        help_text=_("Left empty: the specification's code."),
    )
    quantity = forms.DecimalField(label=_("Quantity"), max_digits=14, decimal_places=3, required=False, min_value=0)
    shipped_on = forms.DateField(label=_("Ship date"), required=False, widget=DATE)
    category = forms.ChoiceField(label=_("Category"), choices=ComplaintCategory.choices)
    severity = forms.ChoiceField(label=_("Severity"), choices=ComplaintSeverity.choices, initial="major")
    ticket = forms.ModelChoiceField(label=_("Ticket"), queryset=None, required=False, empty_label=_("— no ticket —"))
    unit = forms.ModelChoiceField(
        label=_("Installed unit"), queryset=None, required=False, empty_label=_("— no unit —")
    )
    customer_words = forms.CharField(
        label=_("The customer's words"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args, contacts, order_lines, specifications, tickets, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = contacts
        self.fields["order_line"].queryset = order_lines
        self.fields["order_line"].label_from_instance = lambda line: (
            f"{line.order.number} · {line.code} {line.name} × {line.quantity.normalize():f}"
        )
        self.fields["specification"].queryset = specifications
        self.fields["specification"].label_from_instance = lambda s: f"{s.code} {s.product.name} {s.name}"
        self.fields["ticket"].queryset = tickets
        self.fields["unit"].queryset = units

    def clean_shipped_on(self):
        day = self.cleaned_data["shipped_on"]
        if day and day > timezone.localdate():
            raise forms.ValidationError(_("The ship date cannot lie in the future."))
        return day


class ComplaintEditForm(forms.Form):
    customer_words = forms.CharField(
        label=_("The customer's words"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4})
    )
    category = forms.ChoiceField(label=_("Category"), choices=ComplaintCategory.choices)
    severity = forms.ChoiceField(label=_("Severity"), choices=ComplaintSeverity.choices)
    order_number = forms.CharField(label=_("Order number"), max_length=40, required=False)
    part_number = forms.CharField(label=_("Part number (料号)"), max_length=60, required=False)
    quantity = forms.DecimalField(label=_("Quantity"), max_digits=14, decimal_places=3, required=False, min_value=0)
    shipped_on = forms.DateField(label=_("Ship date"), required=False, widget=DATE)
    owner = forms.ModelChoiceField(label=_("Complaint manager"), queryset=None, required=False)
    version = forms.IntegerField(min_value=0, max_value=2**31, required=False, widget=forms.HiddenInput)

    def __init__(self, *args, owners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners


class NoticeForm(forms.Form):
    department = forms.ModelChoiceField(
        label=_("Responsible department"), queryset=Department.objects.order_by("path", "name")
    )
    notice_deadline = forms.DateField(label=_("Deadline for the department"), required=False, widget=DATE)
    notice_text = forms.CharField(
        label=_("What the department must do"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class InvestigationForm(forms.Form):
    cause = forms.ChoiceField(label=_("Cause"), choices=ComplaintCause.choices)
    responsibility = forms.ChoiceField(label=_("Responsibility"), choices=ComplaintResponsibility.choices)
    findings = forms.CharField(label=_("Findings"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4}))


class ActionForm(forms.Form):
    corrective_action = forms.CharField(
        label=_("Corrective action"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    preventive_action = forms.CharField(
        label=_("Preventive action"), max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class FeedbackForm(forms.Form):
    feedback_text = forms.CharField(
        label=_("What the customer was told"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    feedback_on = forms.DateField(label=_("Told on"), required=False, widget=DATE)


class FollowUpForm(forms.Form):
    satisfaction = forms.TypedChoiceField(
        label=_("Satisfaction"),
        coerce=int,
        choices=[(5, _("5 · very satisfied")), (4, "4"), (3, "3"), (2, "2"), (1, _("1 · very dissatisfied"))],
    )
    follow_up_comment = forms.CharField(
        label=_("The customer's comment"), max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


STEP_FORMS = {
    ComplaintStepKind.NOTICE: NoticeForm,
    ComplaintStepKind.INVESTIGATION: InvestigationForm,
    ComplaintStepKind.ACTION: ActionForm,
    ComplaintStepKind.FEEDBACK: FeedbackForm,
    ComplaintStepKind.FOLLOW_UP: FollowUpForm,
}


class StepMetaForm(forms.Form):
    kind = forms.ChoiceField(choices=ComplaintStepKind.choices, widget=forms.HiddenInput)
    version = forms.IntegerField(min_value=0, max_value=2**31, required=False, widget=forms.HiddenInput)


class PlanForm(forms.Form):
    kind = forms.ChoiceField(choices=ComplaintStepKind.choices, widget=forms.HiddenInput)
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=None, required=False, empty_label=_("— unchanged —"))
    due_on = forms.DateField(label=_("Due"), required=False, widget=DATE)
    version = forms.IntegerField(min_value=0, max_value=2**31, required=False, widget=forms.HiddenInput)

    def __init__(self, *args, owners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners


class MoveForm(forms.Form):
    to = forms.ChoiceField(choices=ComplaintState.choices)
    note = forms.CharField(label=_("Reason"), required=False, max_length=500)
    version = forms.IntegerField(min_value=0, max_value=2**31, required=False, widget=forms.HiddenInput)


class ReportForm(forms.Form):
    first = forms.DateField(label=_("From"), required=False, widget=DATE)
    last = forms.DateField(label=_("To"), required=False, widget=DATE)
    period = forms.ChoiceField(
        label=_("Period"),
        required=False,
        choices=[("month", _("By month")), ("quarter", _("By quarter")), ("year", _("By year"))],
    )

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        data["last"] = data.get("last") or today
        data["first"] = data.get("first") or data["last"].replace(month=1, day=1)
        data["period"] = data.get("period") or "month"
        if data["first"] > data["last"]:
            raise forms.ValidationError(_("The first day must not lie after the last."))
        if (data["last"] - data["first"]).days > 3 * 366:
            raise forms.ValidationError(_("Choose at most three years."))
        return data
