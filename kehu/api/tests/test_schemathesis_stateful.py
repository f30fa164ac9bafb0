"""Schemathesis' state machine over the links of the schema: create a record, then read, change and
delete it through the links the create operation's answer gives (kehu/api/schema.py adds them), with
every check. `use_after_free` (a deleted record must not be read again) and
`ensure_resource_availability` (a created record must be there to read) judge these sequences.

Run as rep1, who may create every one of the main records; the ids in bodies are aimed at rep1's own
customer and contact (a random id is a 404, which says nothing about the created record)."""

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, settings
from schemathesis import checks as st

from kehu.api.tests.conformance import checks_for, load_schema

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="the links and answers the schema promises do not depend on the database: the SQLite run covers it (CI time)",
)

MAIN = r"customers/|contacts/|activities/|leads|sales/opportunities|quotes|orders|service/tickets|service/complaints"
# The create operations and the operations on the created record, nothing else (time).
RESOURCES = rf"^/api/v1/({MAIN})(/?\{{\w+_id\}})?$"
AIMED = ("customer_id", "contact_id")


@pytest.mark.django_db
def test_the_main_resources_have_links_from_create_to_read_change_and_delete():
    import re

    schema = load_schema().raw_schema
    linked = {
        path
        for path, item in schema["paths"].items()
        if re.match(RESOURCES, path) and "post" in item
        for answer in item["post"]["responses"].values()
        if answer.get("links")
    }
    assert {p.removeprefix("/api/v1/").rstrip("/") for p in linked} == {
        "customers",
        "contacts",
        "activities",
        "leads",
        "sales/opportunities",
        "quotes",
        "orders",
        "service/tickets",
        "service/complaints",
    }


@pytest.mark.django_db
def test_created_records_answer_as_the_schema_says_until_deleted(team, server_tracebacks, company_gives_credit):
    from kehu.customers.services import contact_create, customer_create
    from kehu.users.services import api_token_create

    rep1 = team.rep1
    customer = customer_create(actor=rep1, owner=rep1, name="状态机测试客户有限公司")
    contact = contact_create(actor=rep1, customer=customer, name="李雷")
    ids = {"customer_id": customer.pk, "contact_id": contact.pk}
    headers = {"Authorization": f"Bearer {api_token_create(user=rep1, name='stateful')[1]}"}
    seen = []

    class Workflow(load_schema().include(path_regex=RESOURCES).as_state_machine()):
        def setup(self):
            # Each scenario starts from the same records and its writes are rolled back at its end: what
            # hypothesis draws from the answers (ids, which links apply) is then the same whenever it runs
            # a scenario again, as it does to shrink one that failed.
            self.scenario = transaction.atomic()
            self.scenario.__enter__()

        def teardown(self):
            transaction.set_rollback(True)
            self.scenario.__exit__(None, None, None)
            super().teardown()

        def before_call(self, case):
            if isinstance(case.body, dict):
                for name in AIMED:
                    if isinstance(case.body.get(name), int) and case.body[name] != ids[name]:
                        case.body[name] = ids[name]

        def get_call_kwargs(self, case):
            return {"headers": headers}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            seen.append((case.operation.label, response.status_code))
            # Aimed: the run's Authorization header is sent whatever the case's headers were, so a case
            # made invalid by a missing header reaches the server valid.
            checks = checks_for(case, aimed=True)
            body = case.body if isinstance(case.body, dict) else {}
            if any(n.endswith(("_id", "_ids")) and v not in (None, []) and n not in AIMED for n, v in body.items()):
                # A generated id of another kind names no record: a 400 field error, rightly (conformance.py).
                checks = [check for check in checks if check is not st.positive_data_acceptance]
            case.validate_response(response, checks=checks, headers=headers, transport_kwargs=kwargs)

    # Which scenarios a run draws depends on the answers (a refused create leaves nothing to follow), so
    # a run that followed no link is followed by a longer one; every run is judged by every check.
    for examples, steps in ((12, 4), (20, 5), (30, 6)):
        Workflow.run(
            settings=settings(
                max_examples=examples,
                stateful_step_count=steps,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
        )
        if _created(seen) and _followed(seen):
            break
    assert not server_tracebacks, server_tracebacks[0]
    # The run followed links: some record was created and then used through its own operations.
    assert _created(seen) and _followed(seen), seen


def _created(seen) -> set[str]:
    return {label for label, status in seen if label.startswith("POST") and status == 201}


def _followed(seen) -> set[str]:
    return {label for label, status in seen if "{" in label and 200 <= status < 300}
