r"""Reading vCards (2.1, 3.0 and 4.0) the way phones, mail programs and address books write them.

Our own reader: the common libraries fail on real exports (a 2.1 file from Outlook in GB2312, a
UTF-8 character cut by a fold, an unescaped comma in a company's name, an Apple photo that is
not quite base64). Every card of the file becomes one `Card`, in order, and the cards add up to
the `BEGIN:VCARD` lines of the file: a card that cannot be imported says why (`Card.unreadable`,
or `Card.kind == GROUP`); a problem with one property drops that property with a warning on the
card (`Card.warnings`), never the card.

How a card is read:

1. The file's bytes are cut into lines (CRLF, LF or a lone CR) and cards (BEGIN:VCARD … END:VCARD;
   a card that does not end before the next one begins is read up to there, with a warning).
2. Lines are joined on bytes, before any decoding, so that a character whose bytes a fold split
   decodes whole: a line starting with a space or tab continues the previous one (the space goes),
   and a quoted-printable value ending in "=" continues on the next line (a soft break).
3. Each property's value is decoded by its own ENCODING (quoted-printable, base64) and CHARSET
   (Shift_JIS, GB2312/GBK/GB18030, Big5, UTF-8, ISO-8859-x, …). Without a CHARSET a value is
   UTF-8 (vCard 3.0 and 4.0 say so); a value that is not, in a file that declares a charset on
   other properties, is read in that charset; failing that in GB18030, and the card says so.
   There is no guess of one encoding for the whole file.
4. Structured values (N, ADR, ORG) are split on unescaped ";"; backslash escapes (\\, \, \; \: \n)
   are decoded in every text value, URLs included. FN and ORG are text: an unescaped comma, as
   Gmail and Outlook write it, stays part of the name.
"""

import base64
import binascii
import quopri
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import unquote

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from kehu.customers.models import EmailKind, ImService, PhoneKind
from kehu.customers.normalise import normalise_phone

# The columns a vCard is read into for targets that map columns (the leads import); the customer
# import reads the whole `Card` (`CardCells.card`).
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

PERSON, COMPANY, GROUP = "person", "company", "group"
BEGIN, END = b"BEGIN:VCARD", b"END:VCARD"

# CHARSET names as clients write them → the Python codec that reads them (a superset where one
# exists: GB18030 reads GB2312 and GBK, CP932 reads Shift_JIS with the NEC and IBM extensions
# Japanese phones use, Big5-HKSCS reads Big5 with the Hong Kong characters, CP1252 reads what
# Windows labels ISO-8859-1).
CODECS = {
    "UTF8": "utf-8",
    "UTF-8": "utf-8",
    "US-ASCII": "utf-8",
    "ASCII": "utf-8",
    "GB2312": "gb18030",
    "GBK": "gb18030",
    "GB18030": "gb18030",
    "CP936": "gb18030",
    "X-GBK": "gb18030",
    "EUC-CN": "gb18030",
    "HZ-GB-2312": "hz",
    "BIG5": "big5hkscs",
    "BIG-5": "big5hkscs",
    "BIG5-HKSCS": "big5hkscs",
    "CP950": "cp950",
    "X-BIG5": "big5hkscs",
    "SHIFT_JIS": "cp932",
    "SHIFT-JIS": "cp932",
    "SJIS": "cp932",
    "X-SJIS": "cp932",
    "MS932": "cp932",
    "CP932": "cp932",
    "WINDOWS-31J": "cp932",
    "EUC-JP": "euc_jp",
    "ISO-2022-JP": "iso2022_jp",
    "EUC-KR": "euc_kr",
    "ISO-8859-1": "cp1252",
    "LATIN1": "cp1252",
    "WINDOWS-1252": "cp1252",
    "CP1252": "cp1252",
}
FALLBACK_CODEC = "gb18030"

# Properties read for what they hold; other well-formed ones are left out without a word.
IM_PROPERTIES = {
    "X-QQ": ImService.QQ,
    "X-WECHAT": ImService.WECHAT,
    "X-WEIXIN": ImService.WECHAT,
    "X-DINGTALK": ImService.DINGTALK,
    "X-SKYPE": ImService.SKYPE,
    "X-SKYPE-USERNAME": ImService.SKYPE,
    "X-AIM": ImService.AIM,
    "X-ICQ": ImService.ICQ,
    "X-MSN": ImService.MSN,
    "X-YAHOO": ImService.YAHOO,
    "X-JABBER": ImService.XMPP,
    "X-GOOGLE-TALK": ImService.GTALK,
    "X-GTALK": ImService.GTALK,
    "X-LINE": ImService.LINE,
    "X-TELEGRAM": ImService.TELEGRAM,
    "X-WHATSAPP": ImService.WHATSAPP,
}
# X-SERVICE-TYPE values and IMPP URI schemes → service.
SERVICES = {
    "wechat": ImService.WECHAT,
    "weixin": ImService.WECHAT,
    "微信": ImService.WECHAT,
    "qq": ImService.QQ,
    "tencentqq": ImService.QQ,
    "wecom": ImService.WECOM,
    "wework": ImService.WECOM,
    "企业微信": ImService.WECOM,
    "dingtalk": ImService.DINGTALK,
    "钉钉": ImService.DINGTALK,
    "skype": ImService.SKYPE,
    "teams": ImService.TEAMS,
    "msteams": ImService.TEAMS,
    "whatsapp": ImService.WHATSAPP,
    "line": ImService.LINE,
    "telegram": ImService.TELEGRAM,
    "jabber": ImService.XMPP,
    "xmpp": ImService.XMPP,
    "googletalk": ImService.GTALK,
    "gtalk": ImService.GTALK,
    "facebook": ImService.FACEBOOK,
    "facebookmessenger": ImService.FACEBOOK,
    "aim": ImService.AIM,
    "icq": ImService.ICQ,
    "msn": ImService.MSN,
    "msnim": ImService.MSN,
    "yahoo": ImService.YAHOO,
    "ymsgr": ImService.YAHOO,
}
MOBILE_NUMBER = re.compile(r"^1[3-9]\d{9}$")
PROPERTY_NAME = re.compile(rb"^[A-Za-z0-9-]+$")


@dataclass
class Phone:
    kind: str
    number: str
    label: str = ""


@dataclass
class Email:
    kind: str
    address: str
    label: str = ""


@dataclass
class Handle:
    service: str
    handle: str
    label: str = ""


@dataclass
class Address:
    kind: str  # "work", "home" or "" (not said)
    street: str = ""
    city: str = ""
    region: str = ""
    postcode: str = ""
    country: str = ""


@dataclass
class Card:
    """What one BEGIN:VCARD … END:VCARD block holds, read."""

    number: int  # the card's place in the file, from 1
    line: int  # the line of its BEGIN:VCARD
    version: str = ""
    kind: str = PERSON
    name: str = ""
    # Where the name came from: "fn", "n", or a fallback: "org", "email", "phone".
    name_from: str = ""
    org: str = ""
    department: str = ""
    title: str = ""
    title_from_role: bool = False  # a TITLE replaces a ROLE read before it
    phones: list[Phone] = field(default_factory=list)
    emails: list[Email] = field(default_factory=list)
    handles: list[Handle] = field(default_factory=list)
    addresses: list[Address] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    note: str = ""
    birthday: date | None = None
    birthday_month: int | None = None
    birthday_day: int | None = None
    anniversary: date | None = None
    warnings: list[str] = field(default_factory=list)
    # Why the card cannot be imported at all ("" when it can).
    unreadable: str = ""
    charsets: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        """ "card 7 (line 53)" — how the report names a card."""
        return _("card %(number)s (line %(line)s)") % {"number": self.number, "line": self.line}

    @property
    def skip_reason(self) -> str:
        if self.unreadable:
            return self.unreadable
        if self.kind == GROUP:
            return _("A group of contacts (a list), not a person or a company: skipped.")
        return ""

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)


# ---------------------------------------------------------------------------------- lines


@dataclass
class RawCard:
    number: int
    line: int
    lines: list[tuple[int, bytes]]  # (line number, bytes) between BEGIN and END
    closed: bool = True


def _physical_lines(data: bytes) -> list[bytes]:
    # CRLF, LF or a lone CR (old Macs). None of these bytes occur inside a Shift_JIS, GBK or Big5 character.
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")


def _is(line: bytes, marker: bytes) -> bool:
    return line.strip().upper() == marker


def file_bytes(data: bytes) -> bytes:
    """Without a UTF-8 byte order mark; UTF-16 (some Windows exports) as UTF-8."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace").encode("utf-8")
    return data


def split_cards(data: bytes) -> list[RawCard]:
    """The cards of a file: one per BEGIN:VCARD line, with the raw lines up to its END:VCARD
    (or, when it has none, up to the next BEGIN:VCARD or the end of the file)."""
    data = file_bytes(data)
    cards: list[RawCard] = []
    current: RawCard | None = None
    for number, line in enumerate(_physical_lines(data), start=1):
        if _is(line, BEGIN):
            if current is not None:
                current.closed = False
                cards.append(current)
            current = RawCard(number=len(cards) + 1, line=number, lines=[])
        elif _is(line, END):
            if current is not None:
                cards.append(current)
                current = None
        elif current is not None:
            current.lines.append((number, line))
    if current is not None:
        current.closed = False
        cards.append(current)
    return cards


def count_begin(data: bytes) -> int:
    """How many BEGIN:VCARD lines the file has: the number the import's report adds up to."""
    return sum(1 for line in _physical_lines(file_bytes(data)) if _is(line, BEGIN))


def _is_quoted_printable(head: bytes) -> bool:
    upper = head.upper()
    return b"QUOTED-PRINTABLE" in upper or b"ENCODING=QP" in upper


def _logical_lines(lines: list[tuple[int, bytes]]) -> list[tuple[int, bytes]]:
    """Folded lines joined, on bytes: a leading space or tab continues the line before (and goes);
    a quoted-printable value ending in "=" continues on the next line (the "=" goes)."""
    out: list[tuple[int, bytes]] = []
    i = 0
    while i < len(lines):
        number, line = lines[i]
        i += 1
        if not line.strip():
            continue
        if line[:1] in (b" ", b"\t") and out:
            out[-1] = (out[-1][0], out[-1][1] + line[1:])
            continue
        head, sep, _value = line.partition(b":")
        if sep and _is_quoted_printable(head):
            while line.rstrip(b" \t").endswith(b"=") and i < len(lines):
                following = lines[i][1]
                if _is(following, BEGIN) or _is(following, END):
                    break
                line = line.rstrip(b" \t")[:-1] + following.lstrip(b" \t")
                i += 1
        out.append((number, line))
    return out


# ---------------------------------------------------------------------------------- properties


@dataclass
class Property:
    line: int
    group: str
    name: str
    params: dict[str, list[str]]
    raw: bytes  # the value, still encoded


def _split_outside_quotes(text: bytes, separator: bytes) -> list[bytes]:
    parts, current, quoted = [], bytearray(), False
    for byte in text:
        char = bytes([byte])
        if char == b'"':
            quoted = not quoted
        if char == separator and not quoted:
            parts.append(bytes(current))
            current = bytearray()
        else:
            current += char
    parts.append(bytes(current))
    return parts


BARE_ENCODINGS = {"QUOTED-PRINTABLE", "BASE64", "B", "8BIT", "7BIT"}


def _parse_params(chunks: list[bytes]) -> dict[str, list[str]]:
    """;TYPE=WORK,VOICE;type=pref;CELL;CHARSET=GB2312 → {"TYPE": ["WORK", "VOICE", "PREF", "CELL"], …}.
    Names upper-cased; TYPE values upper-cased; other values as written (unquoted)."""
    params: dict[str, list[str]] = {}
    for chunk in chunks:
        text = chunk.decode("utf-8", errors="replace").strip()
        if not text:
            continue
        name, sep, value = text.partition("=")
        if not sep:  # vCard 2.1 writes bare values: TEL;WORK;VOICE, ENCODING-less QUOTED-PRINTABLE
            bare = name.strip().upper()
            key = "ENCODING" if bare in BARE_ENCODINGS else "TYPE"
            params.setdefault(key, []).append(bare)
            continue
        name = name.strip().upper()
        values = [v.strip().strip('"') for v in value.split(",")] if name == "TYPE" else [value.strip().strip('"')]
        if name == "TYPE":
            values = [v.upper() for v in values if v]
        params.setdefault(name, []).extend(values)
    return params


def _parse_property(number: int, line: bytes) -> Property | None:
    """One logical line → Property, or None when it is not one (junk)."""
    parts = _split_outside_quotes(line, b":")
    if len(parts) < 2:
        return None
    head, raw = parts[0], b":".join(parts[1:])
    chunks = _split_outside_quotes(head, b";")
    name_part = chunks[0].strip()
    group, _dot, name = name_part.rpartition(b".")
    if not PROPERTY_NAME.match(name) or (group and not PROPERTY_NAME.match(group)):
        return None
    return Property(
        line=number,
        group=group.decode("ascii").upper(),
        name=name.decode("ascii").upper(),
        params=_parse_params(chunks[1:]),
        raw=raw,
    )


def _param(prop: Property, name: str) -> str:
    values = prop.params.get(name)
    return values[0] if values else ""


def _types(prop: Property) -> set[str]:
    return set(prop.params.get("TYPE", []))


class Decoder:
    """Turns a property's raw value into text by its ENCODING and CHARSET (see the module docstring)."""

    def __init__(self, card: Card, file_charset: str):
        self.card = card
        self.file_charset = file_charset

    def value_bytes(self, prop: Property) -> bytes | None:
        encoding = _param(prop, "ENCODING").upper()
        if encoding in ("QUOTED-PRINTABLE", "QP"):
            return quopri.decodestring(prop.raw)
        if encoding in ("B", "BASE64") and prop.name not in ("PHOTO", "LOGO", "SOUND", "KEY"):
            try:
                return base64.b64decode(_padded(prop.raw), validate=True)
            except (binascii.Error, ValueError):
                return None
        return prop.raw

    def text(self, prop: Property) -> str | None:
        """The value as text (escapes not yet decoded); None, with a warning, when it cannot be read."""
        text = self._text(prop)
        return None if text is None else self.clean(text)

    def _text(self, prop: Property) -> str | None:
        data = self.value_bytes(prop)
        if data is None:
            self.card.warn(_("%(property)s could not be decoded and was left out.") % {"property": prop.name})
            return None
        declared = _param(prop, "CHARSET").upper()
        if declared:
            codec = CODECS.get(declared) or _codec(declared)
            if codec is None:
                self.card.warn(
                    _("The character set %(charset)s is unknown; %(property)s was read as UTF-8.")
                    % {"charset": declared, "property": prop.name}
                )
            elif (text := _decode(data, codec)) is not None:
                self._note(declared)
                return text
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            if not data.isascii():
                self._note("UTF-8")
            if declared and CODECS.get(declared) not in (None, "utf-8"):
                self.card.warn(
                    _("%(property)s is not in its declared character set %(charset)s; it was read as UTF-8.")
                    % {"property": prop.name, "charset": declared}
                )
            return text
        fallback = self.file_charset or FALLBACK_CODEC
        codec = CODECS.get(fallback.upper()) or _codec(fallback) or FALLBACK_CODEC
        text = _decode(data, codec)
        if text is None:
            self.card.warn(
                _("%(property)s is in no character set Kehu can read and was left out.") % {"property": prop.name}
            )
            return None
        self._note(fallback.upper())
        if not self.file_charset:
            self.card.warn(
                _("%(property)s declares no character set and is not UTF-8; it was read as GBK: check it.")
                % {"property": prop.name}
            )
        return text

    def clean(self, text: str) -> str:
        """Without control characters (a NUL cannot even be stored); line breaks as \\n, tabs as spaces."""
        text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
        return "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch) != "Cc")

    def _note(self, charset: str) -> None:
        if charset not in self.card.charsets:
            self.card.charsets.append(charset)


# When a codec fails, its near relatives: what Windows writes as ISO-8859-1 may be plain Latin-1.
ALTERNATIVES = {"cp1252": ("latin-1",), "big5hkscs": ("cp950",), "cp932": ("shift_jis_2004",)}


def _decode(data: bytes, codec: str) -> str | None:
    for name in (codec, *ALTERNATIVES.get(codec, ())):
        try:
            return data.decode(name)
        except UnicodeDecodeError:
            continue
    return None


def _codec(name: str) -> str | None:
    import codecs

    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _padded(data: bytes) -> bytes:
    data = b"".join(data.split())
    if data.startswith(b"data:"):
        data = data.partition(b",")[2]
    return data + b"=" * (-len(data) % 4)


ESCAPES = {"n": "\n", "N": "\n", ",": ",", ";": ";", ":": ":", "\\": "\\"}


def unescape(text: str) -> str:
    """Backslash escapes decoded: \\n → line break, \\, \\; \\: \\\\ → the character; others kept as written."""
    if "\\" not in text:
        return text
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in ESCAPES:
            out.append(ESCAPES[text[i + 1]])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def components(text: str) -> list[str]:
    """A structured value (N, ADR, ORG) split on unescaped ";", each part unescaped and trimmed."""
    parts, current, i = [], [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            current.append(text[i : i + 2])
            i += 2
            continue
        if ch == ";":
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    parts.append("".join(current))
    return [unescape(p).strip() for p in parts]


def _one_line(text: str) -> str:
    return " ".join(text.split())


# ---------------------------------------------------------------------------------- a card


def _apple_builtin(label: str) -> str | None:
    """ "_$!<Mobile>!$_" (one of Apple's own labels) → "mobile"; None for a person's own label."""
    label = label.strip()
    if label.startswith("_$!<") and label.endswith(">!$_"):
        return label[4:-4].lower()
    return None


# Apple's own labels (lower case) → (kind, label kept).
APPLE_PHONE_LABELS = {
    "mobile": (PhoneKind.MOBILE, ""),
    "iphone": (PhoneKind.MOBILE, "iPhone"),
    "home": (PhoneKind.HOME, ""),
    "work": (PhoneKind.WORK, ""),
    "main": (PhoneKind.WORK, "main"),
    "homefax": (PhoneKind.FAX, "home"),
    "workfax": (PhoneKind.FAX, ""),
    "otherfax": (PhoneKind.FAX, ""),
    "pager": (PhoneKind.OTHER, "pager"),
    "other": (PhoneKind.OTHER, ""),
}
APPLE_EMAIL_LABELS = {
    "home": (EmailKind.HOME, ""),
    "work": (EmailKind.WORK, ""),
    "other": (EmailKind.OTHER, ""),
    "icloud": (EmailKind.OTHER, "iCloud"),
}


def _label_text(word: str) -> str:
    """Apple's built-in label words in the reader's language."""
    return {"main": _("Main number"), "pager": _("Pager"), "home": _("Home fax")}.get(word, word)


def _phone_kind(types: set[str], number: str) -> tuple[str, str]:
    """(kind, label) of a TEL by its TYPE values: CELL → mobile, and HOME never the office."""
    label = ""
    custom = sorted(t[2:] for t in types if t.startswith("X-") and len(t) > 2)
    if custom:
        label = custom[0].replace("-", " ").title()
    if "FAX" in types:
        return PhoneKind.FAX, label
    if types & {"CELL", "MOBILE", "IPHONE"}:
        return PhoneKind.MOBILE, label or ("iPhone" if "IPHONE" in types else "")
    if "PAGER" in types:
        return PhoneKind.OTHER, label or _label_text("pager")
    if "HOME" in types:
        return PhoneKind.HOME, label
    if types & {"WORK", "MAIN", "COMPANY"}:
        return PhoneKind.WORK, label or (_label_text("main") if "MAIN" in types else "")
    # No telling type (VOICE, PREF, TEXT or none): a Chinese mobile number is a mobile.
    return (PhoneKind.MOBILE if MOBILE_NUMBER.match(normalise_phone(number)) else PhoneKind.OTHER), label


def _email_kind(types: set[str]) -> str:
    if "WORK" in types:
        return EmailKind.WORK
    if "HOME" in types:
        return EmailKind.HOME
    return EmailKind.OTHER


def _im_handle(value: str) -> tuple[str, str]:
    """An IMPP value → (scheme, handle): "skype:li.na?call" → ("skype", "li.na"),
    "aim:goim?screenname=abc" → ("aim", "abc"), "x-apple:wxid_1" → ("x-apple", "wxid_1")."""
    scheme, sep, rest = value.partition(":")
    if not sep or " " in scheme or len(scheme) > 20:
        return "", value.strip()
    rest = rest.lstrip("/")
    for marker in ("screenname=", "contact=", "sendim?", "chat?"):
        at = rest.lower().find(marker)
        if at >= 0:
            rest = rest[at + len(marker) :]
            break
    rest = rest.split("?", 1)[0].split("&", 1)[0]
    return scheme.lower(), unquote(rest).strip()


def _service(name: str) -> str | None:
    key = "".join(unicodedata.normalize("NFKC", name).lower().split()).replace("-", "").replace("_", "")
    return SERVICES.get(key)


DATE_FORMS = [
    re.compile(r"^(?P<y>\d{4})-?(?P<m>\d{2})-?(?P<d>\d{2})(?P<time>T.*)?$"),
    re.compile(r"^--(?P<m>\d{2})-?(?P<d>\d{2})(?P<time>T.*)?$"),
]


def _date_messages(what: str) -> dict[str, str]:
    """The warnings about a birthday's or an anniversary's date, whole sentences for the translators."""
    if what == "birthday":
        return {
            "not_date": _("The birthday “%(value)s” is not a date and was left out."),
            "time": _("The birthday had a time of day, which was left out."),
            "year": _("The birthday had the year %(year)s, which was left out."),
        }
    return {
        "not_date": _("The anniversary “%(value)s” is not a date and was left out."),
        "time": _("The anniversary had a time of day, which was left out."),
        "year": _("The anniversary had the year %(year)s, which was left out."),
    }


def _parse_date(text: str, prop: Property, card: Card, what: str) -> tuple[date | None, tuple[int, int] | None]:
    """(full date, None) or (None, (month, day)) for a date without its year; (None, None), with
    a warning, when it is no date. A time of day is left out with a warning."""
    text = text.strip()
    if _param(prop, "VALUE").lower() == "text":
        card.warn(_date_messages(what)["not_date"] % {"value": text[:40]})
        return None, None
    for form in DATE_FORMS:
        match = form.match(text)
        if match is None:
            continue
        if match.group("time"):
            card.warn(_date_messages(what)["time"])
        month, day = int(match.group("m")), int(match.group("d"))
        year = int(match.groupdict().get("y") or 0)
        omit = _param(prop, "X-APPLE-OMIT-YEAR")
        if year and not (omit and omit == match.group("y")) and year >= 1900:
            try:
                return date(year, month, day), None
            except ValueError:
                break
        try:
            date(2000, month, day)
        except ValueError:
            break
        if year and year < 1900 and not omit:
            card.warn(_date_messages(what)["year"] % {"year": year})
        return None, (month, day)
    card.warn(_date_messages(what)["not_date"] % {"value": text[:40]})
    return None, None


def _url(text: str, card: Card) -> str:
    text = text.strip()
    if not text:
        return ""
    scheme = text.split(":", 1)[0].lower() if ":" in text else ""
    if scheme in ("http", "https"):
        return text
    if not scheme or "." in scheme:  # www.example.cn, or example.cn:8080
        return "http://" + text
    card.warn(_("The web address “%(url)s” is not an http(s) address and was left out.") % {"url": text[:80]})
    return ""


def parse_card(raw: RawCard, file_charset: str = "") -> Card:
    """One raw card → Card (see the module docstring)."""
    card = Card(number=raw.number, line=raw.line)
    if not raw.closed:
        card.warn(_("The card does not end with END:VCARD; it was read up to the next card."))
    decoder = Decoder(card, file_charset)
    props: list[Property] = []
    for number, line in _logical_lines(raw.lines):
        prop = _parse_property(number, line)
        if prop is None:
            shown = "".join(ch if ch.isprintable() else "?" for ch in line[:40].decode("utf-8", errors="replace"))
            card.warn(
                _("Line %(line)s is not a vCard property and was left out: “%(text)s”.")
                % {"line": number, "text": shown}
            )
            continue
        props.append(prop)
    labels: dict[str, str] = {}
    for prop in props:
        if prop.name == "X-ABLABEL" and prop.group:
            if (text := decoder.text(prop)) is not None:
                labels[prop.group] = unescape(text).strip()
    fn = n_name = ""
    show_as_company = False
    for prop in props:
        name = prop.name
        if name in ("VERSION", "X-ABLABEL"):
            if name == "VERSION":
                card.version = prop.raw.decode("ascii", errors="replace").strip()
            continue
        if name == "PROFILE":
            card.warn(_("The PROFILE line was left out (it is not part of a contact)."))
            continue
        if name in ("PHOTO", "LOGO"):
            _check_photo(prop, card)
            continue
        if name in ("KIND", "X-ADDRESSBOOKSERVER-KIND", "X-KIND"):
            value = prop.raw.decode("ascii", errors="replace").strip().lower()
            if value == "group":
                card.kind = GROUP
            elif value in ("org", "organization"):
                show_as_company = True
            continue
        if name == "X-EVOLUTION-LIST" and prop.raw.strip().upper() == b"TRUE":
            card.kind = GROUP
            continue
        if name == "X-ABSHOWAS":
            show_as_company = prop.raw.strip().upper() == b"COMPANY"
            continue
        if name not in READ:
            continue
        text = decoder.text(prop)
        if text is None:
            continue
        label = labels.get(prop.group, "") if prop.group else ""
        if name == "FN":
            fn = fn or _one_line(unescape(text))
        elif name == "N":
            parts = components(text) + [""] * 5
            family, given, middle = parts[0], parts[1], parts[2]
            if re.search(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]", family + given):
                n_name = n_name or _one_line(family + middle + given)
            else:
                n_name = n_name or _one_line(" ".join(p for p in (given, middle, family) if p))
        elif name == "ORG":
            parts = [p for p in components(text) if p]
            if parts and not card.org:
                card.org = _one_line(parts[0])
                card.department = _one_line(" / ".join(parts[1:]))
        elif name in ("TITLE", "ROLE"):
            if not card.title or (name == "TITLE" and card.title_from_role):
                card.title = _one_line(unescape(text))
                card.title_from_role = name == "ROLE"
        elif name == "TEL":
            _add_phone(card, prop, unescape(text).strip(), label)
        elif name == "EMAIL":
            _add_email(card, prop, unescape(text).strip(), label)
        elif name == "IMPP":
            _add_impp(card, prop, unescape(text).strip(), label)
        elif name in IM_PROPERTIES:
            handle = unescape(text).strip()
            if handle:
                _add_handle(card, IM_PROPERTIES[name], handle, label)
        elif name == "ADR":
            _add_address(card, prop, text, label)
        elif name == "URL":
            if url := _url(unescape(text), card):
                card.urls.append(url)
        elif name == "NOTE":
            note = unescape(text).strip()
            card.note = f"{card.note}\n{note}".strip() if card.note else note
        elif name == "BDAY":
            if card.birthday is None and card.birthday_month is None:
                full, month_day = _parse_date(unescape(text), prop, card, "birthday")
                if full is not None:
                    card.birthday = full
                elif month_day is not None:
                    card.birthday_month, card.birthday_day = month_day
                    card.warn(
                        _("The birthday has no year: it was kept as month and day (%(day)s).")
                        % {"day": f"{month_day[0]:02d}-{month_day[1]:02d}"}
                    )
        elif name in ("ANNIVERSARY", "X-ANNIVERSARY") or (
            name == "X-ABDATE" and _apple_builtin(label) == "anniversary"
        ):
            if card.anniversary is None:
                full, month_day = _parse_date(unescape(text), prop, card, "anniversary")
                if full is not None:
                    card.anniversary = full
                elif month_day is not None:
                    card.warn(_("The anniversary has no year and was left out."))
    _name_card(card, fn, n_name, show_as_company)
    return card


READ = {
    "FN",
    "N",
    "ORG",
    "TITLE",
    "ROLE",
    "TEL",
    "EMAIL",
    "IMPP",
    "ADR",
    "URL",
    "NOTE",
    "BDAY",
    "ANNIVERSARY",
    "X-ANNIVERSARY",
    "X-ABDATE",
    *IM_PROPERTIES,
}


def _check_photo(prop: Property, card: Card) -> None:
    """Photos are not kept; an inline one that is not valid base64 is worth a word (the card was damaged)."""
    inline = _param(prop, "ENCODING").upper() in ("B", "BASE64") or prop.raw.lstrip()[:5].lower() == b"data:"
    if not inline:
        return
    try:
        base64.b64decode(_padded(prop.raw), validate=True)
    except (binascii.Error, ValueError):
        card.warn(_("The photo could not be read and was left out."))


def _add_phone(card: Card, prop: Property, number: str, label: str) -> None:
    if number.lower().startswith("tel:"):
        number = number[4:]
        base, _sep, ext = number.partition(";ext=")
        number = f"{base} ext. {ext}" if ext else base.split(";", 1)[0]
    number = _one_line(number)
    if not number:
        return
    if not any(ch.isdigit() for ch in number):
        card.warn(_("The phone number “%(number)s” has no digits and was left out.") % {"number": number[:40]})
        return
    if len(number) > 40:
        card.warn(_("The phone number “%(number)s…” is too long and was left out.") % {"number": number[:40]})
        return
    kind, type_label = _phone_kind(_types(prop), number)
    if (builtin := _apple_builtin(label)) is not None:
        kind, word = APPLE_PHONE_LABELS.get(builtin, (kind, builtin))
        type_label, label = _label_text(word) if word else "", ""
    phone = Phone(kind, number, (label or type_label)[:50])
    if "PREF" in _types(prop) or _param(prop, "PREF") == "1":
        first = next((i for i, p in enumerate(card.phones) if p.kind == kind), len(card.phones))
        card.phones.insert(first, phone)
    else:
        card.phones.append(phone)


def _add_email(card: Card, prop: Property, address: str, label: str) -> None:
    if address.lower().startswith("mailto:"):
        address = address[7:]
    address = address.strip()
    if not address:
        return
    try:
        validate_email(address)
    except ValidationError:
        card.warn(_("“%(value)s” is not an email address and was left out.") % {"value": address[:60]})
        return
    kind = _email_kind(_types(prop))
    if (builtin := _apple_builtin(label)) is not None:
        kind, label = APPLE_EMAIL_LABELS.get(builtin, (kind, builtin))
    email = Email(kind, address, label[:50])
    if "PREF" in _types(prop) or _param(prop, "PREF") == "1":
        card.emails.insert(0, email)
    else:
        card.emails.append(email)


def _add_impp(card: Card, prop: Property, value: str, label: str) -> None:
    scheme, handle = _im_handle(value)
    if not handle:
        return
    named = _param(prop, "X-SERVICE-TYPE")
    service = _service(named) if named else None
    if service is None:
        service = _service(scheme) if scheme else None
    if service is None:
        service = ImService.OTHER
        label = label or named or scheme
    if _apple_builtin(label) is not None:
        label = ""  # _$!<Home>!$_ and the like say nothing about a messaging account
    _add_handle(card, service, handle, label)


def _add_handle(card: Card, service: str, handle: str, label: str) -> None:
    if len(handle) > 60:
        card.warn(_("The messaging account “%(value)s…” is too long and was left out.") % {"value": handle[:40]})
        return
    card.handles.append(Handle(service, handle, (label or "")[:50]))


def _add_address(card: Card, prop: Property, text: str, label: str) -> None:
    parts = components(text) + [""] * 7
    pobox, extended, street, city, region, postcode, country = (_one_line(p) for p in parts[:7])
    street = " ".join(p for p in (street, extended) if p) or pobox
    types = _types(prop)
    kind = "work" if "WORK" in types else "home" if "HOME" in types else ""
    if (builtin := _apple_builtin(label)) in ("work", "home"):
        kind = builtin
    if any((street, city, region, postcode, country)):
        card.addresses.append(Address(kind, street, city, region, postcode, country))


def _name_card(card: Card, fn: str, n_name: str, show_as_company: bool) -> None:
    """The card's kind and name: a company card has the company's name and no person; a person is
    named by FN, else N, else (with a warning) the company, the e-mail address or the number."""
    if card.kind == GROUP:
        card.name = fn or n_name or card.org
        card.name_from = "fn" if fn else "n" if n_name else "org"
        return
    person = n_name or (fn if fn and fn != card.org else "")
    if card.org and (show_as_company or not person):
        card.kind = COMPANY
        card.name, card.name_from = card.org, "org"
        if person:
            card.warn(_("The card is shown as a company: “%(name)s” was not made a contact.") % {"name": person})
        return
    if fn:
        card.name, card.name_from = fn, "fn"
    elif n_name:
        card.name, card.name_from = n_name, "n"
    elif card.emails:
        card.name, card.name_from = card.emails[0].address, "email"
        card.warn(_("The card has no name: it was named after its email address."))
    elif card.phones:
        card.name, card.name_from = card.phones[0].number, "phone"
        card.warn(_("The card has no name: it was named after its phone number."))
    else:
        card.unreadable = _("Nothing on it could be read: no name, company, email or phone number.")


# ---------------------------------------------------------------------------------- the file


def declared_charset(data: bytes) -> str:
    """The CHARSET most properties of the file declare ("" when none does): what a value without
    its own CHARSET, that is not UTF-8, is read in."""
    found = Counter(
        m.group(1).decode("ascii").upper()
        for m in re.finditer(rb";CHARSET=\"?([A-Za-z0-9_.-]+)", data, flags=re.IGNORECASE)
    )
    for name, _count in found.most_common():
        if CODECS.get(name, "utf-8") != "utf-8":
            return name
    return ""


class VCardFile:
    """The cards of one file, read one at a time (a file can hold many thousands)."""

    def __init__(self, data: bytes):
        self.raw_cards = split_cards(data)
        self.begin_count = count_begin(data)
        self.file_charset = declared_charset(data)
        self.charsets: Counter = Counter()

    def __len__(self) -> int:
        return len(self.raw_cards)

    def cards(self):
        for raw in self.raw_cards:
            card = parse_card(raw, self.file_charset)
            self.charsets.update(card.charsets)
            yield card

    def encoding(self) -> str:
        """What the file's text was in, for the job page: "UTF-8", "GB2312", "Shift_JIS, UTF-8" …"""
        names = [name for name, _n in self.charsets.most_common()] or ["UTF-8"]
        return ", ".join(names)[:20]


def card_cells(card: Card) -> "CardCells":
    """The card as the VCARD_FIELDS columns (what the leads import maps), carrying the card."""
    work = next((a for a in card.addresses if a.kind != "home"), None)
    mobile = next((p.number for p in card.phones if p.kind == PhoneKind.MOBILE), "")
    office = next((p.number for p in card.phones if p.kind == PhoneKind.WORK), "")
    birthday = card.birthday.isoformat() if card.birthday else ""
    values = {
        "name": card.org,
        "contact_name": card.name if card.kind == PERSON else "",
        "contact_position": card.title,
        "contact_mobile": mobile or (card.phones[0].number if card.phones else ""),
        "contact_office_phone": office,
        "contact_email": card.emails[0].address if card.emails else "",
        "address": work.street if work else "",
        "city": work.city if work else "",
        "region": work.region if work else "",
        "website": card.urls[0] if card.urls else "",
        "contact_birthday": birthday,
        "notes": card.note,
    }
    if card.skip_reason:
        values = dict.fromkeys(VCARD_FIELDS, "")
    cells = CardCells(values[f] for f in VCARD_FIELDS)
    cells.card = card
    return cells


class CardCells(list):
    """A vCard's row of text cells (VCARD_FIELDS), with the `card` it was read from."""

    card: Card


def skip_reason(cells) -> str | None:
    """Why a row read from a vCard cannot be imported (an unreadable or a group card), else None.
    Names the card: "card 7 (line 53) “张伟”: …"."""
    card = getattr(cells, "card", None)
    if card is None or not card.skip_reason:
        return None
    who = card.where + (f" “{card.name}”" if card.name else "")
    return f"{who}: {card.skip_reason}"
