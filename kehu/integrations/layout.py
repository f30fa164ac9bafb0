"""Where the records are in a company's own template: which row holds the column names (below a
title and blank rows), whether they span two rows under merged group headers ("联系人" over
"姓名 | 电话", flattened as "联系人/姓名" and "联系人/电话"), which sheet holds the records, and
which rows below the header are not records (blank rows, "注：" notes, 合计/小计 totals, the
header repeated for printing).

Pure functions over rows of text, so they work the same for CSV and every workbook format.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

from kehu.integrations.fields import header_key

SCAN_ROWS = 30  # the header is looked for in the first rows only

# Skip reasons stored on staged rows (ImportRow.skip_reason) and counted in the report.
BLANK, NOTE, TOTAL, HEADER = "blank", "note", "total", "header"
SKIP_REASONS = (BLANK, NOTE, TOTAL, HEADER)

# "注：…", "说明:", "备注：", "填表说明", "制表人：张三", "Note: …" as the first cell of an otherwise empty row.
NOTE_CELL = re.compile(
    r"^\s*[*※#]?\s*(注意?\d*|说明|备注|填表说明|填写说明|制表人?|制表日期|审核人?|打印日期|notes?|remarks?)\s*[:：、.．]",
    re.IGNORECASE,
)
TOTAL_WORDS = ("合计", "小计", "总计", "共计", "总合计", "累计", "total", "subtotal", "grandtotal", "sum")
TOTAL_CELL = re.compile(r"^(" + "|".join(TOTAL_WORDS) + r")($|[\d:：（(\s])", re.IGNORECASE)


@dataclass(frozen=True)
class HeaderPlace:
    row: int  # the number of the (lower) header row, from 1
    depth: int  # 1, or 2 when group headers stand above the column names
    score: int  # how many column names look like known fields


def _filled(cells: list[str]) -> int:
    return sum(1 for c in cells if c)


def _cell(cells: list[str], index: int) -> str:
    return cells[index] if index < len(cells) else ""


def _horizontal_merges(merges, row_index: int) -> list[tuple[int, int]]:
    """(first column, last column) of the cells merged across columns in a row (0-based)."""
    return [(c0, c1) for (r0, c0), (r1, c1) in merges or () if r0 == row_index and c1 > c0]


def _is_group_pair(upper: list[str], lower: list[str], merges, upper_index: int) -> bool:
    """Whether `upper` holds group headers over `lower`: both have several names, and some name
    of `upper` spans columns (a merged cell, or a name followed by empty cells above names of
    `lower`, as a merged cell reads where the format keeps no merges)."""
    if _filled(upper) < 2 or _filled(lower) < 2:
        return False
    if any(_cell(upper, c0) for c0, _c1 in _horizontal_merges(merges, upper_index)):
        return True
    width = max(len(upper), len(lower))
    return any(
        _cell(upper, c) and not _cell(upper, c + 1) and _cell(lower, c) and _cell(lower, c + 1)
        for c in range(width - 1)
    )


def flatten(upper: list[str], lower: list[str], merges=None, upper_index: int = 0) -> list[str]:
    """One name per column from two header rows: "group/name" under a group, the name alone
    where there is no group, the upper name where it covers both rows (序号, 备注)."""
    width = max(len(upper), len(lower))
    groups = [""] * width
    if merges is not None:
        for c0, c1 in _horizontal_merges(merges, upper_index):
            for c in range(c0, min(c1, width - 1) + 1):
                groups[c] = _cell(upper, c0)
        for c in range(width):
            if not groups[c] and _cell(upper, c) and _cell(lower, c):
                groups[c] = _cell(upper, c)
    else:
        current = ""
        for c in range(width):
            name = _cell(upper, c)
            if name:
                current = name if _cell(lower, c) else ""  # a name over an empty cell covers both rows
            groups[c] = current if _cell(lower, c) else ""
    headers = []
    for c in range(width):
        group, name = groups[c], _cell(lower, c)
        if group and name and header_key(group) != header_key(name):
            headers.append(f"{group}/{name}")
        else:
            headers.append(name or _cell(upper, c))
    return headers


def headers_at(head: list[list[str]], row: int, depth: int, merges=None) -> list[str]:
    """The column names of a header at row `row` (from 1), one or two rows deep."""
    lower = head[row - 1] if 0 < row <= len(head) else []
    if depth == 2 and row >= 2:
        headers = flatten(head[row - 2], lower, merges, row - 2)
    else:
        headers = list(lower)
    while headers and not headers[-1]:
        headers.pop()
    return headers


def find_header(head: list[list[str]], matches: Callable[[str], bool], merges=None) -> HeaderPlace:
    """The row that best matches known field names (the first of equals), below title and
    blank rows; two rows deep where group headers stand over it (or it over the names)."""

    def score(cells: list[str]) -> int:
        return sum(1 for c in cells if c and matches(c))

    scanned = head[:SCAN_ROWS]
    # A title is one cell (merged across the table); column names are several.
    least = 2 if any(_filled(cells) >= 2 for cells in scanned) else 1
    best, best_score = None, -1
    for index, cells in enumerate(scanned):
        if _filled(cells) < least:
            continue
        found = score(cells)
        if found > best_score:
            best, best_score = index, found
    if best is None:
        return HeaderPlace(row=1, depth=1, score=0)
    if best_score == 0:  # nothing known: the first row that has several names (or any)
        best = next((i for i, cells in enumerate(scanned) if _filled(cells) >= 2), best)
        return HeaderPlace(row=best + 1, depth=1, score=0)
    # The best row is the group row above the names, or the names under a group row.
    for upper in (best, best - 1):
        lower = upper + 1
        if upper < 0 or lower >= len(scanned):
            continue
        if not _is_group_pair(scanned[upper], scanned[lower], merges, upper) or not score(scanned[lower]):
            continue
        flat = score(flatten(scanned[upper], scanned[lower], merges, upper))
        if flat >= best_score:
            return HeaderPlace(row=lower + 1, depth=2, score=flat)
    return HeaderPlace(row=best + 1, depth=1, score=best_score)


def skip_reason(cells: list[str], mapped: list[int], header_rows: list[list[str]]) -> str:
    """Why a row below the header is not a record ("" when it is one)."""
    values = [c for c in cells if c]
    if not values:
        return BLANK
    if len(set(values)) <= 2 and NOTE_CELL.match(values[0]):
        return NOTE
    if any(TOTAL_CELL.match(v.replace(" ", "").replace("\u3000", "")) for v in values[:3] if len(v) <= 12):
        return TOTAL
    if not any(_cell(cells, i) for i in mapped):
        return BLANK  # a numbered template row (序号 only), or values only in columns not imported
    for header in header_rows:
        # The header repeated for printing is a copy: compared as written (this runs for every row).
        same = sum(1 for c, h in zip(cells, header, strict=False) if c and c == h)
        if same >= 2 and same * 10 >= len(values) * 6:
            return HEADER
    return ""
