"""Workbooks (.xlsx, .xlsm, .xls, .ods; WPS writes the same formats) read with python-calamine,
a maintained reader that is several times faster than walking the XML ourselves.

Cells come out as the text a person typed: a mobile typed as a number is "13857112345" (no
".0", no exponent), a date cell is "2026-05-03", a date with a time "2026-05-03 10:30:00".
Rows are numbered as the spreadsheet numbers them (from 1), whatever the empty rows above.
"""

import math
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cached_property
from pathlib import Path

from django.utils.translation import gettext as _

# The marker of an Office file encrypted with a password (the "EncryptionInfo" stream of the
# compound file that wraps it): such a file is not a workbook until the password is removed.
ENCRYPTED_MARKER = "EncryptionInfo".encode("utf-16-le")


class WorkbookError(Exception):
    """The workbook cannot be read; `message` says why in the user's language."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def password_message() -> str:
    return _(
        "This workbook is protected by a password. Open it in Excel or WPS, remove the password "
        "(File → Info → Protect workbook) and upload it again."
    )


def damaged_message() -> str:
    return _(
        "This spreadsheet is damaged or not an Excel, WPS or OpenDocument workbook. Open it, "
        "save it again as .xlsx (or CSV) and upload it again."
    )


def cell_text(value) -> str:
    """A cell as the text a person typed."""
    kind = type(value)
    if kind is str:
        return value.strip()
    if kind is float:
        if value.is_integer() and abs(value) < 1e17:
            return str(int(value))
        if math.isnan(value) or math.isinf(value):
            return ""
        text = repr(value)
        return format(Decimal(text), "f") if "e" in text else text
    if kind is int:
        return str(value)
    if kind is bool:
        return "1" if value else "0"
    if kind is datetime:
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ", timespec="seconds")
    if kind is date:
        return value.isoformat()
    if kind is time:
        return value.isoformat(timespec="seconds")
    if kind is timedelta:
        return str(value)
    return str(value).strip() if value is not None else ""


class SheetInfo:
    """A worksheet's name and visibility; its size is read (the sheet parsed) only when asked, so
    reopening a file at its chosen sheet does not parse the others."""

    def __init__(self, name: str, hidden: bool, workbook: "Workbook"):
        self.name, self.hidden, self._workbook = name, hidden, workbook

    @cached_property
    def last_row(self) -> int:
        """The number of the last row with a value (0: the sheet is empty)."""
        return self._workbook.sheet(self.name).last_row

    @property
    def empty(self) -> bool:
        return self.last_row == 0


class Sheet:
    """One worksheet: its merged ranges (None where the format keeps none) and its rows of text."""

    def __init__(self, sheet):
        self._sheet = sheet
        self.name = sheet.name
        start, end = sheet.start, sheet.end
        self.first_column = start[1] if start else 0
        self.last_row = end[0] + 1 if end else 0
        self.merges = sheet.merged_cell_ranges

    def rows(self, first: int = 1) -> Iterator[tuple[int, list[str]]]:
        """(row number, cells as text) from row `first` on; empty rows come as empty lists."""
        import python_calamine

        pad = [""] * self.first_column
        to_text = cell_text
        try:
            for index, values in enumerate(self._sheet.iter_rows()):
                number = index + 1
                if number < first:
                    continue
                cells = [to_text(v) for v in values]
                while cells and not cells[-1]:
                    cells.pop()
                yield number, (pad + cells if cells else [])
        except python_calamine.CalamineError as exc:
            raise WorkbookError(damaged_message()) from exc

    def head(self, count: int) -> list[list[str]]:
        """The first `count` rows, numbered from 1 (row n is at index n - 1)."""
        rows = []
        for _number, cells in self.rows():
            rows.append(cells)
            if len(rows) >= count:
                break
        return rows


class Workbook:
    """The worksheets of a workbook (chart and macro sheets left out), in the workbook's order."""

    def __init__(self, path: Path):
        # The reader loads with the first workbook a process opens, not with the URLs.
        import python_calamine

        self.path = Path(path)
        try:
            self._book = python_calamine.CalamineWorkbook.from_path(str(self.path))
            metadata = self._book.sheets_metadata
        except python_calamine.PasswordError as exc:
            raise WorkbookError(password_message()) from exc
        except (python_calamine.CalamineError, OSError, ValueError) as exc:
            if _looks_encrypted(self.path):
                raise WorkbookError(password_message()) from exc
            raise WorkbookError(damaged_message()) from exc
        self._loaded: dict[str, Sheet] = {}  # each sheet is parsed once per Workbook
        self.sheets: list[SheetInfo] = []
        for meta in metadata:
            if meta.typ != python_calamine.SheetTypeEnum.WorkSheet:
                continue
            hidden = meta.visible != python_calamine.SheetVisibleEnum.Visible
            self.sheets.append(SheetInfo(name=meta.name, hidden=hidden, workbook=self))

    def sheet(self, name: str) -> Sheet:
        import python_calamine

        if name not in self._loaded:
            try:
                self._loaded[name] = Sheet(self._book.get_sheet_by_name(name))
            except python_calamine.PasswordError as exc:
                raise WorkbookError(password_message()) from exc
            except python_calamine.CalamineError as exc:
                raise WorkbookError(damaged_message()) from exc
        return self._loaded[name]

    def close(self) -> None:
        import python_calamine

        try:
            self._book.close()
        except python_calamine.CalamineError:
            pass


def _looks_encrypted(path: Path) -> bool:
    try:
        with open(path, "rb") as stream:
            return stream.read(8) == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" and ENCRYPTED_MARKER in stream.read(4 << 20)
    except OSError:
        return False
