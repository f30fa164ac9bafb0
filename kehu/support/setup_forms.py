"""Forms of the service setup pages: categories, SLA policies (targets in hours and minutes of
working time), service hours, and installed units."""

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kehu.support.models import Priority, ServiceSettings, TicketCategory
from kehu.support.setup_services import DEFAULT_WARRANTY_MONTHS, MAX_TARGET_MINUTES


class CategoryForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)


class CategoryEditForm(CategoryForm):
    is_active = forms.BooleanField(label=_("In use (new tickets may choose it)"), required=False)


def hours_minutes(minutes: int | None) -> tuple[int, int] | tuple[None, None]:
    return divmod(minutes, 60) if minutes is not None else (None, None)


class PolicyForm(forms.Form):
    """A target is entered as hours and minutes of working time and stored as minutes."""

    category = forms.ModelChoiceField(
        label=_("Category"),
        queryset=TicketCategory.objects.order_by("name"),
        required=False,
        empty_label=_("Default (any category)"),
    )
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices)
    first_response_hours = forms.IntegerField(label=_("First response: hours"), min_value=0, initial=0)
    first_response_mins = forms.IntegerField(label=_("minutes"), min_value=0, max_value=59, initial=0)
    resolution_hours = forms.IntegerField(label=_("Resolution: hours"), min_value=0, initial=0)
    resolution_mins = forms.IntegerField(label=_("minutes"), min_value=0, max_value=59, initial=0)

    def __init__(self, *args, policy=None, **kwargs):
        if policy is not None and "initial" not in kwargs:
            fh, fm = hours_minutes(policy.first_response_minutes)
            rh, rm = hours_minutes(policy.resolution_minutes)
            kwargs["initial"] = {
                "category": policy.category_id,
                "priority": policy.priority,
                "first_response_hours": fh,
                "first_response_mins": fm,
                "resolution_hours": rh,
                "resolution_mins": rm,
            }
        super().__init__(*args, **kwargs)
        for name in ("first_response_hours", "resolution_hours"):
            self.fields[name].max_value = MAX_TARGET_MINUTES // 60
            self.fields[name].widget.attrs.update({"inputmode": "numeric", "max": MAX_TARGET_MINUTES // 60})
        for name in ("first_response_mins", "resolution_mins"):
            self.fields[name].widget.attrs.update({"inputmode": "numeric"})

    def clean(self):
        data = super().clean()
        for prefix in ("first_response", "resolution"):
            hours, mins = data.get(f"{prefix}_hours"), data.get(f"{prefix}_mins")
            if hours is not None and mins is not None:
                data[f"{prefix}_minutes"] = hours * 60 + mins
        return data

    def service_values(self) -> dict:
        data = self.cleaned_data
        return {
            "category": data["category"],
            "priority": data["priority"],
            "first_response_minutes": data["first_response_minutes"],
            "resolution_minutes": data["resolution_minutes"],
        }

    def apply_service_errors(self, exc: ValidationError) -> None:
        mapping = {"first_response_minutes": "first_response_hours", "resolution_minutes": "resolution_hours"}
        if hasattr(exc, "error_dict"):
            for field, errors in exc.message_dict.items():
                target = mapping.get(field, field)
                for error in errors:
                    self.add_error(target if target in self.fields else None, error)
        else:
            for error in exc.messages:
                self.add_error(None, error)


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self):
        super().__init__(format="%H:%M")


class HoursForm(forms.ModelForm):
    class Meta:
        model = ServiceSettings
        fields = ["day_starts", "lunch_starts", "lunch_ends", "day_ends", "warn_before_minutes"]
        widgets = {name: TimeInput() for name in ("day_starts", "lunch_starts", "lunch_ends", "day_ends")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["warn_before_minutes"].max_value = 24 * 60
        self.fields["warn_before_minutes"].widget.attrs.update({"max": 24 * 60, "inputmode": "numeric"})


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self):
        super().__init__(format="%Y-%m-%d")


class UnitForm(forms.Form):
    """A unit entered by hand: the specification by its catalog code (the typeahead lists codes)."""

    code = forms.CharField(label=_("Product code"), max_length=60)
    serial_number = forms.CharField(label=_("Serial number"), max_length=100, required=False)
    installed_on = forms.DateField(label=_("Installed on"), required=False, widget=DateInput())
    warranty_starts_on = forms.DateField(label=_("Warranty starts"), required=False, widget=DateInput())
    warranty_ends_on = forms.DateField(label=_("Warranty ends"), required=False, widget=DateInput())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].widget.attrs.update(
            {
                "list": "spec-options",
                "autocomplete": "off",
                "hx-get": reverse("support:unit-spec-options"),
                "hx-trigger": "input changed delay:250ms",
                "hx-target": "#spec-options",
            }
        )

    def clean_code(self):
        from kehu.catalog.selectors import specifications_by_code

        code = self.cleaned_data["code"].strip()
        spec = specifications_by_code([code]).get(code)
        if spec is None:
            raise ValidationError(_("No product in the catalog has the code %(code)s.") % {"code": code})
        self.specification = spec
        return spec.code

    def clean(self):
        data = super().clean()
        starts, ends = data.get("warranty_starts_on"), data.get("warranty_ends_on")
        if starts and ends and ends < starts:
            self.add_error("warranty_ends_on", _("The warranty cannot end before it starts."))
        return data

    def service_values(self) -> dict:
        data = self.cleaned_data
        return {
            "product": self.specification.product,
            "specification": self.specification,
            "serial_number": data["serial_number"],
            "installed_on": data["installed_on"],
            "warranty_starts_on": data["warranty_starts_on"],
            "warranty_ends_on": data["warranty_ends_on"],
        }


class FromOrderForm(forms.Form):
    installed_on = forms.DateField(label=_("Installed on"), required=False, widget=DateInput())
    warranty_months = forms.IntegerField(
        label=_("Warranty (months)"), min_value=0, max_value=120, initial=DEFAULT_WARRANTY_MONTHS
    )
