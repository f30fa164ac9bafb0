"""Hostile text (kehu/core/tests/payloads.py) in every parameter of every API operation, walked from
the OpenAPI schema: each text field of a body, each query parameter and each path segment that is no
id. No answer is a server error; text the API stores comes back byte for byte as it was sent (the API
stores text, it neither strips nor escapes it); and the pages that show a created record show it as
text only.

Every operation is sent by the administrator on the whole-site demo company, inside a transaction
rolled back afterwards, with the other fields of its body valid where the schema says how (ids of
records that exist, the first choice of a list, a date)."""

import json
import time
from datetime import date
from urllib.parse import quote, urlencode

import pytest
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from kehu.core.api import MULTI_LINE, ONE_LINE
from kehu.core.tests.payloads import MARKER, PAYLOADS, markers_shown, markup_problems, payload_for
from kehu.core.tests.tracebacks import own_frames
from kehu.core.tests.whole_site import API_IDS, Company

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="the API's text handling is the same on every database: the SQLite run covers it (CI time)",
)

# Where a record the API created is shown: its page, and the list it is in.
PAGES_OF = {
    "/api/v1/customers/": ["/customers/{id}/", "/customers/"],
    "/api/v1/contacts/": ["/customers/{customer_id}/"],
    "/api/v1/activities/": ["/customers/{customer_id}/"],
    "/api/v1/leads": ["/leads/{id}/", "/leads/"],
    "/api/v1/sales/opportunities": ["/sales/opportunities/{id}/", "/sales/"],
    "/api/v1/service/tickets": ["/service/tickets/{id}/", "/service/tickets/"],
}
# Codes the API normalises on purpose (a credit code is 18 capitals), not free text.
NORMALISED = {"credit_code"}
# Bodies that cannot be sent as JSON (a file upload).
SKIPPED = {"multipart/form-data"}


class Schema:
    def __init__(self, document: dict, ids: dict):
        self.components = document["components"]["schemas"]
        self.ids = ids

    def resolve(self, node: dict) -> dict:
        while True:
            if "$ref" in node:
                node = self.components[node["$ref"].rsplit("/", 1)[1]]
            elif "allOf" in node and len(node["allOf"]) == 1:
                node = {**node["allOf"][0], **{k: v for k, v in node.items() if k != "allOf"}}
            elif "anyOf" in node:
                node = next((n for n in node["anyOf"] if n.get("type") != "null"), node["anyOf"][0])
            else:
                return node

    def value(self, name: str, node: dict, texts: list):
        """A valid value for the field, or a payload for a free text field (remembered in `texts`)."""
        node = self.resolve(node)
        kind = node.get("type")
        if "enum" in node:
            return node["enum"][0]
        if kind == "object" or "properties" in node:
            return self.body(node, texts)
        if kind == "array":
            item = self.resolve(node.get("items", {}))
            if "enum" in item or item.get("type") == "integer" or name.endswith("ids"):
                return [self.value(name.removesuffix("s"), item, [])]
            return []
        if kind == "integer":
            return self.ids.get(API_IDS.get(name, ""), 1)
        if kind == "number":
            return 1
        if kind == "boolean":
            return False
        if kind == "string":
            fmt = node.get("format", "")
            if fmt == "date":
                return date.today().isoformat()
            if fmt == "date-time":
                return timezone.now().isoformat(timespec="seconds")
            if fmt == "email" or name == "email":
                return "payload@example.com"
            if fmt in ("uri", "url") or name in ("url", "website"):
                return "https://example.com/"
            if node.get("pattern") not in (None, ONE_LINE, MULTI_LINE):  # a code, not free text
                return node.get("default") or node.get("example") or "x"
            text = payload_for(len(texts) + self.offset, max_length=node.get("maxLength"), one_line=True)
            texts.append((name, text))
            return text
        return None

    def body(self, node: dict, texts: list) -> dict:
        node = self.resolve(node)
        return {name: self.value(name, prop, texts) for name, prop in node.get("properties", {}).items()}

    offset = 0


def _operations(document: dict):
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            if path.endswith(("/openapi.json", "/docs")):
                continue
            yield method, path, operation


def _path(path: str, parameters: list, ids: dict, texts: list, offset: int) -> str:
    for parameter in parameters:
        if parameter.get("in") != "path":
            continue
        name = parameter["name"]
        record = API_IDS.get(name)
        if record is not None:
            value = str(ids[record])
        else:
            value = payload_for(offset + len(texts), one_line=True)
            texts.append((name, value))
        path = path.replace("{" + name + "}", quote(value, safe=""))
    return path


def _compared(texts, body, path) -> list[tuple[str, str]]:
    """The payloads sent as a record's own text fields (a transition's fields are kept for some
    targets only; normalised codes are no free text)."""
    if not body or path.endswith("/transition"):
        return []
    return [(n, t) for n, t in texts if body.get(n) == t and n not in NORMALISED]


def _refused_fields(response) -> set[str]:
    """The fields a 400/409/422 answer names (the shared error body: a dict by field, or a list of locs)."""
    if not 400 <= response.status_code < 500 or not response.get("Content-Type", "").startswith("application/json"):
        return set()
    errors = response.json().get("errors")
    if isinstance(errors, dict):
        return set(errors)
    if isinstance(errors, list):
        return {str(e["loc"][-1]) for e in errors if isinstance(e, dict) and e.get("loc")}
    return set()


@pytest.mark.django_db
def test_hostile_text_through_every_api_parameter(settings, server_tracebacks):
    from kehu.api.urls import api
    from kehu.users.services import api_token_create

    settings.KEHU_EXPORT_LIMIT_PER_HOUR = 10_000
    company = Company()
    started = time.monotonic()
    document = api.get_openapi_schema()
    schema = Schema(document, company.ids)
    admin = company.users["admin"]
    _token, raw = api_token_create(user=admin, name="payloads")
    client = Client(raise_request_exception=False, headers={"Authorization": f"Bearer {raw}"})
    browser = Client(raise_request_exception=False)
    browser.force_login(admin)
    problems, sent, identical, pages, shown, created = [], 0, 0, 0, set(), set()
    for index, (method, path, operation) in enumerate(_operations(document)):
        texts: list[tuple[str, str]] = []
        schema.offset = index
        parameters = operation.get("parameters", [])
        url = _path(path, parameters, company.ids, texts, index)
        query = {}
        for parameter in parameters:
            if parameter.get("in") == "query":
                query[parameter["name"]] = payload_for(index + len(texts), one_line=True)
                texts.append((parameter["name"], query[parameter["name"]]))
        content = operation.get("requestBody", {}).get("content", {})
        if content.keys() & SKIPPED:
            continue
        body = schema.body(content["application/json"]["schema"], texts) if content else None
        with transaction.atomic():
            seen = len(server_tracebacks)
            target = url + ("?" + urlencode(query) if query else "")
            if body is None:
                response = getattr(client, method)(target)
            else:
                response = getattr(client, method)(target, json.dumps(body), content_type="application/json")
                refused = _refused_fields(response) & body.keys()
                if refused and response.status_code < 500:
                    # Once more without the fields refused (a phone, a code): the rest is stored.
                    body = {k: v for k, v in body.items() if k not in refused}
                    response = getattr(client, method)(target, json.dumps(body), content_type="application/json")
            sent += 1
            what = f"{method.upper()} {path}"
            if response.status_code >= 500:
                cause = own_frames(server_tracebacks[seen], last=3) if len(server_tracebacks) > seen else ""
                problems.append(f"{response.status_code} {what} {json.dumps(body, ensure_ascii=False)[:300]}\n{cause}")
            elif (
                response.status_code < 300
                and not response.streaming
                and response.content
                and response.get("Content-Type", "").startswith("application/json")
            ):
                answer = response.json()
                for name, text in _compared(texts, body, path):
                    # A field of the same name holding a payload is the text we sent (some answers are
                    # another record: a line's change answers with the whole quote and its own notes).
                    if isinstance(answer, dict) and isinstance(answer.get(name), str) and MARKER.search(answer[name]):
                        identical += answer[name] == text
                        if answer[name] != text:
                            problems.append(f"{what}: {name} came back {answer[name]!r}, sent {text!r}")
                if method == "post" and path in PAGES_OF and isinstance(answer, dict):
                    created.add(path)
                    for page in PAGES_OF[path]:
                        page_url = page.format(**{k: answer.get(k) or body.get(k) for k in ("id", "customer_id")})
                        html = browser.get(page_url).content.decode()
                        pages += 1
                        shown |= markers_shown(html) & {
                            MARKER.search(t)[0] for _n, t in _compared(texts, body, path) if MARKER.search(t)
                        }
                        problems += [f"GET {page_url} after {what}: {p}" for p in markup_problems(html)]
            transaction.set_rollback(True)
    print(f"\n{sent} operations, {identical} text fields came back identical, {pages} pages read,"
          f" {len(shown)} payload markers seen there ({sorted(created)}), {len(PAYLOADS)} payloads, {time.monotonic() - started:.1f}s")  # fmt: skip
    assert not problems, "\n\n".join(problems)
    assert sent > 300 and identical > 100
    # Customers, contacts, leads and deals were created with payloads and their pages show them as text.
    assert {"/api/v1/customers/", "/api/v1/contacts/", "/api/v1/leads", "/api/v1/sales/opportunities"} <= created
    assert len(shown) >= 5, shown
