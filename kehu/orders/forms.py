"""Forms of the order pages: the header, the list's filters, a delivery, a sell-through record."""

from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.orders.models import DeliveryStatus, Order, OrderState, SettlementStatus
from kehu.quotes.forms import LineAddForm, LineEditForm, PasteForm  # noqa: F401 (the same line entry)
from kehu.users.models import User

DATE = {"type": "date"}


class OrderHeaderForm(forms.ModelForm):
    """The header of an order: its date, the customer's order number, where it goes, on what terms."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Order
        fields = ["ordered_on", "external_reference", "delivery_address", "payment_terms", "notes"]
        widgets = {
            "ordered_on": forms.DateInput(attrs=DATE, format="%Y-%m-%d"),
            "delivery_address": forms.Textarea(attrs={"rows": 2}),
            "payment_terms": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version


class OrderFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": _("Order number or customer"), "type": "search"}),
    )
    state = forms.ChoiceField(choices=[("", _("Any state")), *OrderState.choices], required=False, label=_("State"))
    delivery = forms.ChoiceField(
        choices=[("", _("Any delivery")), *DeliveryStatus.choices], required=False, label=_("Delivery")
    )
    settlement = forms.ChoiceField(
        choices=[("", _("Any settlement")), *SettlementStatus.choices], required=False, label=_("Settlement")
    )
    owner = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, label=_("Owner"), empty_label=_("Any owner")
    )
    customer = forms.IntegerField(required=False, min_value=1, max_value=2**53, widget=forms.HiddenInput)
    contract = forms.IntegerField(required=False, min_value=1, max_value=2**53, widget=forms.HiddenInput)
    quote = forms.IntegerField(required=False, min_value=1, max_value=2**53, widget=forms.HiddenInput)
    ordered_from = forms.DateField(required=False, label=_("From"), widget=forms.DateInput(attrs=DATE))
    ordered_to = forms.DateField(required=False, label=_("To"), widget=forms.DateInput(attrs=DATE))

    def __init__(self, *args, owners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners


class DeliveryForm(forms.Form):
    delivered_on = forms.DateField(label=_("Delivery date"), widget=forms.DateInput(attrs=DATE))
    carrier = forms.CharField(label=_("Carrier"), max_length=100, required=False)
    tracking_number = forms.CharField(label=_("Tracking number"), max_length=60, required=False)
    notes = forms.CharField(label=_("Notes"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}))


class SellThroughForm(forms.Form):
    month = forms.DateField(label=_("Month"), widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
                            input_formats=["%Y-%m", "%Y-%m-%d"])  # fmt: skip
    seller = forms.IntegerField(label=_("Dealer"), min_value=1, max_value=2**53, widget=forms.HiddenInput)
    code = forms.CharField(label=_("Product code"), max_length=100)
    quantity = forms.DecimalField(label=_("Quantity"), max_digits=14, decimal_places=3, min_value=0)
    amount = forms.DecimalField(
        label=_("Amount with tax"), max_digits=16, decimal_places=2, min_value=0, required=False
    )
    buyer_name = forms.CharField(label=_("Buyer"), max_length=200)
    buyer_level = forms.CharField(label=_("Buyer's channel level"), max_length=20, required=False)
