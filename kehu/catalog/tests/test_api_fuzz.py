"""Schemathesis over the catalog's API as a catalog manager (the whole-API run acts as a rep and a
sales manager, who may only read here): whatever is sent to the write operations, the answers are
judged by the same checks as the whole-API deep runs (kehu/api/tests/test_schemathesis.py): never a 5xx,
invalid input refused, valid input accepted, answers that fit the schema."""

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import Failure, FailureGroup

from kehu.api.tests.conformance import checks_without_text_patterns
from kehu.api.tests.test_schemathesis import (
    AREA_EXAMPLES,
    aim_at_real_records,
    make_records,
    operations_of,
    run_generated,
)
from kehu.core.tests.tracebacks import own_frames

EXAMPLES = AREA_EXAMPLES["catalog"]


@pytest.mark.django_db(transaction=True)
def test_catalog_operations_give_a_manager_conforming_answers(team, server_tracebacks):
    from kehu.users.services import api_token_create

    user = team.admin
    make_records(team, "catalog", user)
    _token, raw = api_token_create(user=user, name="schemathesis")
    failures: dict[tuple[str, str], tuple[str, str]] = {}

    def run(operation, mode):
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode), real=st.sampled_from([True, True, False]))
        def check(case, real):
            if real:
                aim_at_real_records(case, make_records(team, "catalog", user), "admin")
            seen = len(server_tracebacks)
            try:
                case.call_and_validate(
                    headers={"Authorization": f"Bearer {raw}"}, checks=checks_without_text_patterns(case, aimed=real)
                )
            except (Failure, FailureGroup) as exc:
                cause = own_frames(server_tracebacks[seen]) if len(server_tracebacks) > seen else str(exc)
                request = f"{case.method} {case.formatted_path} query={case.query!r} body={case.body!r}"
                failures.setdefault((operation.label, cause.splitlines()[-1]), (request, cause))

        run_generated(check, mode, operation)

    for operation in operations_of("catalog"):
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            run(operation, mode)

    assert not failures, "\n\n".join(
        f"{label}: {error}\n  {req}\n{cause}" for (label, error), (req, cause) in failures.items()
    )
    assert not server_tracebacks, server_tracebacks[0]
