"""What the Schemathesis tests of the API share: the checks, and the cases some of them cannot judge.

The schema (kehu/api/schema.py) promises the error answers and bodies, the constraints and the links;
every check schemathesis has holds it to that, but for the exceptions below, each with its reason."""

import re

import schemathesis
from schemathesis import checks as st

from config.wsgi import application
from kehu.api.schema import json_objects
from kehu.core.api import MULTI_LINE, ONE_LINE

SCHEMA_URL = "/api/v1/openapi.json"
# Every check schemathesis has but `max_response_time` (a speed limit, not a promise of the schema; the
# load of a shared CI machine would decide it) and `object_level_authorization` (it needs the records of
# two users named in its configuration; the data scopes have their own tests, kehu/api/tests/test_scope.py).
# `use_after_free` and `ensure_resource_availability` compare with the responses before: they act in the
# stateful run (test_schemathesis_stateful.py) and pass over single cases.
ALL_CHECKS = [
    st.not_a_server_error,
    st.status_code_conformance,
    st.content_type_conformance,
    st.response_headers_conformance,
    st.response_schema_conformance,
    st.negative_data_rejection,
    st.positive_data_acceptance,
    st.use_after_free,
    st.ensure_resource_availability,
    st.ignored_auth,
    st.missing_required_header,
    st.unsupported_method,
    st.allow_header_conformance,
]

# Operations whose services refuse some schema-valid input with a 400 by rules the schema does not state,
# so positive_data_acceptance cannot judge them: the 400 is the right answer there. Found by these tests;
# each with its rule. (A rule between fields could become an `anyOf` of required properties in the
# schema: the ones marked "either" are candidates.)
RULES_BEYOND_THE_SCHEMA = {
    "POST /api/v1/customers/": "latitude and longitude both or neither; a credit code's check digit",
    "PATCH /api/v1/customers/{customer_id}": "as creating: both coordinates, the check digit",
    "POST /api/v1/customers/{customer_id}/team": "an active person not on the team yet",
    "POST /api/v1/activities/": "a commitment has a due date",
    "PATCH /api/v1/activities/{activity_id}": "as creating: a commitment's due date",
    "POST /api/v1/service/knowledge/articles": "a title in Chinese or in English, a text with its title",
    "PUT /api/v1/service/hours": "a day starts before it ends, lunch lies within it",
    "PUT /api/v1/leads/settings": "the working day starts before it ends",
    "POST /api/v1/receivables/plans": "either an order or a contract",
    "POST /api/v1/leads": "either a phone or an e-mail address",
    "POST /api/v1/invoices": "a customer, an order or a contract",
    "POST /api/v1/quotes": "either a customer or an opportunity",
    "POST /api/v1/orders": "either a customer, or a quote or a contract of one",
    "POST /api/v1/contracts": "a customer, an opportunity or an accepted quote",
    "POST /api/v1/pool/handovers": "someone the user may hand customers to",
    "POST /api/v1/catalog/price-lists": "a channel list names its channel level",
    "POST /api/v1/catalog/price-lists/{price_list_id}/items": "either a product or a specification",
    "POST /api/v1/catalog/products": "a product code (and its specifications' codes) not used yet",
    "PATCH /api/v1/catalog/products/{product_id}": "as creating: a code not used yet",
    "POST /api/v1/catalog/products/{product_id}/specifications": "a specification code not used yet",
    "PATCH /api/v1/catalog/specifications/{specification_id}": "as creating: a code not used yet",
    "POST /api/v1/transfer/imports": "the file is a CSV or Excel workbook (its bytes, not its name)",
    "POST /api/v1/approvals/delegations": "an active delegate other than the user; a year at most, no overlap",
    "GET /api/v1/classification/time-report": "a period of three years at most that starts on or before its end (today when not given)",
}

# Checks that cannot judge an operation, and why (see above).
NOT_CHECKED: dict[str, set] = {label: {st.positive_data_acceptance} for label in RULES_BEYOND_THE_SCHEMA}


def names_records(case) -> bool:
    """Whether the case's body names records by id (`customer_id`, `source_ids`, …)."""
    body = case.body if isinstance(case.body, dict) else {}
    return any(name.endswith(("_id", "_ids")) and value not in (None, []) for name, value in body.items())


def checks_for(case, *, aimed: bool) -> list:
    """ALL_CHECKS, less those that cannot judge this case."""
    excluded = set(NOT_CHECKED.get(case.operation.label, ()))
    if not aimed and names_records(case):
        # A generated id names no record the user may use, and a record named in a body that is not
        # there is a field error (400, kehu.api.urls), so a valid case is refused rightly.
        excluded.add(st.positive_data_acceptance)
    if aimed:
        # The case was pointed at real records (the deep runs' aim_at_real_records): what made a negative
        # case invalid may have been replaced by a valid value, so its acceptance proves nothing.
        excluded.add(st.negative_data_rejection)
    return [check for check in ALL_CHECKS if check not in excluded]


_ONE_LINE = re.compile(ONE_LINE)


def checks_without_text_patterns(case, *, aimed: bool) -> list:
    """The checks that can judge a case generated from the schema without its text patterns: a "valid"
    case whose text holds a character the patterns refuse (a control character, a line break) is rightly
    refused, so its acceptance is asked for only when all its text would fit any field."""
    checks = checks_for(case, aimed=aimed)
    if all(_ONE_LINE.fullmatch(text) for text in _texts(case)):
        return checks
    return [check for check in checks if check is not st.positive_data_acceptance]


def _texts(case):
    """Every string a case sends: path and query values, and the body's, at any depth (keys too)."""
    stack = [case.path_parameters, case.query, case.body]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)


def load_schema(*, text_patterns: bool = True):
    """The API's schema as Schemathesis reads it from the application. Without `text_patterns`, the
    character patterns of the text fields are left out: text fitting them is the slow part of
    generation (it more than doubled the deep runs), which may then send any text (a control character
    is a 422; see checks_without_text_patterns)."""
    if text_patterns:
        return schemathesis.openapi.from_wsgi(SCHEMA_URL, application)
    from kehu.api.urls import api

    document = api.get_openapi_schema()
    _drop_text_patterns(document)
    schema = schemathesis.openapi.from_dict(document)
    schema.app, schema.location = application, SCHEMA_URL
    return schema


def _drop_text_patterns(document) -> None:
    for node in json_objects(document):
        if node.get("pattern") in (ONE_LINE, MULTI_LINE):
            del node["pattern"]
