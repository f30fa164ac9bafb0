"""What the OpenAPI schema promises beyond what each router declares: the error answers every operation
can give (with the one shared error body) and links from a created record to its own operations.

Added here, once, when the schema is made, rather than in each of the routers' decorators: a router
declares only what is particular to an operation (a 409 with the duplicates found, a 429 of a limit)."""

import json
import re

import ninja.openapi.schema
from ninja import NinjaAPI
from ninja.parser import Parser
from ninja.schema import NinjaGenerateJsonSchema

from kehu.core.api import Error


class DigitsJsonSchema(NinjaGenerateJsonSchema):
    """A decimal states its digits (`max_digits`, `decimal_places`): as a string by a pattern, as a
    number by `multipleOf` and bounds. Without them "12.345" or 12.345 would be schema-valid and still
    refused for money of two places."""

    def decimal_schema(self, schema):
        found = super().decimal_schema(schema)
        places, digits = schema.get("decimal_places"), schema.get("max_digits")
        for branch in found.get("anyOf", []):  # the number a client may send instead of the string
            if branch.get("type") != "number":
                continue
            if places is not None:
                branch["multipleOf"] = float(f"1e-{places}") if places else 1
            if digits is not None:
                bound = float(10 ** (digits - (places or 0)))
                if branch.get("maximum", bound) >= bound and "exclusiveMaximum" not in branch:
                    branch.pop("maximum", None)
                    branch["exclusiveMaximum"] = bound
                if branch.get("minimum", -bound) <= -bound and "exclusiveMinimum" not in branch:
                    branch.pop("minimum", None)
                    branch["exclusiveMinimum"] = -bound
        return found

    def get_decimal_pattern(self, schema):
        # Pydantic's pattern, less its exponent form ("1.5E+3"): the digits of that are not checked by
        # the pattern, and plain decimals are what clients send and what the API answers.
        pattern = self.build_decimal_pattern(schema).replace(EXPONENT, "")
        ge, gt = schema.get("ge"), schema.get("gt")
        if (ge is not None and ge >= 0) or (gt is not None and gt >= 0):
            pattern = pattern.replace("^[+-]?", "^", 1)  # no sign where no negative number is taken
        if gt is not None and gt >= 0:
            pattern = "^(?![0.]*$)" + pattern[1:]  # and no zero where only more than zero is
        return pattern


EXPONENT = r"|(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE][+-]?[0-9]+"
# django-ninja makes every model's schema with the generator it imported; this one adds the patterns.
ninja.openapi.schema.NinjaGenerateJsonSchema = DigitsJsonSchema

ERROR_REF = {"$ref": "#/components/schemas/Error"}
DESCRIPTIONS = {
    400: "The input was refused by the rules of the records (field → messages in `errors`).",
    401: "No valid bearer token was sent.",
    403: "The user's role or data scope does not allow this.",
    404: "No such record, or not one the user may see.",
    409: "The record changed since the version sent, or its state does not allow this now.",
    422: "The request does not fit this schema (the findings listed in `errors`).",
    429: "Too many requests of this kind for now.",
}
# A write can meet a stale version (optimistic locking) or a record whose state does not allow it now
# ("an order that is confirmed cannot become a draft"): 409 (kehu.api.urls).
WRITES = {"post", "put", "patch", "delete"}
CREATED = (200, 201)


class ObjectBodyParser(Parser):
    """Every body of the API is a JSON object (or a list, or null for an optional one). A bare number or
    string is refused like a body that is no JSON (400): a schema whose fields all have defaults would
    read any value as an empty one (a change of nothing, "mark all read")."""

    def parse_body(self, request):
        data = super().parse_body(request)
        if data is not None and not isinstance(data, dict | list):
            raise ValueError("the body is no JSON object")
        return data


class KehuAPI(NinjaAPI):
    """NinjaAPI whose schema states the standard error answers and the links of created records."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("parser", ObjectBodyParser())
        super().__init__(*args, **kwargs)
        self._made: dict = {}

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        # Made once per process (a second or more: every model's schema and the walks below) and kept
        # as its JSON text (a fraction of the memory of the dicts); each caller gets its own copy, as the
        # endpoint answers it (status codes as strings).
        key = (path_prefix, tuple(sorted((path_params or {}).items())))
        if key not in self._made:
            made = self._make_openapi_schema(path_prefix=path_prefix, path_params=path_params)
            self._made[key] = json.dumps(made)
        return json.loads(self._made[key])

    def _make_openapi_schema(self, *, path_prefix, path_params):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        error_schema = Error.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(error_schema.pop("$defs", {}))
        components["Error"] = error_schema
        _times_as_patterns(components)
        for method, operation in _operations(schema):
            _add_errors(method, operation, components)
        _add_links(schema)
        return schema


# A time of day as the API reads and writes it ("08:30", "08:30:00"): JSON Schema's `time` format is
# RFC 3339's full-time, which needs an offset ("08:30:00Z") that a working hour does not have.
TIME_OF_DAY = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$"


def json_objects(node):
    """Every object of a JSON document, each before the ones inside it (so a caller may change it first)."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from json_objects(value)
    elif isinstance(node, list):
        for value in node:
            yield from json_objects(value)


def _times_as_patterns(document) -> None:
    for node in json_objects(document):
        if node.get("format") == "time" and node.get("type") == "string":
            del node["format"]
            node["pattern"] = TIME_OF_DAY


def _operations(schema):
    """(method, operation) of every operation."""
    for item in schema["paths"].values():
        yield from item.items()


def _body_properties(operation, components) -> dict:
    content = operation.get("requestBody", {}).get("content", {})
    properties = {}
    for media in content.values():
        top = media.get("schema", {})
        for found in top.get("anyOf", [top]):  # an optional body is anyOf its model and null
            if "$ref" in found:
                found = components.get(found["$ref"].rsplit("/", 1)[-1], {})
            properties.update(found.get("properties", {}))
    return properties


def standard_errors(method, operation, components) -> set[int]:
    """The error answers an operation can give whatever it does (see kehu.api.urls' handlers)."""
    codes = {422}  # any request can miss the schema (a malformed body, a wrong content type)
    if operation.get("security"):
        codes |= {401, 403}  # no token; a role without the permission, a record outside the scope
    params = operation.get("parameters", [])
    if operation.get("requestBody") or params:
        codes.add(400)  # the services' own rules (and the database's, as a safety net)
    names = [p["name"] for p in params] + list(_body_properties(operation, components))
    if any(p["in"] == "path" for p in params) or any(n.endswith(("_id", "_ids")) for n in names):
        codes.add(404)  # a record named by id (in the path, the query or the body) that the user cannot see
    if method in WRITES:
        codes.add(409)
    return codes


def _add_errors(method, operation, components) -> None:
    responses = operation["responses"]
    for code in sorted(standard_errors(method, operation, components) | {c for c in responses if c >= 400}):
        answer = responses.setdefault(code, {"description": DESCRIPTIONS[code]})
        media = answer.setdefault("content", {}).setdefault("application/json", {"schema": ERROR_REF})
        own = media.get("schema")
        if own != ERROR_REF and own is not None:
            # An operation's own error body (a 409 with the duplicates found) comes besides the shared one
            # of the same status that the handlers give (a stale version, a refused move).
            media["schema"] = {"anyOf": [own, ERROR_REF]}


def _add_links(schema) -> None:
    """A POST that creates a record (its answer has an `id`) links to the GET, PATCH, PUT and DELETE of
    `<same path>/{x_id}`: what a client (and the stateful conformance test) does next with it."""
    paths = schema["paths"]
    for path, item in paths.items():
        create = item.get("post")
        if create is None:
            continue
        base = path.rstrip("/")
        for target, target_item in paths.items():
            found = re.fullmatch(re.escape(base) + r"/\{(\w+_id)\}", target)
            if not found:
                continue
            for code in CREATED:
                answer = create["responses"].get(code)
                if answer is None or not _has_id(answer, schema):
                    continue
                links = answer.setdefault("links", {})
                for method, operation in target_item.items():
                    links[f"{method.capitalize()}{_name(operation)}"] = {
                        "operationId": operation["operationId"],
                        "parameters": {found.group(1): "$response.body#/id"},
                    }


def _has_id(answer, schema) -> bool:
    for media in answer.get("content", {}).values():
        ref = media.get("schema", {}).get("$ref", "")
        found = schema["components"]["schemas"].get(ref.rsplit("/", 1)[-1], {})
        if "id" in found.get("properties", {}):
            return True
    return False


def _name(operation) -> str:
    return "".join(part.capitalize() for part in operation["operationId"].split("_")[-2:])
