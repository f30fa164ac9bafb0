"""The POST forms a signed-in person is shown, read with html.parser, and filled in: every text field
with a payload, every other field as the page itself would send it (its value, its selected option),
a required field the page leaves empty with a valid value of its kind.

`reach(client)` walks the site from the dashboard like the dead-link crawl does, but reads one page of
each route only (a route seen once is not fetched again), and never a download (PDF, export, feed)."""

from collections import deque
from dataclasses import dataclass, field
from datetime import date
from html import unescape
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from django.urls import Resolver404, resolve

from kehu.core.tests.payloads import payload_for

TEXT_TYPES = {"text", "search", ""}
# What a required field of another kind gets when the page leaves it empty.
VALID = {
    "email": "kehu-payload@example.com",
    "url": "https://example.com/",
    "tel": "13800000000",
    "number": "1",
    "date": date.today().isoformat(),
    "datetime-local": f"{date.today().isoformat()}T10:00",
    "time": "10:00",
    "month": date.today().strftime("%Y-%m"),
    "week": date.today().strftime("%G-W%V"),
    "password": "Kehu-Payload-2026!",
    "color": "#206bc4",
}
# Forms that change the browser's session rather than data, and pages that are files or slow documents.
SESSION_FORMS = ("/accounts/logout/", "/accounts/language/")
NOT_PAGES = ("/static/", "/api/", "/media/")
FILE_ROUTES = ("pdf", "export", "docx", "vcard", "feed", "download", "file", "photo", "attachment", "signature")


@dataclass
class Field:
    name: str
    kind: str  # input type, "textarea" or "select"
    value: str = ""
    options: list[str] = field(default_factory=list)
    checked: bool = False
    required: bool = False
    max_length: int | None = None
    disabled: bool = False

    @property
    def is_text(self) -> bool:
        return self.kind == "textarea" or self.kind in TEXT_TYPES


@dataclass
class Form:
    action: str
    fields: list[Field]
    submit: tuple[str, str] | None = None

    @property
    def text_fields(self) -> list[Field]:
        return [f for f in self.fields if f.is_text and not f.disabled and f.name != "csrfmiddlewaretoken"]

    def data(self, *, payload_from: int | None = None, keep: frozenset[str] = frozenset()) -> dict:
        """What the form sends: the page's own values, text fields with payloads (from the
        payload_from-th on) unless their name is in `keep`."""
        data: dict[str, list[str]] = {}
        text_index = 0
        for f in self.fields:
            if f.disabled:
                continue
            if f.kind in ("checkbox", "radio"):
                if f.checked:
                    data.setdefault(f.name, []).append(f.value or "on")
                continue
            if f.kind == "select":
                value = f.value if f.value else next((o for o in f.options if o), "")
            elif f.is_text and payload_from is not None and f.name not in keep and f.name != "csrfmiddlewaretoken":
                value = payload_for(payload_from + text_index, max_length=f.max_length, one_line=f.kind != "textarea")
                text_index += 1
            else:
                value = f.value
                if not value and f.required:
                    value = VALID.get(f.kind, "1")
            data.setdefault(f.name, []).append(value)
        # A required radio group with nothing checked: its first choice.
        for f in self.fields:
            if f.kind == "radio" and f.required and f.name not in data:
                data[f.name] = [f.value]
        if self.submit:
            data.setdefault(self.submit[0], []).append(self.submit[1])
        return {k: v if len(v) > 1 else v[0] for k, v in data.items()}


class _FormReader(HTMLParser):
    def __init__(self, base: str):
        super().__init__(convert_charrefs=True)
        self.base = base
        self.forms: list[Form] = []
        self.invalid: set[str] = set()
        self._form: Form | None = None
        self._textarea: Field | None = None
        self._select: Field | None = None
        self._option: str | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if "is-invalid" in a.get("class", "").split() and a.get("name"):
            self.invalid.add(a["name"])
        if tag == "form":
            if a.get("method", "get").lower() == "post":
                action = urljoin(self.base, a.get("action") or self.base)
                self._form = Form(action, [])
            return
        if self._form is None or tag not in ("input", "textarea", "select", "option", "button"):
            return
        name = a.get("name")
        common = {
            "required": "required" in a,
            "disabled": "disabled" in a,
            "max_length": int(a["maxlength"]) if a.get("maxlength", "").isdigit() else None,
        }
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind in ("submit", "image", "button", "reset"):
                if self._form.submit is None and kind == "submit":
                    self._form.submit = (name, a.get("value", ""))
                return
            if kind == "file":
                return
            self._form.fields.append(Field(name, kind, a.get("value", ""), checked="checked" in a, **common))
        elif tag == "textarea" and name:
            self._textarea = Field(name, "textarea", **common)
            self._form.fields.append(self._textarea)
        elif tag == "select" and name:
            self._select = Field(name, "select", **common)
            self._form.fields.append(self._select)
        elif tag == "option" and self._select is not None:
            self._option = a.get("value")
            if self._option is not None:
                self._select.options.append(self._option)
                if "selected" in a and not self._select.value:
                    self._select.value = self._option
        elif tag == "button" and name and a.get("type", "submit") == "submit" and self._form.submit is None:
            self._form.submit = (name, a.get("value", ""))

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea.value += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None
        elif tag == "option":
            self._option = None
        elif tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None


def read_forms(html: str, base: str) -> tuple[list[Form], set[str]]:
    """The page's POST forms to this site, and the names of the fields it marks invalid."""
    reader = _FormReader(base)
    reader.feed(html)
    reader.close()
    forms = []
    for form in reader.forms:
        parts = urlsplit(form.action)
        if parts.netloc not in ("", "testserver") or parts.path.startswith(SESSION_FORMS):
            continue
        form.action = parts.path + (f"?{parts.query}" if parts.query else "")
        forms.append(form)
    return forms, reader.invalid


def route_of(path: str) -> str:
    try:
        return resolve(urlsplit(path).path).view_name
    except Resolver404:
        return ""


class _Links(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "hx-get") and value and not value.startswith("#"):
                self.found.append(unescape(value))


def reach(client, start: str = "/", fetched: set[str] | None = None) -> dict[str, tuple[Form, str]]:
    """Every POST form found on one page of each route the person reaches: action → (form, page).
    Routes in `fetched` (read for someone else before) are passed over; those read are added."""
    forms: dict[str, tuple[Form, str]] = {}
    fetched = set() if fetched is None else fetched
    queue = deque([start])
    first = True
    while queue:
        path = queue.popleft()
        route = route_of(path)
        # The start page is read for everyone (once): the links each person is shown start there.
        if not first and (not route or route in fetched or any(word in route for word in FILE_ROUTES)):
            continue
        first = False
        fetched.add(route)
        response = client.get(path, follow=True)
        if response.status_code != 200 or not response.get("Content-Type", "").startswith("text/html"):
            continue
        final = response.redirect_chain[-1][0] if response.redirect_chain else path
        html = response.content.decode()
        links = _Links()
        links.feed(html)
        for raw in links.found:
            parts = urlsplit(urljoin(final, raw))
            if parts.scheme in ("http", "") and parts.netloc in ("", "testserver"):
                if not parts.path.startswith(NOT_PAGES):
                    queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
        for form in read_forms(html, final)[0]:
            forms.setdefault(form.action, (form, final))
    return forms
