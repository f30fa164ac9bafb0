"""Which refusals are a 409: a stale version, or a record whose state does not allow the write now
(the services' ValidationError with code "transition" or "in_use", kehu.api.urls.STATE_CODES); a
refusal of the values sent stays a 400."""

import json

from django.core.exceptions import ValidationError

from kehu.api.urls import _refused_by_state, api


def test_a_refusal_by_the_records_state_is_told_apart_from_one_by_the_values():
    assert _refused_by_state(ValidationError("An order that is draft cannot become completed.", code="transition"))
    assert _refused_by_state(ValidationError("“阀门” still holds products.", code="in_use"))
    assert not _refused_by_state(ValidationError("Add at least one line before confirming the order."))
    assert not _refused_by_state(ValidationError({"to": ["Unknown state."]}, code="transition"))
    mixed = ValidationError([ValidationError("x", code="transition"), ValidationError("y", code="invalid")])
    assert not _refused_by_state(mixed)


def test_every_write_states_its_409_and_a_read_only_its_own():
    """A write may conflict; a read only where its router says so with its own answer (an export's
    download before the file is ready)."""
    for path, item in api.get_openapi_schema()["paths"].items():
        for method, operation in item.items():
            answer = json.dumps(operation["responses"].get("409", {}))
            if method in ("post", "put", "patch", "delete"):
                assert "#/components/schemas/Error" in answer, (method, path)
            elif answer != "{}":
                assert '"anyOf"' in answer, (method, path)  # its own body, besides the shared one
