"""What the Schemathesis tests of the API share: the checks, and the cases some of them cannot judge.

The schema (kehu/api/schema.py) promises the error answers and bodies, the constraints and the links;
every check schemathesis has holds it to that, but for the exceptions below, each with its reason."""

import schemathesis
from schemathesis import checks as st

from config.wsgi import application

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

# Operations whose services refuse some schema-valid input with a 400 by rules no schema can state: they
# depend on the stored records (a state that does not allow the move, a person already on the team, a
# name a duplicate of another's). positive_data_acceptance cannot judge them: the 400 is right there.
STATE_RULES: set[str] = set()

# Checks that cannot judge an operation, and why (see above).
NOT_CHECKED: dict[str, set] = {label: {st.positive_data_acceptance} for label in STATE_RULES}


def checks_for(case, *, aimed: bool) -> list:
    """ALL_CHECKS, less those that cannot judge this case."""
    excluded = set(NOT_CHECKED.get(case.operation.label, ()))
    if aimed:
        # The case was pointed at real records (the deep runs' aim_at_real_records): what made a negative
        # case invalid may have been replaced by a valid value, so its acceptance proves nothing.
        excluded.add(st.negative_data_rejection)
    return [check for check in ALL_CHECKS if check not in excluded]


def load_schema():
    return schemathesis.openapi.from_wsgi(SCHEMA_URL, application)
