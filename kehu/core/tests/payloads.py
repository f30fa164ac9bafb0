"""Hostile text the tests send through forms, filters and the API, and the check that a page shows it
as text only.

Each payload carries its own marker (`kxp01` … ) so a test finds where it landed. The corpus is small
on purpose: one of each family, since every payload is sent through hundreds of fields.

`markup_problems(html)` parses a page with html.parser and reports what of our payloads became markup:
an element or attribute that came from a payload (a tag or attribute name with a marker, an `on…=`
handler, a `<script>` with code, a `javascript:` address) or a template expression that was evaluated
next to a marker. A marker inside a text node or an attribute value is fine: that is escaped text.
"""

import re
from dataclasses import dataclass
from html.parser import HTMLParser

MARKER = re.compile(r"kxp\d\d")


@dataclass(frozen=True)
class Payload:
    family: str
    text: str

    @property
    def marker(self) -> str:
        return MARKER.search(self.text)[0]

    @property
    def one_line(self) -> bool:
        return "\n" not in self.text and "\r" not in self.text


# fmt: off
PAYLOADS = [
    Payload("xss-script", "kxp01<script>alert('kxp01')</script>"),
    Payload("xss-img", "kxp02<img src=x onerror=alert('kxp02')>"),
    Payload("xss-svg", "kxp03<svg/onload=alert('kxp03')>"),
    Payload("xss-url", "javascript:alert('kxp04')//"),
    Payload("xss-attribute", "kxp05\"'><b onmouseover=alert('kxp05') data-x=\"kxp05\">x</b><!--"),
    Payload(
        "xss-polyglot",
        "jaVasCript:/*-/*`/*\\`/*'/*\"/**/(/* */oNcliCk=alert('kxp06') )//</stYle/</titLe/</teXtarEa/"
        "</scRipt/--!><sVg/<sVg/oNloAd=alert('kxp06')//>",
    ),
    Payload("template", "kxp07{{7*7}}${7*7}<%= 7*7 %>#{7*7}{% now 'Y' %}"),
    Payload("fullwidth", "kxp08＜script＞alert('kxp08')＜/script＞\u2039b\u203a\\u003cb\\u003e"),
    Payload("entities", "kxp09&lt;script&gt;alert(1)&lt;/script&gt;&#x3C;img src=x onerror=alert(1)&#62;"),
    Payload("sql-or", "kxp10' OR '1'='1' --"),
    Payload("sql-union", "kxp11' UNION SELECT username, password FROM users_user--"),
    Payload("sql-drop", "kxp12'); DROP TABLE customers_customer; --"),
    Payload("sql-stacked", "kxp13\"; SELECT 1; UPDATE users_user SET is_superuser=1; --"),
    Payload("like-wildcards", "kxp14%_%\\%\\_"),
    Payload("backslashes", "kxp15\\' \\\" \\\\ \\x27 \\0"),
    Payload("formula-equals", "=HYPERLINK(\"http://evil.example/?kxp16\",\"kxp16\")"),
    Payload("formula-plus", "+kxp17+cmd|' /C calc'!A0"),
    Payload("formula-minus", "-kxp18-2+3+cmd|' /C calc'!A0"),
    Payload("formula-at", "@kxp19 SUM(1+1)*cmd|' /C calc'!A0"),
    Payload("header-crlf", "kxp20\r\nSet-Cookie: kxp20=1\r\nX-Kxp20: 1"),
    Payload("header-encoded", "kxp21%0d%0aSet-Cookie:%20kxp21=1%0aLocation:%20//evil.example"),
]
# fmt: on
BY_MARKER = {p.marker: p for p in PAYLOADS}
ONE_LINE = [p for p in PAYLOADS if p.one_line]
FORMULAS = [p for p in PAYLOADS if p.family.startswith("formula")]


def payload_for(index: int, *, max_length: int | None = None, one_line: bool = False) -> str:
    """The index-th payload (cycling), shortened to a field's length with its marker kept."""
    corpus = ONE_LINE if one_line else PAYLOADS
    text = corpus[index % len(corpus)].text
    if max_length is not None and len(text) > max_length:
        # Not ending in a space: single-line fields trim their ends, and the text should come back whole.
        text = text[:max_length].rstrip()
    return text


# Template expressions a payload holds and what they would become if evaluated.
_EVALUATED = re.compile(r"kxp07(?:\{\{7\*7\}\})?49|#\{7\*7\}\d{4}")
# Addresses that run code: after the spaces and control characters browsers skip.
_CODE_URL = re.compile(
    r"^[\x00-\x20]*(?:j\s*a\s*v\s*a\s*s\s*c\s*r\s*i\s*p\s*t|vbscript|data\s*:\s*text/html)\s*:?", re.I
)
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background", "srcdoc"}


class _Inspector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.texts: list[str] = []
        self._in_script: str | None = None

    def handle_starttag(self, tag, attrs):
        self._check_tag(tag, attrs)
        if tag == "script":
            kind = dict(attrs).get("type") or ""
            self._in_script = "data" if kind == "application/json" or dict(attrs).get("src") else "code"

    def handle_startendtag(self, tag, attrs):
        self._check_tag(tag, attrs)

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = None

    def handle_data(self, data):
        if self._in_script == "code" and MARKER.search(data):
            self.problems.append(f"a script runs our text: {data.strip()[:80]!r}")
        elif self._in_script == "data" and "<" in data and MARKER.search(data):
            self.problems.append(f"a JSON block holds a raw '<': {data.strip()[:80]!r}")
        elif self._in_script is None:
            self.texts.append(data)

    def _check_tag(self, tag, attrs):
        if MARKER.search(tag):
            self.problems.append(f"an element made of our text: <{tag}>")
        for name, value in attrs:
            value = value or ""
            where = f"<{tag} {name}={value[:60]!r}>"
            if MARKER.search(name) or name.startswith("on"):
                self.problems.append(f"an attribute made of our text: {where}")
            elif name in URL_ATTRIBUTES and _CODE_URL.match(value):
                self.problems.append(f"an address that runs code: {where}")
            elif name == "data-x":  # the attribute breaker's own element
                self.problems.append(f"an element made of our text: {where}")


def markup_problems(html: str) -> list[str]:
    """What of our payloads became markup (or evaluated) on this page; empty when all is text."""
    inspector = _Inspector()
    inspector.feed(html)
    inspector.close()
    problems = inspector.problems
    text = "".join(inspector.texts)
    if match := _EVALUATED.search(text):
        problems.append(f"a template expression was evaluated: {text[max(0, match.start() - 20) : match.end() + 20]!r}")
    return problems


def markers_shown(html: str) -> set[str]:
    """The markers the page shows (as text or in attribute values)."""
    return set(MARKER.findall(html))
