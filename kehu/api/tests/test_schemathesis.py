"""Schemathesis over every operation of the API's own OpenAPI schema: whatever it sends, never a 5xx.

Requests go through the real WSGI application (config.wsgi.application) with a real bearer token, in a
transactional pytest-django test. Two examples in three are aimed at records that exist and that the user
may see, so the write paths (PATCH, DELETE, POST under a parent) run, not only the 404s.
"""

import time
import traceback
from collections import Counter
from datetime import date

import pytest
import schemathesis
from django.core.signals import got_request_exception
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import Failure, FailureGroup, not_a_server_error

from config.wsgi import application

MAX_EXAMPLES = 30
# 60 s for the first 19 operations; the budget grows with the schema, not per app by hand.
TIME_BUDGET_SECONDS_PER_OPERATION = 60 / 19
PASSWORD = "kehu-test-pw"
SCHEMA_URL = "/api/v1/openapi.json"

# RFC 3339 date-times that lean towards the edges of the calendar and of the offsets.
OFFSETS = st.sampled_from(["Z", "+00:00", "+08:00", "-05:30", "+14:00", "-14:00", "+23:59", "-23:59"])
DATES = st.one_of(
    st.sampled_from([date.min, date.max, date(1900, 1, 1), date(1970, 1, 1), date(2038, 1, 19)]), st.dates()
)
DATE_TIMES = st.one_of(
    st.sampled_from(["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "1970-01-01T00:00:00Z"]),
    st.builds(lambda d, t, offset: f"{d.isoformat()}T{t.isoformat()}{offset}", DATES, st.times(), OFFSETS),
)


@pytest.fixture
def edgy_date_times():
    from schemathesis.specs.openapi.formats import unregister_string_format

    schemathesis.openapi.format("date-time", DATE_TIMES)
    yield
    unregister_string_format("date-time")


@pytest.fixture
def server_tracebacks():
    """The traceback of every exception Django turned into a 500 while the test ran."""
    found = []

    def record(sender, request=None, **kwargs):
        found.append(traceback.format_exc())

    got_request_exception.connect(record, weak=False)
    yield found
    got_request_exception.disconnect(record)


def short_cause(formatted_traceback: str) -> str:
    """The project's own frames of a traceback, and the exception."""
    lines = formatted_traceback.rstrip().splitlines()
    keep = [
        f"{line.strip()} :: {lines[i + 1].strip()}"
        for i, line in enumerate(lines[:-1])
        if line.strip().startswith('File "') and "/kehu/" in line
    ]
    return "\n".join([*keep, lines[-1]])


def make_transfer_jobs(user) -> dict[str, int]:
    """An import of `user` waiting in its preview (one staged row) and a finished export with its file."""
    from kehu.integrations import storage
    from kehu.integrations.models import ExportJob, ImportJob, ImportRow

    job = ImportJob.objects.create(
        created_by=user, file_name="a.csv", format="csv", status="preview", headers=["客户名称"], total_rows=1
    )
    ImportRow.objects.create(job=job, number=2, values={"customer": {"name": "新客户"}, "contact": {}, "owner": ""})
    relative, path = storage.new_path("exports", ".csv")
    path.write_bytes("\ufeff客户名称\n".encode())
    export = ExportJob.objects.create(created_by=user, format="csv", status="done", stored_path=relative)
    return {"job_id": job.pk, "export_id": export.pk}


def make_records(team, user=None) -> dict[str, int]:
    """A fresh customer of rep1 with a contact and an open commitment, an import and an export of
    `user`; their ids by path parameter name."""
    from kehu.activities.services import activity_log
    from kehu.customers.services import contact_create, customer_create

    rep1 = team.rep1
    customer = customer_create(actor=rep1, owner=rep1, name="苏州华星精密机械有限公司", phone="051268881234")
    contact = contact_create(customer=customer, actor=rep1, name="张伟", mobile="13912345678")
    activity = activity_log(
        customer=customer, actor=rep1, subject="寄样品", kind="commitment", due_on="2030-01-01", contact=contact
    )
    duplicate = customer_create(actor=rep1, owner=rep1, name="苏州华星精密机械股份有限公司")
    twin = contact_create(customer=customer, actor=rep1, name="张 伟")
    return {
        "customer_id": customer.pk,
        "contact_id": contact.pk,
        "activity_id": activity.pk,
        "merge_source_id": duplicate.pk,
        "contact_merge_source_id": twin.pk,
        **make_transfer_jobs(user or rep1),
    }


def aim_at_real_records(case, ids: dict[str, int], username: str) -> None:
    """Point the generated ids (and credentials) at things that exist, keeping the rest of the case."""
    for name in list(case.path_parameters or {}):
        if name in ids:
            case.path_parameters[name] = ids[name]
    if isinstance(case.query, dict) and isinstance(case.query.get("customer_id"), int):
        case.query["customer_id"] = ids["customer_id"]
    if isinstance(case.body, dict):
        for name in ("customer_id", "contact_id"):
            if isinstance(case.body.get(name), int):
                case.body[name] = ids[name]
        if isinstance(case.body.get("source_ids"), list) and case.body["source_ids"]:
            source = "contact_merge_source_id" if "/contacts/" in case.operation.path else "merge_source_id"
            case.body["source_ids"] = [ids[source]]
        if case.operation.path.endswith("/auth/token") and "username" in case.body:
            case.body.update(username=username, password=PASSWORD)
        if case.operation.path.endswith("/mapping") and isinstance(case.body.get("mapping"), dict):
            case.body["mapping"] = {"0": "name"}
        if case.operation.path.endswith("/transfer/imports") and "file" in case.body:
            case.body["file"] = "客户名称,联系人\n苏州华星,张伟\n".encode("gbk")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("username", ["rep1", "manager1"])
def test_no_operation_answers_with_a_server_error(team, username, server_tracebacks, edgy_date_times):
    from kehu.users.services import api_token_create

    user = getattr(team, username)
    make_records(team)
    _token, raw = api_token_create(user=user, name="schemathesis")

    def headers_for(case):
        if case.method.upper() == "DELETE" and case.operation.path.endswith("/auth/token"):
            # Revoking must not saw off the branch the rest of the run sits on: use a throwaway token.
            return {"Authorization": f"Bearer {api_token_create(user=user, name='throwaway')[1]}"}
        return {"Authorization": f"Bearer {raw}"}

    schema = schemathesis.openapi.from_wsgi(SCHEMA_URL, application)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 33, [op.label for op in operations]

    failures: dict[tuple[str, str], tuple[str, str]] = {}
    statuses: dict[str, Counter] = {op.label: Counter() for op in operations}

    def run(operation, mode):
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode), real=st.sampled_from([True, True, False]))
        def check(case, real):
            if real:
                aim_at_real_records(case, make_records(team, user), username)
            headers = headers_for(case)
            seen = len(server_tracebacks)
            try:
                response = case.call_and_validate(headers=headers, checks=[not_a_server_error])
            except (Failure, FailureGroup):
                cause = short_cause(server_tracebacks[seen]) if len(server_tracebacks) > seen else "(no traceback)"
                request = f"{case.method} {case.formatted_path} query={case.query!r} body={case.body!r}"
                key = (operation.label, cause.splitlines()[-1])
                if key not in failures or len(request) < len(failures[key][0]):
                    failures[key] = (request, cause)
            else:
                statuses[operation.label][response.status_code] += 1

        check()

    started = time.monotonic()
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            run(operation, mode)
    elapsed = time.monotonic() - started

    assert not failures, f"{len(failures)} distinct server error(s) as {username}:\n\n" + "\n\n".join(
        f"{label}: {error}\n  shortest input: {request}\n  where:\n{cause}"
        for (label, error), (request, cause) in failures.items()
    )
    assert not server_tracebacks, server_tracebacks[0]
    # The run reached the code behind every operation, not only the 401/404/422 answers
    # (exports only for those who may export: a sales rep may not).
    may_export = user.has_perm("customers.export_customer")
    assert all(
        any(200 <= code < 300 for code in seen) or ("/export" in label or "vcard" in label) and not may_export
        for label, seen in statuses.items()
    ), statuses
    budget = TIME_BUDGET_SECONDS_PER_OPERATION * len(operations)
    assert elapsed < budget, f"the schemathesis run took {elapsed:.0f} s (budget {budget:.0f} s)"
