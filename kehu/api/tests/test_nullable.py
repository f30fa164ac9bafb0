"""Nullable means nullable: every field of a change (PATCH) body that the schema allows to be null is
taken when it is null, alone, on a record that exists (it clears the value, or leaves it, as the field's
description says) — never refused with a 400 or 422. A field that may be left out but never cleared (a
name, a state) is stated as not nullable (kehu.core.api.Keep).

Sent by the administrator on the whole-site demo company, each request in a transaction rolled back."""

import json

import pytest
from django.db import connection, transaction
from django.test import Client

from kehu.api.tests.test_payloads import Schema
from kehu.core.tests.whole_site import API_IDS, Company
from kehu.customers.models import Customer
from kehu.customers.teams import team_member_add

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="what the schema states does not depend on the database: the SQLite run covers it (CI time)",
)


# Fields whose null is taken or refused by the record's other values (a rule the schema cannot state).
RULES_BEYOND_THE_SCHEMA = {
    ("/api/v1/activities/{activity_id}", "due_on"): "a commitment needs its due date; other activities may drop it",
    ("/api/v1/catalog/price-items/{item_id}", "price"): "a fixed price or a percentage of the list price",
    ("/api/v1/receivables/plans/{plan_id}", "due_on"): "a fixed due date, unless due on delivery or acceptance",
}


# Ids of the paths whose parameter names a record other than the sweep's usual one (API_IDS): the
# line of the order (not of a quote), a member of the customer's account team (added below).
PATH_IDS = {
    ("/api/v1/orders/{order_id}/lines/{line_id}", "line_id"): "order_line",
    ("/api/v1/customers/{customer_id}/team/{user_id}", "user_id"): "team_member",
}


def _nullable(node: dict) -> bool:
    return any(branch.get("type") == "null" for branch in node.get("anyOf", []))


@pytest.mark.django_db
def test_every_field_a_change_may_send_as_null_is_taken_as_null(settings):
    from kehu.api.urls import api
    from kehu.users.services import api_token_create

    company = Company()
    member = company.users["rep3"]
    team_member_add(
        customer=Customer.objects.get(pk=company.ids["customer"]),
        user=member,
        role="other",
        actor=company.users["admin"],
    )
    company.ids["team_member"] = member.pk
    document = api.get_openapi_schema()
    schema = Schema(document, company.ids)
    raw = api_token_create(user=company.users["admin"], name="nullable")[1]
    client = Client(raise_request_exception=False, headers={"Authorization": f"Bearer {raw}"})
    refused, unreached, taken, operations = [], [], 0, set()
    for path, methods in document["paths"].items():
        operation = methods.get("patch")
        if operation is None:
            continue
        url = path
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path":
                key = PATH_IDS.get((path, parameter["name"]), API_IDS[parameter["name"]])
                url = url.replace("{" + parameter["name"] + "}", str(company.ids[key]))
        body = schema.resolve(operation["requestBody"]["content"]["application/json"]["schema"])
        # A versioned record's change carries the version it was read at (kehu.core.api: 409 if stale).
        version = client.get(url).json().get("version") if "version" in body.get("required", []) else None
        for name, field in body.get("properties", {}).items():
            if not _nullable(field) or (path, name) in RULES_BEYOND_THE_SCHEMA:
                continue
            sent = {name: None} if version is None else {name: None, "version": version}
            with transaction.atomic():
                response = client.patch(url, json.dumps(sent), content_type="application/json")
                transaction.set_rollback(True)
            if response.status_code in (400, 422):
                refused.append(f"PATCH {path} {{{name!r}: null}} → {response.status_code} {response.content[:160]!r}")
            elif 200 <= response.status_code < 300:
                taken += 1
                operations.add(path)
            elif response.status_code == 404:
                unreached.append(f"PATCH {url} {{{name!r}: null}}")
    assert not refused, f"{len(refused)} field(s) the schema calls nullable refused null:\n" + "\n".join(refused)
    assert not unreached, "no such record (the sweep's ids):\n" + "\n".join(unreached)
    # The administrator reached the changes of the records (not only 403/404/409 answers).
    assert taken > 100 and len(operations) > 15, (taken, sorted(operations))
