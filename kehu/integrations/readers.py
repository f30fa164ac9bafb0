"""Reading uploaded files into a header row and data rows of text: CSV in UTF-8 (with or
without BOM), UTF-16 or GBK/GB18030 (Chinese Excel's default), Excel .xlsx, and vCards of
versions 2.1, 3.0 and 4.0 as phones and mail clients write them (read by `kehu.integrations.vcard`).

Every problem a person can fix is raised as `UnreadableFileError` with a message in their language.
"""

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

from django.utils.translation import gettext as _

from kehu.integrations.models import FileFormat
from kehu.integrations.vcard import VCARD_FIELDS, VCardFile, card_cells


class UnreadableFileError(Exception):
    """The file cannot be read; `message` tells the user why and what to do."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0"


def detect_format(file_name: str, head: bytes) -> str:
    """The format from the first bytes, the extension breaking ties; UnreadableFileError if none fits."""
    name = file_name.lower()
    if not head.strip():
        raise UnreadableFileError(_("The file is empty."))
    if head.startswith(XLS_MAGIC):
        raise UnreadableFileError(
            _("This is an old Excel file (.xls). Save it as Excel workbook (.xlsx) or CSV and upload it again.")
        )
    if head.startswith(XLSX_MAGIC):
        if name.endswith((".xlsx", ".xlsm")) or not name.endswith((".csv", ".txt", ".vcf")):
            return FileFormat.XLSX
        raise UnreadableFileError(
            _("This file is not a spreadsheet Kehu can read: upload CSV, Excel (.xlsx) or vCard.")
        )
    text_head = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if text_head[:11].upper() == b"BEGIN:VCARD" or name.endswith((".vcf", ".vcard")):
        return FileFormat.VCARD
    if name.endswith((".csv", ".txt", ".tsv")) or not name.rsplit(".", 1)[-1:]:
        return FileFormat.CSV
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnreadableFileError(
            _("This file is not a spreadsheet Kehu can read: upload CSV, Excel (.xlsx) or vCard.")
        )
    if name.endswith((".xls", ".numbers", ".ods", ".pdf", ".doc", ".docx", ".jpg", ".png", ".zip")):
        raise UnreadableFileError(
            _("This file is not a spreadsheet Kehu can read: upload CSV, Excel (.xlsx) or vCard.")
        )
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
    """A readable file: `headers`, `rows()` (lists of text, numbered from 2 like the spreadsheet),
    and `encoding` for text files. vCards come as a table with one column per vCard field,
    numbered from 1, one row per card (`vcard.CardCells`, which carries the whole card)."""

    def __init__(self, path: Path, fmt: str):
        self.path = Path(path)
        self.format = fmt
        self.encoding = ""
        if fmt == FileFormat.XLSX:
            self._open_xlsx()
        elif fmt == FileFormat.VCARD:
            self._open_vcard()
        else:
            self._open_csv()
        if not any(h.strip() for h in self.headers):
            raise UnreadableFileError(_("The first row holds no column names."))

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
        reader = csv.reader(io.StringIO(text), self.dialect)
        try:
            self.headers = [h.strip() for h in next(reader)]
        except (StopIteration, csv.Error) as exc:
            raise UnreadableFileError(_("The file is empty.")) from exc

    def _csv_rows(self) -> Iterator[tuple[int, list[str]]]:
        reader = csv.reader(io.StringIO(self._text), self.dialect)
        next(reader, None)
        try:
            for number, row in enumerate(reader, start=2):
                if any(cell.strip() for cell in row):
                    yield number, [cell.strip() for cell in row]
        except csv.Error as exc:
            raise UnreadableFileError(
                _("The CSV file is damaged near line %(line)s.") % {"line": reader.line_num}
            ) from exc

    # -- Excel

    def _open_xlsx(self):
        try:
            self._xlsx = XlsxSheet(self.path)
            first = next(self._xlsx.rows(), None)
        except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, ValueError, OSError, EOFError) as exc:
            raise UnreadableFileError(_("This Excel file is damaged or not an .xlsx workbook.")) from exc
        if first is None:
            raise UnreadableFileError(_("The file is empty."))
        self.headers = first[1]
        while self.headers and not self.headers[-1]:
            self.headers.pop()

    def _xlsx_rows(self) -> Iterator[tuple[int, list[str]]]:
        width = len(self.headers)
        rows = self._xlsx.rows()
        next(rows, None)
        try:
            for number, cells in rows:
                cells = cells[:width]
                if any(cells):
                    yield number, cells
        except (zipfile.BadZipFile, ElementTree.ParseError, ValueError, EOFError) as exc:
            raise UnreadableFileError(_("This Excel file is damaged or not an .xlsx workbook.")) from exc

    def row_count_hint(self) -> int | None:
        """Rows below the header as the sheet's <dimension> states them (None when it does not)."""
        if self.format == FileFormat.XLSX:
            return self._xlsx.dimension_rows()
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
        if self.format == FileFormat.XLSX:
            return self._xlsx_rows()
        if self.format == FileFormat.VCARD:
            return self._vcard_rows()
        return self._csv_rows()

    def close(self):
        pass


# ---------------------------------------------------------------------------------- Excel

# Untrusted XML: expat (2.6 here) fetches no external entities and has limited entity expansion
# ("billion laughs") since 2.4; unpacked parts are capped so a zip bomb cannot fill memory or disk.
MAX_PART_BYTES = 1024 * 1024 * 1024
NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
CELL_REF = re.compile(r"([A-Z]+)(\d+)")


def _column(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def _number(text: str) -> str:
    """Excel numbers as text: 13857112345 (a mobile typed as a number) without ".0" or exponent."""
    if text.isdigit():
        return text
    try:
        value = float(text)
    except ValueError:
        return text
    if value.is_integer() and abs(value) < 1e17:
        return str(int(value))
    return repr(value)


class XlsxSheet:
    """The first worksheet of an .xlsx, streamed with ElementTree: several times faster than
    openpyxl's read-only mode on 100,000 rows, which is what an import of a trade show's cards
    needs. Cells come as text; dates come as Excel serial numbers (the date parser knows them)."""

    def __init__(self, path: Path):
        self.path = path
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if any(info.file_size > MAX_PART_BYTES for info in archive.infolist()):
                raise ValueError("a part of the workbook is too big")
            self.sheet = self._first_sheet(archive, names)
            self.strings = self._shared_strings(archive) if "xl/sharedStrings.xml" in names else []

    @staticmethod
    def _first_sheet(archive, names) -> str:
        try:
            workbook = ElementTree.fromstring(  # noqa: S314 - see MAX_PART_BYTES
                archive.read("xl/workbook.xml")
            )
            sheet = workbook.find(f"{NS}sheets/{NS}sheet")
            rid = sheet.get(f"{REL_NS}id") if sheet is not None else None
            rels = ElementTree.fromstring(  # noqa: S314 - see MAX_PART_BYTES
                archive.read("xl/_rels/workbook.xml.rels")
            )
            for rel in rels:
                if rel.get("Id") == rid:
                    target = rel.get("Target", "").lstrip("/")
                    target = target if target.startswith("xl/") else f"xl/{target}"
                    if target in names:
                        return target
        except KeyError:
            pass
        sheets = sorted(n for n in names if n.startswith("xl/worksheets/") and n.endswith(".xml"))
        if not sheets:
            raise KeyError("no worksheet")
        return "xl/worksheets/sheet1.xml" if "xl/worksheets/sheet1.xml" in sheets else sheets[0]

    @staticmethod
    def _shared_strings(archive) -> list[str]:
        strings = []
        with archive.open("xl/sharedStrings.xml") as stream:
            for _event, element in ElementTree.iterparse(stream):  # noqa: S314
                if element.tag == f"{NS}si":
                    strings.append("".join(t.text or "" for t in element.iter(f"{NS}t")))
                    element.clear()
        return strings

    def dimension_rows(self) -> int | None:
        with zipfile.ZipFile(self.path) as archive, archive.open(self.sheet) as stream:
            for _event, element in ElementTree.iterparse(stream, events=("start",)):  # noqa: S314
                if element.tag == f"{NS}dimension":
                    match = CELL_REF.fullmatch(element.get("ref", "").split(":")[-1])
                    return int(match.group(2)) - 1 if match else None
                if element.tag == f"{NS}sheetData":
                    return None
        return None

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        strings = self.strings
        with zipfile.ZipFile(self.path) as archive, archive.open(self.sheet) as stream:
            number = 0
            for _event, element in ElementTree.iterparse(stream):  # noqa: S314
                if element.tag != f"{NS}row":
                    continue
                number = int(element.get("r") or number + 1)
                cells: list[str] = []
                for position, cell in enumerate(element.iter(f"{NS}c")):
                    ref = CELL_REF.match(cell.get("r") or "")
                    index = _column(ref.group(1)) if ref else position
                    kind = cell.get("t", "n")
                    if kind == "inlineStr":
                        text = "".join(t.text or "" for t in cell.iter(f"{NS}t"))
                    else:
                        value = cell.find(f"{NS}v")
                        raw = value.text if value is not None and value.text is not None else ""
                        if kind == "s":
                            text = strings[int(raw)] if raw else ""
                        elif kind == "n" and raw:
                            text = _number(raw)
                        elif kind == "b":
                            text = "1" if raw == "1" else "0"
                        elif kind == "e":
                            text = ""
                        else:
                            text = raw
                    if index >= len(cells):
                        cells.extend([""] * (index - len(cells) + 1))
                    cells[index] = text.strip()
                element.clear()
                yield number, cells


def _vcard_label(field: str):
    from kehu.integrations.fields import FIELDS

    return FIELDS[field].label
