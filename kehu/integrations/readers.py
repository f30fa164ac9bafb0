"""Reading uploaded files into a header row and data rows of text: CSV in UTF-8 (with or
without BOM), UTF-16 or GBK/GB18030 (Chinese Excel's default), Excel .xlsx, and vCards of
versions 2.1, 3.0 and 4.0 as phones and mail clients write them.

Every problem a person can fix is raised as `UnreadableFileError` with a message in their language.
"""

import csv
import io
import quopri
import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

from django.utils.translation import gettext as _

from kehu.integrations.models import FileFormat


class UnreadableFileError(Exception):
    """The file cannot be read; `message` tells the user why and what to do."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0"
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


def _cell(value) -> str:
    """An Excel cell as text: whole numbers without ".0" (phones typed as numbers), dates as ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e17 else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


class Table:
    """A readable file: `headers`, `rows()` (lists of text, numbered from 2 like the spreadsheet),
    and `encoding` for text files. vCards come as a table with one column per vCard field,
    numbered from 1; a card that cannot be read comes as None (the preview reports it)."""

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
        import zipfile

        from openpyxl import load_workbook
        from openpyxl.utils.exceptions import InvalidFileException

        try:
            self._workbook = load_workbook(self.path, read_only=True, data_only=True)
            sheet = self._workbook.worksheets[0]
            first = next(sheet.iter_rows(values_only=True, max_row=1), None)
        except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError, IndexError) as exc:
            raise UnreadableFileError(_("This Excel file is damaged or not an .xlsx workbook.")) from exc
        if first is None:
            raise UnreadableFileError(_("The file is empty."))
        self.headers = [_cell(v) for v in first]
        while self.headers and not self.headers[-1]:
            self.headers.pop()

    def _xlsx_rows(self) -> Iterator[tuple[int, list[str]]]:
        sheet = self._workbook.worksheets[0]
        width = len(self.headers)
        for number, row in enumerate(sheet.iter_rows(min_row=2, values_only=True), start=2):
            cells = [_cell(v) for v in row[:width]]
            if any(cells):
                yield number, cells

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
        if self.format == FileFormat.XLSX:
            return self._xlsx_rows()
        if self.format == FileFormat.VCARD:
            return self._vcard_rows()
        return self._csv_rows()

    def close(self):
        if hasattr(self, "_workbook"):
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
