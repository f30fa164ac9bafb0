"""Reading uploaded files into a header row and data rows of text: CSV in UTF-8 (with or
without BOM), UTF-16 or GBK/GB18030 (Chinese Excel's default), workbooks (.xlsx, .xlsm, .xls,
.ods, read by `kehu.integrations.sheets`), and vCards of versions 2.1, 3.0 and 4.0 as phones and
mail clients write them. Where the header is in a spreadsheet (which sheet, which row, one or
two rows deep) is found by `kehu.integrations.layout`; the caller may say it instead.

Every problem a person can fix is raised as `UnreadableFileError` with a message in their language.
"""

import csv
import io
import quopri
import re
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

from django.utils.translation import gettext as _

from kehu.integrations import layout
from kehu.integrations.models import FileFormat
from kehu.integrations.sheets import SheetInfo, Workbook, WorkbookError


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
VCARD_FIELDS = [
    "name",
    "contact_name",
    "contact_position",
    "contact_mobile",
    "contact_office_phone",
    "contact_email",
    "address",
    "city",
    "region",
    "website",
    "contact_birthday",
    "notes",
]


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
    per vCard field, numbered from 1; a card that cannot be read comes as None (the preview
    reports it)."""

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
        self.header_score = 0
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
            row, depth, self.header_score = found.row, found.depth, found.score
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
        text, self.encoding = decode_text(self.path.read_bytes())
        cards = _split_cards(text)
        if not cards:
            raise UnreadableFileError(_("No vCard (BEGIN:VCARD … END:VCARD) was found in the file."))
        self._cards = cards
        self.headers = [str(_vcard_label(f)) for f in VCARD_FIELDS]

    def _vcard_rows(self) -> Iterator[tuple[int, list[str]]]:
        for number, card in enumerate(self._cards, start=1):
            yield number, vcard_row(card)

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


# ---------------------------------------------------------------------------------- vCard


def _split_cards(text: str) -> list[str]:
    """The text of each BEGIN:VCARD … END:VCARD block, lines unfolded and quoted-printable decoded."""
    cards, current = [], None
    for line in _logical_lines(text):
        upper = line.strip().upper()
        if upper == "BEGIN:VCARD":
            current = [line.strip()]
        elif upper == "END:VCARD" and current is not None:
            current.append("END:VCARD")
            cards.append("\r\n".join(current) + "\r\n")
            current = None
        elif current is not None and line.strip():
            current.append(line)
    return cards


def _logical_lines(text: str) -> Iterator[str]:
    """Unfolds continuation lines (a leading space or tab, RFC 2425/6350) and 2.1
    quoted-printable soft line breaks ("=" at the end), and decodes quoted-printable values
    into plain text, which vobject then reads like any 3.0 value (its own 2.1 support cannot)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        name, sep, value = line.partition(":")
        if sep and "QUOTED-PRINTABLE" in name.upper():
            while value.endswith("=") and i < len(lines):
                value = value[:-1] + lines[i].lstrip(" \t")
                i += 1
            params = [p for p in name.split(";") if p.upper() not in ("ENCODING=QUOTED-PRINTABLE", "QUOTED-PRINTABLE")]
            charset = next((p.split("=", 1)[1] for p in params if p.upper().startswith("CHARSET=")), "utf-8")
            params = [p for p in params if not p.upper().startswith("CHARSET=")]
            try:
                decoded = quopri.decodestring(value.encode("ascii", "replace")).decode(charset, errors="replace")
            except LookupError:
                decoded = quopri.decodestring(value.encode("ascii", "replace")).decode("utf-8", errors="replace")
            decoded = decoded.replace("\r\n", "\\n").replace("\n", "\\n")
            line = ";".join(params) + ":" + decoded
        # Folded continuation lines belong to the previous line.
        while i < len(lines) and lines[i][:1] in (" ", "\t") and lines[i].strip():
            line += lines[i][1:]
            i += 1
        yield line


PARAM_CHARSET = re.compile(r";CHARSET=[^;:]*", re.IGNORECASE)


def _types(prop) -> set[str]:
    found = {p.upper() for p in getattr(prop, "singletonparams", [])}
    for value in prop.params.get("TYPE", []):
        found |= {v.strip().strip('"').upper() for v in value.split(",")}
    return found


def _text(value) -> str:
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value or "").strip()


def _tel(value: str) -> str:
    value = _text(value)
    return value[4:] if value.lower().startswith("tel:") else value


def vcard_row(card: str) -> list[str] | None:
    """One vCard → the VCARD_FIELDS values; None when vobject cannot read it."""
    import vobject

    try:
        component = vobject.readOne(PARAM_CHARSET.sub("", card), ignoreUnreadable=True)
    except Exception:  # noqa: BLE001 - vobject raises many kinds of errors on broken cards
        return None
    contents = component.contents
    values = dict.fromkeys(VCARD_FIELDS, "")

    fn = _text(contents["fn"][0].value) if "fn" in contents else ""
    if not fn and "n" in contents:
        n = contents["n"][0].value
        family, given = _text(getattr(n, "family", "")), _text(getattr(n, "given", ""))
        # Chinese names read family name first without a space; Latin ones given name first.
        fn = family + given if re.search(r"[\u4e00-\u9fff]", family + given) else f"{given} {family}".strip()
    values["contact_name"] = fn
    if "org" in contents:
        org = contents["org"][0].value
        values["name"] = _text(org if not isinstance(org, list) else org[0])
    if "title" in contents:
        values["contact_position"] = _text(contents["title"][0].value)
    for tel in contents.get("tel", []):
        types = _types(tel)
        number = _tel(tel.value)
        if ({"CELL", "MOBILE"} & types or not types - {"VOICE", "PREF"}) and not values["contact_mobile"]:
            values["contact_mobile"] = number
        elif {"WORK", "VOICE", "MAIN"} & types and not values["contact_office_phone"]:
            values["contact_office_phone"] = number
        elif not values["contact_mobile"]:
            values["contact_mobile"] = number
    emails = contents.get("email", [])
    emails = sorted(emails, key=lambda e: "PREF" not in _types(e) and "1" not in e.params.get("PREF", []))
    if emails:
        values["contact_email"] = _text(emails[0].value)
    if adrs := contents.get("adr", []):
        adr = sorted(adrs, key=lambda a: "WORK" not in _types(a))[0].value
        values["address"] = _text(getattr(adr, "street", ""))
        values["city"] = _text(getattr(adr, "city", ""))
        values["region"] = _text(getattr(adr, "region", ""))
    if "url" in contents:
        values["website"] = _text(contents["url"][0].value)
    if "bday" in contents:
        values["contact_birthday"] = _text(contents["bday"][0].value)
    if "note" in contents:
        values["notes"] = _text(contents["note"][0].value)
    return [values[f] for f in VCARD_FIELDS]
