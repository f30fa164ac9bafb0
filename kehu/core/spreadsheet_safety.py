"""Cells that cannot hurt whoever opens our exports in Excel, WPS or LibreOffice.

Every exporter writes its rows through `csv_row` / `xlsx_row`; the import undoes the CSV quoting
with `unquote_formula`, so an exported file imports again as it was.

- Text from user data is never run as a formula. In CSV a cell starting with = + - @, tab or
  carriage return gets a leading apostrophe (the mark spreadsheets use for "this is text"); so
  does a cell that already starts with apostrophes followed by one of those, so the import can
  take exactly one apostrophe off again. In .xlsx the cell is a text cell (number format "@")
  holding the value exactly as stored: a phone "+86 138…" or "=1+1" reads back identical
  (line breaks are written as Excel's own, LF).
- Numbers we write ourselves (ids, amounts, counts: Python int / Decimal / float, never text from
  a person) stay numbers in both formats; a negative amount is not a formula.
- Characters no export may hold (control characters, see `kehu.core.text`) are dropped: they may
  have been stored before the input rule existed, and openpyxl refuses them outright."""

import re
from datetime import date, datetime
from decimal import Decimal

from kehu.core.text import printable

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_QUOTED_FORMULA = re.compile(r"'+[=+\-@\t\r]")
# Excel holds at most this many characters in one cell.
XLSX_CELL_MAX = 32_767


def _is_number(value) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def csv_cell(value) -> str:
    """One CSV cell: numbers as they are, text printable and never a formula."""
    if value is None:
        return ""
    if _is_number(value):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    text = printable(value)
    if text.startswith(FORMULA_START) or _QUOTED_FORMULA.match(text):
        return "'" + text
    return text


def csv_row(values) -> list[str]:
    return [csv_cell(v) for v in values]


def unquote_formula(text: str) -> str:
    """A cell as `csv_cell` wrote it back to the stored value: one apostrophe off a quoted formula."""
    return text[1:] if _QUOTED_FORMULA.match(text) else text


def xlsx_row(sheet, values) -> list:
    """Cells for `sheet.append` (openpyxl, write-only or not): text cells for text, exactly as
    stored (less control characters); numbers and dates as such."""
    from openpyxl.cell import WriteOnlyCell

    cells = []
    for value in values:
        if value is None or _is_number(value) or isinstance(value, (date, datetime)):
            cells.append(value)
            continue
        # Excel's line break inside a cell is LF; XML would turn a CR into one anyway.
        text = printable(value).replace("\r\n", "\n").replace("\r", "\n")
        cell = WriteOnlyCell(sheet, value=text[:XLSX_CELL_MAX])
        # Assigning a string starting with "=" makes openpyxl write a formula: force text.
        cell.data_type = "s"
        cell.number_format = "@"
        cells.append(cell)
    return cells
