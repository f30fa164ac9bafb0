"""Writing vCards 3.0 (the contact export): escaping, folding at 75 octets without cutting a
character, and each phone, e-mail and messaging account with its type and label in the forms
phones and mail programs read (Apple's itemN.X-ABLabel for a label of the person's own).
`kehu.integrations.vcard` reads what this writes."""

from urllib.parse import quote

from kehu.core.text import printable
from kehu.customers.models import EmailKind, ImService, Medium, PhoneKind


def escape(text: str) -> str:
    """Text for a vCard value: control characters dropped, backslash, comma and semicolon
    escaped, line breaks as \\n."""
    text = printable(text or "", multiline=True)
    text = text.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;")
    return text.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")


def fold(line: str) -> str:
    """A content line folded at 75 octets (RFC 6350), never inside a UTF-8 character."""
    out, current, size = [], [], 0
    for ch in line:
        width = len(ch.encode("utf-8"))
        if size + width > 75:
            out.append("".join(current))
            current, size = [" "], 1
        current.append(ch)
        size += width
    out.append("".join(current))
    return "\r\n".join(out) + "\r\n"


def content_line(name: str, value: str, params: str = "", group: str = "") -> str:
    """ "item1.TEL;TYPE=CELL:138…" folded; `value` already escaped."""
    return fold(f"{group + '.' if group else ''}{name}{params}:{value}")


# Our kinds as vCard 3.0 TYPE values (CELL for a mobile, HOME never as a work number).
PHONE_TYPES = {
    PhoneKind.MOBILE: "CELL,VOICE",
    PhoneKind.WORK: "WORK,VOICE",
    PhoneKind.HOME: "HOME,VOICE",
    PhoneKind.FAX: "FAX",
    PhoneKind.OTHER: "VOICE",
}
EMAIL_TYPES = {EmailKind.WORK: "INTERNET,WORK", EmailKind.HOME: "INTERNET,HOME", EmailKind.OTHER: "INTERNET"}
# Services as Apple writes them in IMPP: X-SERVICE-TYPE and the URI scheme.
IMPP_NAMES = {
    ImService.WECHAT: ("WeChat", "x-apple"),
    ImService.QQ: ("QQ", "x-apple"),
    ImService.WECOM: ("WeCom", "x-apple"),
    ImService.DINGTALK: ("DingTalk", "x-apple"),
    ImService.SKYPE: ("Skype", "skype"),
    ImService.TEAMS: ("Teams", "x-apple"),
    ImService.WHATSAPP: ("WhatsApp", "x-apple"),
    ImService.LINE: ("Line", "x-apple"),
    ImService.TELEGRAM: ("Telegram", "x-apple"),
    ImService.XMPP: ("Jabber", "xmpp"),
    ImService.GTALK: ("GoogleTalk", "xmpp"),
    ImService.FACEBOOK: ("Facebook", "x-apple"),
    ImService.AIM: ("AIM", "aim"),
    ImService.ICQ: ("ICQ", "aim"),
    ImService.MSN: ("MSN", "msnim"),
    ImService.YAHOO: ("Yahoo", "ymsgr"),
}


def _param_value(text: str) -> str:
    """A parameter value, quoted when it holds , ; or : (RFC 6350 param-value)."""
    text = text.replace('"', "'").replace("\r", " ").replace("\n", " ")
    return f'"{text}"' if any(ch in text for ch in ",;:") else text


def point_lines(points, *, start: int = 1) -> list[str]:
    """TEL, EMAIL and IMPP lines of `Point`s (kehu.customers.points), each with its type; a label of
    the person's own goes into Apple's itemN.X-ABLabel, which iPhones and Macs show."""
    lines, item = [], start
    for p in points:
        group = ""
        if p.label:
            group = f"item{item}"
            item += 1
        if p.medium == Medium.PHONE:
            lines.append(content_line("TEL", escape(p.value), f";TYPE={PHONE_TYPES.get(p.kind, 'VOICE')}", group))
        elif p.medium == Medium.EMAIL:
            lines.append(content_line("EMAIL", escape(p.value), f";TYPE={EMAIL_TYPES.get(p.kind, 'INTERNET')}", group))
        else:
            service, scheme = IMPP_NAMES.get(p.kind, (p.label or "Other", "x-apple"))
            uri = f"{scheme}:{quote(p.value, safe='@._-+')}"
            lines.append(content_line("IMPP", uri, f";X-SERVICE-TYPE={_param_value(service)}", group))
        if group:
            lines.append(content_line("X-ABLabel", escape(p.label), "", group))
    return lines
