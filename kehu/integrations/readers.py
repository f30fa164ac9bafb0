"""Reading uploaded files into a header row and data rows of text: CSV in UTF-8 (with or
without BOM), UTF-16 or GBK/GB18030 (Chinese Excel's default), workbooks (.xlsx, .xlsm, .xls,
.ods, read by `kehu.integrations.sheets`), and vCards of versions 2.1, 3.0 and 4.0 as phones and
mail clients write them (read by `kehu.integrations.vcard`). Where the header is in a spreadsheet
(which sheet, which row, one or two rows deep) is found by `kehu.integrations.layout`; the caller
may say it instead.

Every problem a person can fix is raised as `UnreadableFileError` with a message in their language.
"""

import csv
import io
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

from django.utils.translation import gettext as _

from kehu.integrations import layout
from kehu.integrations.models import FileFormat
from kehu.integrations.sheets import SheetInfo, Workbook, WorkbookError
from kehu.integrations.vcard import VCARD_FIELDS, VCardFile, card_cells


class UnreadableFileError(Exception):
    """The file cannot be read; `message` tells the user why and what to do."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0"
ODS_MIMETYPE = b"mimetypeapplication/vnd.oasis.opendocument.spreadsheet"
WORKBOOKS = (FileFormat.XLSX, FileFormat.XLS, FileFormat.ODS)
SUFFIXES = {FileFormat.XLSX: ".xlsx", FileFormat.XLS: ".xls", FileFormat.ODS: ".ods", FileFormat.VCARD: ".vcf"}
# Unpacked parts of a zipped workbook are capped so a zip bomb cannot fill memory.
MAX_PART_BYTES = 1024 * 1024 * 1024


def _not_readable() -> UnreadableFileError:
    return UnreadableFileError(
        _(
            "This file is not a spreadsheet Kehu can read: upload CSV, Excel (.xlsx, .xls), WPS, "
            "OpenDocument (.ods) or vCard."
        )
    )


def detect_format(file_name: str, head: bytes) -> str:
    """The format from the first bytes, the extension breaking ties; UnreadableFileError if none fits."""
    name = file_name.lower()
    if not head.strip():
        raise UnreadableFileError(_("The file is empty."))
    if head.startswith(XLS_MAGIC):
        # Excel 97-2003 and WPS .et; an .xlsx in this wrapper is encrypted (the reader says so).
        return FileFormat.XLSX if name.endswith((".xlsx", ".xlsm")) else FileFormat.XLS
    if head.startswith(XLSX_MAGIC):
        if ODS_MIMETYPE in head[:200] or name.endswith(".ods"):
            return FileFormat.ODS
        if b"mimetypeapplication/" in head[:200] or name.endswith((".csv", ".txt", ".vcf")):
            raise _not_readable()  # a text document or presentation, or a zip named like text
        return FileFormat.XLSX
    text_head = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if text_head[:11].upper() == b"BEGIN:VCARD" or name.endswith((".vcf", ".vcard")):
        return FileFormat.VCARD
    if name.endswith((".csv", ".txt", ".tsv")) or not name.rsplit(".", 1)[-1:]:
        return FileFormat.CSV
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _not_readable()
    if name.endswith((".xls", ".et", ".xlsx", ".ods")):
        if text_head[:1] == b"<":
            # Many business systems export a web page and name it .xls.
            raise UnreadableFileError(
                _(
                    "This file is a web page saved with an Excel name. Open it in Excel or WPS, save it "
                    "as .xlsx and upload it again."
                )
            )
        return FileFormat.CSV  # tab-separated text named .xls, as other systems export it
    if name.endswith((".numbers", ".pdf", ".doc", ".docx", ".jpg", ".png", ".zip")):
        raise _not_readable()
    return FileFormat.CSV


def decode_text(data: bytes) -> tuple[str, str]:
    """(text, encoding): UTF-8 with or without BOM, UTF-16 with BOM, else GB18030 (a superset of GBK)."""
    if data.startswith(b"\xef\xbb\xbf"):
        encodings = ["utf-8-sig"]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings = ["utf-16"]
    else:
        encodings = ["utf-8", "gb18030"]
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            break
        return text, {"utf-8-sig": "UTF-8 (BOM)", "utf-16": "UTF-16", "utf-8": "UTF-8", "gb18030": "GBK"}[encoding]
    raise UnreadableFileError(
        _(
            "The file's text encoding could not be read. Save it as CSV in UTF-8 or GBK "
            "(in Excel: Save as → CSV UTF-8) and upload it again."
        )
    )


class Table:
    """A readable file: `headers`, `rows()` (the rows below the header, numbered like the
    spreadsheet, empty ones as []) and `encoding` for text files. Workbooks have `sheets` and read
    one `sheet`; CSV and workbooks have `header_row` and `header_depth`, found by `matches` (a test
    whether a column name names a known field) unless given. vCards come as a table with one column
    per vCard field, numbered from 1, one row per card (`vcard.CardCells`, which carries the whole
    card).'"""

    def __init__(
        self,
        path: Path,
        fmt: str,
        *,
        sheet: str = "",
        header_row: int = 0,
        header_depth: int = 1,
        matches: Callable[[str], bool] | None = None,
    ):
        self.path = Path(path)
        self.format = fmt
        self.encoding = ""
        self.sheets: list[SheetInfo] = []
        self.sheet = ""
        self.merges = None
        self.head: list[list[str]] = []
        self.header_row = 0
        self.header_depth = 1
        self._workbook = None
        if fmt == FileFormat.VCARD:
            self._open_vcard()
        else:
            if fmt in WORKBOOKS:
                self._open_workbook(sheet, matches)
            else:
                self._open_csv()
            self.place_header(header_row, header_depth, matches)
        if not any(h.strip() for h in self.headers):
            raise UnreadableFileError(_("The header row holds no column names."))

    def place_header(self, row: int = 0, depth: int = 1, matches=None) -> None:
        """Read the column names at `row` (from 1), `depth` rows deep; found by `matches` when 0."""
        if row <= 0:
            found = layout.find_header(self.head, matches or (lambda _h: False), self.merges)
            row, depth = found.row, found.depth
        if row > len(self.head):
            raise UnreadableFileError(
                _("The header must be in one of the first %(count)s rows of the sheet.") % {"count": len(self.head)}
            )
        depth = 2 if depth == 2 and row >= 2 else 1
        self.header_row, self.header_depth = row, depth
        self.headers = layout.headers_at(self.head, row, depth, self.merges)

    @property
    def header_cells(self) -> list[list[str]]:
        """The header row(s) as they are in the file, to recognise a repeated header below."""
        first = self.header_row - self.header_depth + 1
        return [self.head[r - 1] for r in range(max(first, 1), self.header_row + 1)]

    # -- CSV

    def _open_csv(self):
        text, self.encoding = decode_text(self.path.read_bytes())
        if not text.strip():
            raise UnreadableFileError(_("The file is empty."))
        sample = text[:8192]
        try:
            self.dialect = csv.Sniffer().sniff(sample, delimiters=",\t;|")
        except csv.Error:
            self.dialect = csv.excel
        self._text = text
        self.head = [cells for _n, cells in zip(range(layout.SCAN_ROWS), self._csv_records(), strict=False)]
        if not any(any(cells) for cells in self.head):
            raise UnreadableFileError(_("The file is empty."))

    def _csv_records(self) -> Iterator[list[str]]:
        reader = csv.reader(io.StringIO(self._text), self.dialect)
        try:
            for row in reader:
                cells = [cell.strip() for cell in row]
                while cells and not cells[-1]:
                    cells.pop()
                yield cells
        except csv.Error as exc:
            raise UnreadableFileError(
                _("The CSV file is damaged near line %(line)s.") % {"line": reader.line_num}
            ) from exc

    def _csv_rows(self) -> Iterator[tuple[int, list[str]]]:
        for number, cells in enumerate(self._csv_records(), start=1):
            if number > self.header_row:
                yield number, cells

    # -- Workbooks (.xlsx, .xls, .ods)

    def _open_workbook(self, sheet: str, matches):
        self._check_zip()
        try:
            self._workbook = Workbook(self.path)
            self.sheets = self._workbook.sheets
            self.sheet = sheet or self._best_sheet(matches)
            if self.sheet not in {s.name for s in self.sheets}:
                raise UnreadableFileError(_("The workbook has no sheet “%(name)s”.") % {"name": sheet[:100]})
            self._sheet = self._workbook.sheet(self.sheet)
            self.head = self._sheet.head(layout.SCAN_ROWS)
        except WorkbookError as exc:
            raise UnreadableFileError(exc.message) from exc
        self.merges = self._sheet.merges
        if not any(any(cells) for cells in self.head):
            raise UnreadableFileError(_("The sheet “%(name)s” is empty.") % {"name": self.sheet})

    def use_sheet(self, name: str) -> None:
        """Read another sheet of the workbook (its header found again by the caller)."""
        try:
            sheet = self._workbook.sheet(name)
            head = sheet.head(layout.SCAN_ROWS)
        except WorkbookError as exc:
            raise UnreadableFileError(exc.message) from exc
        self.sheet, self._sheet, self.head, self.merges = name, sheet, head, sheet.merges

    def _check_zip(self):
        if self.format == FileFormat.XLS:
            return
        try:
            with zipfile.ZipFile(self.path) as archive:
                too_big = any(info.file_size > MAX_PART_BYTES for info in archive.infolist())
        except (zipfile.BadZipFile, OSError, EOFError, ValueError):
            return  # not a zip (an encrypted .xlsx): the reader says what it is
        if too_big:
            raise UnreadableFileError(_("A part of this workbook is too big to read."))

    def _best_sheet(self, matches) -> str:
        """The visible sheet whose header best matches known fields (a menu sheet such as 返回目录
        matches none); hidden sheets only when no visible one has data."""
        candidates = [s for s in self.sheets if not s.empty and not s.hidden] or [s for s in self.sheets if not s.empty]
        if not candidates:
            raise UnreadableFileError(_("The file is empty."))
        if len(candidates) == 1 or matches is None:
            return candidates[0].name
        scores = []
        for position, info in enumerate(candidates):
            sheet = self._workbook.sheet(info.name)
            found = layout.find_header(sheet.head(layout.SCAN_ROWS), matches, sheet.merges)
            scores.append((found.score, -position, info.name))
        return max(scores)[2]

    def _workbook_rows(self) -> Iterator[tuple[int, list[str]]]:
        try:
            yield from self._sheet.rows(first=self.header_row + 1)
        except WorkbookError as exc:
            raise UnreadableFileError(exc.message) from exc

    def row_count_hint(self) -> int | None:
        """Rows below the header as the workbook states them (None when it does not)."""
        if self.format in WORKBOOKS:
            return max(0, self._sheet.last_row - self.header_row)
        return None

    # -- vCard

    def _open_vcard(self):
        # kehu.integrations.vcard reads each card by its own charsets; `encoding` says which were met.
        self.vcards = VCardFile(self.path.read_bytes())
        if not len(self.vcards):
            raise UnreadableFileError(_("No vCard (BEGIN:VCARD … END:VCARD) was found in the file."))
        self.encoding = "UTF-8"
        self.headers = [str(_vcard_label(f)) for f in VCARD_FIELDS]

    def _vcard_rows(self) -> Iterator[tuple[int, list[str]]]:
        for card in self.vcards.cards():
            yield card.number, card_cells(card)
        self.encoding = self.vcards.encoding()

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        if self.format in WORKBOOKS:
            return self._workbook_rows()
        if self.format == FileFormat.VCARD:
            return self._vcard_rows()
        return self._csv_rows()

    def close(self):
        if self._workbook is not None:
            self._workbook.close()


def _vcard_label(field: str):
    from kehu.integrations.fields import FIELDS

    return FIELDS[field].label
