"""Schemathesis with every check over every operation, as every role and as nobody.

The deep runs (test_schemathesis.py) are rep1's and manager1's, on records made for them. Here each of
the other roles (the team fixture's users, and one user for each role it has none of) sends a few cases
to every operation: what its permissions and data scope answer (200, 403, 404, …) must be what the
schema promises. Without a token every operation but the public ones answers 401 with the error body.
"""

from collections import Counter

import pytest
from django.db import connection
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import Failure, FailureGroup

from kehu.api.tests.conformance import checks_for, load_schema
from kehu.users.roles import Role

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="what the schema promises each role does not depend on the database: the SQLite run covers it (CI time)",
)

# The team fixture's users of the roles the deep runs do not use, and finance (a user made here). The
# other roles' permission sets are tested by the permission matrix; each role here costs a few seconds.
FIXTURE_USERS = {Role.GENERAL_MANAGER: "gm", Role.ADMINISTRATOR: "admin", Role.SERVICE_MANAGER: "service1"}
FIXTURE_USERS[Role.MARKETING] = "marketing1"
ROLES = [*FIXTURE_USERS, Role.FINANCE]
ERROR_KEYS = {"detail", "errors"}
_cases: list = []


def cases() -> list:
    """One valid case of every operation, drawn once (drawing is most of the time) and sent as each role."""
    if not _cases:
        for result in load_schema().get_all_operations():
            # One draw each: all in one draw would overrun the data Hypothesis gives one example.
            @settings(
                max_examples=1,
                deadline=None,
                derandomize=True,
                database=None,
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=result.ok().as_strategy(generation_mode=GenerationMode.POSITIVE))
            def draw(case):
                _cases.append(case)

            draw()
    return _cases


def user_of(team, role):
    from kehu.users.models import User

    if role in FIXTURE_USERS:
        return getattr(team, FIXTURE_USERS[role])
    return User.objects.create_user(username=f"st-{role.value}", role=role, department=team.hq)


def send(headers, revoked=None) -> tuple[dict, dict]:
    """Every case with these headers (`revoked` for the one that revokes the token): the statuses by
    operation, the failures of the checks."""
    seen, failures = {}, {}
    for case in cases():
        label = case.operation.label
        sent = revoked if revoked and label == "DELETE /api/v1/auth/token" else headers
        try:
            response = case.call_and_validate(headers=sent, checks=checks_for(case, aimed=False))
        except (Failure, FailureGroup) as exc:
            for failure in exc.exceptions if isinstance(exc, FailureGroup) else [exc]:
                request = f"{case.method} {case.formatted_path} query={case.query!r} body={case.body!r}"
                failures.setdefault((label, failure.title), f"{request}\n{failure.message}")
        else:
            seen.setdefault(label, Counter())[response.status_code] += 1
    return seen, failures


def report(failures, who):
    return f"{len(failures)} distinct failure(s) as {who}:\n\n" + "\n\n".join(
        f"{label}: {title}\n  {detail}" for (label, title), detail in failures.items()
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("role", ROLES, ids=[role.value for role in ROLES])
def test_every_role_gets_what_the_schema_promises(team, role, server_tracebacks):
    from kehu.users.services import api_token_create

    user = user_of(team, role)
    token = api_token_create(user=user, name="schemathesis")[1]
    throwaway = api_token_create(user=user, name="revoked")[1]  # the other cases' token stays valid
    seen, failures = send({"Authorization": f"Bearer {token}"}, {"Authorization": f"Bearer {throwaway}"})
    assert not failures, report(failures, role.value)
    assert not server_tracebacks, server_tracebacks[0]
    assert len(seen) == len(cases())


@pytest.mark.django_db
def test_without_a_token_every_operation_but_the_public_ones_answers_401(client):
    answers, failures = send({})
    assert not failures, report(failures, "nobody")
    public = {case.operation.label for case in cases() if not case.operation.definition.raw.get("security")}
    assert public == {"POST /api/v1/auth/token"}
    assert {label: set(s) for label, s in answers.items() if label not in public} == {
        label: {401} for label in answers if label not in public
    }
    # The body is the shared error body (the checks validated it against the schema's Error).
    response = client.get("/api/v1/customers/")
    assert response.status_code == 401 and set(response.json()) <= ERROR_KEYS and response.json()["detail"]
