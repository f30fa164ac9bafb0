"""Forms of the quote pages: the header, the list's filters, line entry, paste and import."""

import tempfile
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.integrations.fields import header_key
from kehu.integrations.layout import skip_reason
from kehu.integrations.readers import Table, UnreadableFileError, detect_format
from kehu.quotes.models import Quote, QuoteState
from kehu.users.models import User

VALID_DAYS = 30
MAX_PASTE = 200_000  # characters: about 10,000 rows of "code<TAB>quantity"
MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_IMPORT_ROWS = 5000


class QuoteHeaderForm(forms.ModelForm):
    """The header of a quote: whom it is for, in which language, how long it holds, on what terms."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Quote
        fields = ["contact", "title", "language", "valid_until", "payment_terms", "delivery_terms", "notes"]
        widgets = {
            "valid_until": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "payment_terms": forms.Textarea(attrs={"rows": 2}),
            "delivery_terms": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, contacts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = contacts
        self.fields["contact"].required = False
        self.fields["contact"].empty_label = _("— no contact —")
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version
        else:
            self.fields["valid_until"].initial = timezone.localdate() + timedelta(days=VALID_DAYS)


class QuoteFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": _("Quote number or customer"), "type": "search"}),
    )
    state = forms.ChoiceField(choices=[("", _("Any state")), *QuoteState.choices], required=False, label=_("State"))
    owner = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, label=_("Owner"), empty_label=_("Any owner")
    )
    customer = forms.IntegerField(required=False, min_value=1, max_value=2**53, widget=forms.HiddenInput)
    expiring = forms.BooleanField(required=False, label=_("Expiring within 7 days"))

    def __init__(self, *args, owners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners


class LineAddForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=100)
    quantity = forms.DecimalField(
        label=_("Quantity"), max_digits=14, decimal_places=3, min_value=Decimal("0.001"), required=False
    )


class LineEditForm(forms.Form):
    """One line's editable numbers; a field left out keeps its value."""

    quantity = forms.DecimalField(
        label=_("Quantity"), max_digits=14, decimal_places=3, min_value=Decimal("0.001"), required=False
    )
    discount = forms.DecimalField(
        label=_("Discount %"), max_digits=5, decimal_places=2, min_value=0, max_value=100, required=False
    )
    unit_price = forms.DecimalField(label=_("Unit price"), max_digits=14, decimal_places=4, min_value=0, required=False)


class PasteForm(forms.Form):
    text = forms.CharField(
        label=_("Rows from Excel"),
        max_length=MAX_PASTE,
        strip=False,
        error_messages={"required": _("Paste at least one row: a code and a quantity.")},
    )


# Column names (compared as `header_key` makes them) of the code and the quantity in an imported file.
CODE_HEADERS = {
    header_key(h)
    for h in (
        "编码", "产品编码", "物料编码", "规格编码", "型号编码", "商品编码", "存货编码", "料号", "货号", "代码", "编号",
        "code", "product code", "item code", "item no", "part no", "part number", "sku", "specification code",
    )
}  # fmt: skip
QUANTITY_HEADERS = {
    header_key(h) for h in ("数量", "订购数量", "采购数量", "报价数量", "数目", "qty", "quantity", "amount")
}


class ImportForm(forms.Form):
    """An .xlsx / .xls / .ods / CSV file with a code and a quantity column, read with the import
    machinery (INT-1); `cleaned_data["text"]` holds its rows as "code<TAB>quantity" lines, line n
    standing for the sheet's row n (rows above the header and skipped rows left empty), so a
    problem the paste service finds names the row as the spreadsheet numbers it."""

    file = forms.FileField(label=_("File"), error_messages={"required": _("Choose a file to import.")})

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        if upload is None:
            return data
        if upload.size > MAX_IMPORT_BYTES:
            raise forms.ValidationError(_("The file is larger than 5 MB."))
        data["text"] = self._read(upload)
        return data

    def _read(self, upload) -> str:
        suffix = Path(upload.name or "").suffix.lower()[:8]
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"lines{suffix}"
            with path.open("wb") as out:
                for chunk in upload.chunks():
                    out.write(chunk)
            try:
                head = path.read_bytes()[:4096]
                table = Table(path, detect_format(upload.name or "", head), matches=_known_header)
                try:
                    return _lines_of(table)
                finally:
                    table.close()
            except UnreadableFileError as exc:
                raise forms.ValidationError(exc.message) from exc


def _known_header(text: str) -> bool:
    key = header_key(text)
    return key in CODE_HEADERS or key in QUANTITY_HEADERS


def _cell(cells: list[str], index: int) -> str:
    return cells[index].strip() if index < len(cells) else ""


def _lines_of(table) -> str:
    keys = [header_key(h) for h in table.headers]
    code = next((i for i, k in enumerate(keys) if k in CODE_HEADERS), None)
    quantity = next((i for i, k in enumerate(keys) if k in QUANTITY_HEADERS), None)
    if code is None or quantity is None:
        raise forms.ValidationError(
            _("The file needs a code column (编码 or code) and a quantity column (数量 or quantity) in its header row.")
        )
    lines = [""] * table.header_row
    header_rows = table.header_cells
    for number, cells in table.rows():
        while len(lines) < number - 1:
            lines.append("")
        if skip_reason(cells, [code, quantity], header_rows):
            lines.append("")
            continue
        if number > MAX_IMPORT_ROWS:
            raise forms.ValidationError(
                _("A quote takes at most %(count)s rows from one file.") % {"count": MAX_IMPORT_ROWS}
            )
        lines.append(f"{_cell(cells, code)}\t{_cell(cells, quantity)}")
    if not any(lines):
        raise forms.ValidationError(_("The file has no rows below its header."))
    return "\n".join(lines)


class DecisionForm(forms.Form):
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)
