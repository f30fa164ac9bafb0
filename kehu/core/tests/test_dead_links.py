"""No dead links per role: from the dashboard, each demo role follows every link of this site it is
shown — in menus, buttons, lists and htmx attributes — and none answers 403, 404, 405 or 500; then
it sends every form it was shown (each in a transaction rolled back afterwards, so one form's
delete does not spoil the next) and none is refused with 403, 404 or 405. A link or a button a
role may not use must not be rendered for that role. (A deleted customer's page answers 410 with
what became of it: the audit log rightly links there.) Every page read also carries the
Content-Security-Policy and holds no code the policy would refuse: no inline script, no on…= handler."""

import re
from collections import Counter, deque
from html import unescape
from urllib.parse import urljoin, urlsplit

import pytest
from django.db import transaction
from django.test import Client

from kehu.core.tests.forms_found import route_of
from kehu.core.tests.whole_site import ON_SQLITE

# One of each role of the demo; the pages each may reach differ. PostgreSQL crawls as one role of each
# data scope (everything, a department tree, one's own): the other roles read the same queries with
# one of these scopes, and their pages are crawled on SQLite.
ROLES = ["admin", "gm", "manager1", "rep1", "service1", "marketing1"]
if not ON_SQLITE:
    ROLES = ["admin", "manager1", "rep1"]
LINK = re.compile(r"""(?:\shref|\shx-get)=["']([^"'#][^"']*)["']""")
FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S | re.I)
ATTRIBUTE = re.compile(r"""([\w-]+)=["']([^"']*)["']""")
INPUT = re.compile(r"<(?:input|button|select|textarea)\b([^>]*)>", re.I)
# Forms that change the browser's session rather than data: leaving them out keeps the crawl signed in.
SESSION_FORMS = ("/accounts/logout/", "/accounts/language/")
# Pages read (and their links collected) per kind of page; every link found is still followed. One of
# each: a second page of a route (the same view and template) adds links of the same routes.
PAGES_PER_ROUTE = 1
# What the policy refuses: a <script> without src that is not a JSON data block; an on…= handler.
SCRIPT = re.compile(r"<script\b([^>]*)>", re.I)
HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)

# Links that are not pages: a file to download, the API's own docs.
NOT_PAGES = ("/static/", "/api/v1/docs", "/api/v1/openapi.json")


def links_of(html: str, base: str) -> list[str]:
    found = []
    for raw in LINK.findall(html):
        url = urljoin(base, unescape(raw))
        parts = urlsplit(url)
        if parts.scheme not in ("http", "") or parts.netloc not in ("", "testserver"):
            continue  # mailto:, tel:, other sites
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if not path.startswith(NOT_PAGES):
            found.append(path)
    return found


def forms_of(html: str, base: str) -> list[tuple[str, dict[str, str]]]:
    """The POST forms of a page: their action and the values they would send untouched."""
    found = []
    for attributes, body in FORM.findall(html):
        attrs = dict(ATTRIBUTE.findall(attributes))
        if attrs.get("method", "get").lower() != "post":
            continue
        action = urlsplit(urljoin(base, unescape(attrs.get("action", "")) or base))
        if action.netloc not in ("", "testserver") or action.path.startswith(SESSION_FORMS):
            continue
        data = {}
        for field in INPUT.findall(body):
            field_attrs = dict(ATTRIBUTE.findall(field))
            if "name" in field_attrs:
                data[field_attrs["name"]] = unescape(field_attrs.get("value", ""))
        found.append((action.path + (f"?{action.query}" if action.query else ""), data))
    return found


def refused_code(response, html: str) -> list[str]:
    """What on this page the Content-Security-Policy would refuse, or the policy missing."""
    found = []
    if "script-src 'self'" not in response.get("Content-Security-Policy", ""):
        found.append("no Content-Security-Policy")
    for attributes in SCRIPT.findall(html):
        if "src=" not in attributes and 'type="application/json"' not in attributes:
            found.append(f"inline <script{attributes}>")
    found += [f"handler {h}…" for h in HANDLER.findall(html)]
    return found


def crawl(client: Client, start: str = "/"):
    """Every link reachable from `start`: its final status and a page that shows it; the forms shown;
    and what the browser policy would refuse on the pages read."""
    seen: dict[str, tuple[int, str]] = {}
    refused: dict[str, list[str]] = {}
    forms: dict[str, tuple[dict[str, str], str]] = {}
    read = Counter()
    queue = deque([(start, "(start)")])
    pages = 0
    while queue:
        path, shown_on = queue.popleft()
        if path in seen:
            continue
        response = client.get(path, follow=True)
        final = response.redirect_chain[-1][0] if response.redirect_chain else path
        seen[path] = (response.status_code, shown_on)
        content_type = response.get("Content-Type", "")
        route = route_of(final) or final  # an address no view answers counts as its own route
        if response.status_code != 200 or not content_type.startswith("text/html") or read[route] >= PAGES_PER_ROUTE:
            continue
        read[route] += 1
        pages += 1
        html = response.content.decode()
        if found := refused_code(response, html):
            refused[final] = found
        for link in links_of(html, final):
            if link not in seen:
                queue.append((link, path))
        for action, data in forms_of(html, final):
            forms.setdefault(action, (data, path))
    return seen, forms, pages, refused


def send_forms(client: Client, forms) -> dict[str, tuple[int, str]]:
    """Each form as shown, in a transaction that is rolled back: the status of each."""
    answers = {}
    for action, (data, shown_on) in forms.items():
        with transaction.atomic():
            response = client.post(action, data)
            transaction.set_rollback(True)
        answers[action] = (response.status_code, shown_on)
    return answers


@pytest.mark.django_db
@pytest.mark.parametrize("username", ROLES)
def test_no_dead_links_for_the_role(username, settings, whole_company):
    company = whole_company
    # The crawl follows every export link of a role (each list, report and vCard): the hourly export
    # limit (kehu.core.exports, tested on its own) would answer 429 to the eleventh.
    settings.KEHU_EXPORT_LIMIT_PER_HOUR = 10_000
    settings.KEHU_EXPORT_ROWS_PER_HOUR = 10_000_000
    client = Client(raise_request_exception=False)
    client.force_login(company.users[username])
    seen, forms, pages, refused = crawl(client)
    assert not refused, "\n".join(f"{path}: {found}" for path, found in refused.items())
    dead = {path: found for path, found in seen.items() if found[0] >= 400 and found[0] != 410}
    assert not dead, "\n".join(f"{status} {path}  (linked from {on})" for path, (status, on) in dead.items())
    assert pages >= 10, seen  # the crawl went past the dashboard
    answers = send_forms(client, forms)
    refused = {action: found for action, found in answers.items() if found[0] in (403, 404, 405) or found[0] >= 500}
    assert not refused, "\n".join(f"{status} POST {action}  (form on {on})" for action, (status, on) in refused.items())
    assert len(forms) >= 3, forms
