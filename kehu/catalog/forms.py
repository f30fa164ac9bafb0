"""Forms of the catalog pages: they read and check input; the services decide."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.catalog.models import UNIT_SUGGESTIONS, PriceListKind, ProductStatus, TaxRate
from kehu.catalog.selectors import categories_all
from kehu.customers.models import ChannelLevel, Tier
from kehu.users.roles import Role

MONEY = {"max_digits": 14, "decimal_places": 4, "min_value": Decimal("0")}


def category_choices(empty_label) -> list[tuple[str, str]]:
    return [("", empty_label)] + [(str(c.pk), "\u2003" * c.depth + c.name) for c in categories_all()]


class ProductFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    category = forms.TypedChoiceField(label=_("Category"), required=False, coerce=int, empty_value=None)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *ProductStatus.choices]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = category_choices(_("All categories"))
        self.fields["q"].widget.attrs.update(
            {"placeholder": _("Code, name or specification"), "type": "search", "autocomplete": "off"}
        )


class ProductForm(forms.Form):
    code = forms.CharField(label=_("Product code"), max_length=40)
    name = forms.CharField(label=_("Name"), max_length=200)
    category = forms.TypedChoiceField(label=_("Category"), required=False, coerce=int, empty_value=None)
    unit = forms.CharField(label=_("Unit"), max_length=10, initial="台")
    status = forms.ChoiceField(label=_("Status"), choices=ProductStatus.choices, initial=ProductStatus.ACTIVE)
    tax_rate = forms.TypedChoiceField(
        label=_("Tax rate"), choices=TaxRate.choices, coerce=Decimal, initial=TaxRate.STANDARD
    )
    cost = forms.DecimalField(label=_("Unit cost (CNY)"), required=False, **MONEY)
    floor_price = forms.DecimalField(
        label=_("Floor price (CNY)"),
        required=False,
        help_text=_("No quote below this price without the approval of the roles named in the pricing settings."),
        **MONEY,
    )
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    image = forms.FileField(label=_("Picture"), required=False, help_text=_("JPEG, PNG, WebP or GIF, at most 2 MB."))
    specifications = forms.CharField(
        label=_("Specifications"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "XJ-100-A, 220V\nXJ-100-B, 380V"}),
        help_text=_(
            "One per line: code, then name or model. Leave empty for one standard specification with the product code."
        ),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = category_choices(_("No category"))
        self.fields["unit"].widget.attrs["list"] = "unit-suggestions"
        self.unit_suggestions = UNIT_SUGGESTIONS
        if editing:
            del self.fields["specifications"]

    def clean_specifications(self):
        rows = []
        for number, line in enumerate(self.cleaned_data.get("specifications", "").splitlines(), start=1):
            line = line.strip()
            if not line:
                continue
            for separator in ("\t", "，", ","):
                if separator in line:
                    code, name = line.split(separator, 1)
                    break
            else:
                code, name = line, line
            if not code.strip() or not name.strip():
                raise forms.ValidationError(_("Line %(n)s: give a code and a name.") % {"n": number})
            rows.append({"code": code.strip(), "name": name.strip()})
        return rows


class SpecificationForm(forms.Form):
    code = forms.CharField(label=_("Specification code"), max_length=60)
    name = forms.CharField(label=_("Specification / model"), max_length=200)


class CategoryForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    parent = forms.TypedChoiceField(label=_("Under"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].choices = category_choices(_("Top level"))


class PriceListForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    kind = forms.ChoiceField(label=_("Applies to"), choices=PriceListKind.choices)
    channel_level = forms.ChoiceField(
        label=_("Channel level"), required=False, choices=[("", "—"), *ChannelLevel.choices]
    )
    tier = forms.ChoiceField(label=_("Tier"), required=False, choices=[("", "—"), *Tier.choices])
    customer = forms.CharField(
        label=_("Customer"),
        required=False,
        max_length=200,
        help_text=_("For a single customer's list: the customer's full name or number."),
    )
    valid_from = forms.DateField(label=_("Valid from"), widget=forms.DateInput(attrs={"type": "date"}))
    valid_until = forms.DateField(
        label=_("Valid until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class PriceItemForm(forms.Form):
    code = forms.CharField(
        label=_("Specification or product code"),
        max_length=60,
        help_text=_("A product code prices all its specifications."),
    )
    min_quantity = forms.DecimalField(
        label=_("From quantity"), max_digits=14, decimal_places=3, min_value=Decimal("0"), initial=Decimal("1")
    )
    price = forms.DecimalField(label=_("Fixed price (CNY)"), required=False, **MONEY)
    percent_of_list = forms.DecimalField(
        label=_("% of the list price"),
        required=False,
        max_digits=6,
        decimal_places=2,
        min_value=Decimal("0"),
        max_value=Decimal("1000"),
    )
    valid_from = forms.DateField(label=_("Valid from"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    valid_until = forms.DateField(
        label=_("Valid until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class PricingSettingsForm(forms.Form):
    floor_approver_roles = forms.MultipleChoiceField(
        label=_("Who may approve a price below the floor"),
        choices=Role.choices,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, limits: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        limits = limits or {}
        self.limit_names = []
        for role, label in Role.choices:
            name = f"limit_{role}"
            self.fields[name] = forms.DecimalField(
                label=label,
                required=False,
                max_digits=5,
                decimal_places=2,
                min_value=Decimal("0"),
                max_value=Decimal("100"),
                initial=limits.get(role),
            )
            self.limit_names.append(name)

    def limit_fields(self):
        return [self[name] for name in self.limit_names]

    def limits(self) -> dict:
        return {name.removeprefix("limit_"): self.cleaned_data.get(name) for name in self.limit_names}


class PriceCheckForm(forms.Form):
    customer = forms.CharField(label=_("Customer"), max_length=200, help_text=_("The customer's full name or number."))
    code = forms.CharField(label=_("Specification code"), max_length=60)
    quantity = forms.DecimalField(
        label=_("Quantity"), max_digits=14, decimal_places=3, min_value=Decimal("0.001"), initial=Decimal("1")
    )
    on = forms.DateField(label=_("On"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
