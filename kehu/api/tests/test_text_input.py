"""Text the API takes: control characters, over-long values and non-http(s) addresses get a 4xx
that names the field, never a database error (PostgreSQL refuses NUL and over-long strings)."""

import json
import re
import typing

import pytest
from django.db import models
from pydantic import BaseModel, TypeAdapter, ValidationError

from kehu.activities.models import Activity
from kehu.api.urls import api
from kehu.core.api import FILLED_MULTI_LINE, FILLED_ONE_LINE, Text
from kehu.core.text import field_rule
from kehu.customers.models import Contact, Customer
from kehu.leads.models import Lead
from kehu.sales.models import Opportunity
from kehu.webhooks.models import WebhookSubscription

CUSTOMERS = "/api/v1/customers/"
CONTACTS = "/api/v1/contacts/"
ACTIVITIES = "/api/v1/activities/"
LEADS = "/api/v1/leads"
OPPORTUNITIES = "/api/v1/sales/opportunities"


def _routers():
    """(prefix, router) of every router of the API, those mounted inside others too."""
    found = []

    def walk(prefix, router):
        found.append((prefix, router))
        for child_prefix, child, *_tags in router._routers:
            walk(prefix + child_prefix, child)

    for prefix, router in api._routers:
        walk(prefix, router)
    return found


def _input_fields():
    """(operation, schema, field name, annotation) of every field the API reads from a request."""
    seen = set()
    for prefix, router in _routers():
        for path, view in router.path_operations.items():
            for operation in view.operations:
                for wrapper in operation.models:
                    for name, info in wrapper.model_fields.items():
                        inner = info.annotation
                        # `Schema | None` bodies: the schema's own fields.
                        inner = next((a for a in typing.get_args(inner) if a is not type(None)), inner)
                        if isinstance(inner, type) and issubclass(inner, BaseModel):
                            fields = [(inner, n, f) for n, f in inner.model_fields.items()]
                        else:
                            fields = [(wrapper, name, info)]
                        for schema, field_name, field_info in fields:
                            key = (schema, field_name)
                            if key not in seen:
                                seen.add(key)
                                label = f"{operation.methods[0]} {prefix}{path} {schema.__name__}.{field_name}"
                                yield label, (schema, field_name, field_info)


def _adapter(field):
    _schema, _name, field_info = field
    if not field_info.metadata:
        return TypeAdapter(field_info.annotation)
    return TypeAdapter(typing.Annotated[field_info.annotation, *field_info.metadata])


def _json_schema(field) -> str:
    schema, name, _info = field
    return json.dumps(schema.model_json_schema()["properties"][name])


def _max_length(field) -> int:
    return int(json.loads(_json_schema(field).split('"maxLength": ')[1].split(",")[0].split("}")[0]))


def _takes_text(adapter) -> bool:
    try:
        adapter.validate_python("ab")
    except ValidationError:
        return False
    return True


TEXT_FIELDS = [(label, info) for label, info in _input_fields() if _takes_text(_adapter(info))]


def test_the_api_reads_text_somewhere():
    assert len(TEXT_FIELDS) > 100


@pytest.mark.parametrize("label_info", TEXT_FIELDS, ids=[label for label, _i in TEXT_FIELDS])
def test_every_text_input_refuses_control_characters_and_states_a_length(label_info):
    _label, field = label_info
    adapter = _adapter(field)
    for bad in ("a\x00b", "a\x07b", "a\x85b", "a\ud800b"):
        with pytest.raises(ValidationError):
            adapter.validate_python(bad)
    # A length, or a pattern that bounds it (pipeline codes: ^[a-z0-9-]{1,40}$).
    assert '"maxLength"' in _json_schema(field) or '}$"' in _json_schema(field)


# Each body schema and the model its text fields land in: the API's limit never exceeds the
# column's (else PostgreSQL answers with an error), and multi-line only where the model is.
SCHEMA_MODELS = {
    "CustomerIn": Customer,
    "CustomerPatch": Customer,
    "ContactIn": Contact,
    "ContactPatch": Contact,
    "ActivityIn": Activity,
    "ActivityPatch": Activity,
    "VisitIn": Activity,
    "VisitLogIn": Activity,
    "LeadIn": Lead,
    "LeadPatch": Lead,
    "OpportunityIn": Opportunity,
    "OpportunityPatch": Opportunity,
    "SubscriptionIn": WebhookSubscription,
    "SubscriptionPatch": WebhookSubscription,
}


def _model_cases():
    for label, info in TEXT_FIELDS:
        schema, _dot, name = label.rsplit(" ", 1)[1].partition(".")
        model = SCHEMA_MODELS.get(schema)
        if model is None:
            continue
        try:
            field = model._meta.get_field(name)
        except Exception:  # noqa: BLE001 - a schema field without a column of that name
            continue
        if isinstance(field, (models.CharField, models.TextField)) and not field.choices:
            yield pytest.param(info, field, id=label)


MODEL_CASES = list(_model_cases())


def test_the_model_cases_cover_the_main_records():
    assert len(MODEL_CASES) > 60


@pytest.mark.parametrize(("info", "field"), MODEL_CASES)
def test_api_limits_fit_the_columns(info, field):
    adapter = _adapter(info)
    multiline, column_max = field_rule(field)
    schema_max = _max_length(info)
    assert schema_max <= column_max
    with pytest.raises(ValidationError):
        adapter.validate_python("x" * (schema_max + 1))
    line_break_ok = _takes_text_value(adapter, "a\nb")
    assert line_break_ok == multiline


def _takes_text_value(adapter, value) -> bool:
    try:
        adapter.validate_python(value)
    except ValidationError:
        return False
    return True


# ---- through HTTP, on whichever database the suite runs --------------------------------------


def _loc_fields(response):
    return {error["loc"][-1] for error in response.json()["errors"]}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "华星\x00精密"),
        ("name", "华星\x07精密"),
        ("name", "华星\n精密"),
        ("city", "苏州\x1b"),
        ("notes", "备注\x00"),
        ("phone", "0512\x7f"),
        ("name", "x" * 201),
        ("city", "x" * 51),
        ("notes", "x" * 10_001),
    ],
)
def test_customer_text_problems_are_422_naming_the_field(team, rep1_api, field, value):
    body = {"name": "苏州华星精密机械有限公司", field: value}
    response = rep1_api.post(CUSTOMERS, body)
    assert response.status_code == 422, response.content
    assert field in _loc_fields(response)
    message = " ".join(e["msg"] for e in response.json()["errors"])
    assert "U+" in message or "line" in message or "at most" in message
    assert not Customer.objects.exists()


def test_notes_keep_their_line_breaks(team, rep1_api):
    response = rep1_api.post(CUSTOMERS, {"name": "甲公司", "notes": "第一行\r\n第二行\t缩进"})
    assert response.status_code == 201, response.content
    assert Customer.objects.get().notes == "第一行\r\n第二行\t缩进"


def test_the_longest_values_the_api_accepts_are_stored(team, rep1_api):
    """Exactly at every limit: stored, on PostgreSQL too (varchar(n) and text)."""
    response = rep1_api.post(
        CUSTOMERS,
        {"name": "名" * 200, "city": "城" * 50, "address": "址" * 300, "phone": "1" * 40, "notes": "注" * 10_000},
    )
    assert response.status_code == 201, response.content
    customer = Customer.objects.get()
    assert (len(customer.name), len(customer.notes)) == (200, 10_000)


def test_a_lone_surrogate_in_json_is_422(team, client):
    from kehu.users.services import api_token_create

    _token, raw = api_token_create(user=team.rep1, name="t")
    response = client.post(
        CUSTOMERS,
        data='{"name": "\\ud800华星"}',
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert response.status_code == 422
    assert _loc_fields(response) == {"name"}


def test_patch_refuses_control_characters_and_changes_nothing(team, customer_of, rep1_api):
    customer = customer_of(team.rep1)
    response = rep1_api.patch(f"{CUSTOMERS}{customer.pk}", {"address": "人民路\x001号"})
    assert response.status_code == 422
    customer.refresh_from_db()
    assert (customer.address, customer.version) == ("", 1)


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (CONTACTS, {"name": "张伟\x00", "customer_id": None}, "name"),
        (CONTACTS, {"name": "张伟", "hobbies": "钓鱼\x07", "customer_id": None}, "hobbies"),
        (CONTACTS, {"name": "张伟", "position": "经理" * 51, "customer_id": None}, "position"),
        (ACTIVITIES, {"subject": "拜访\x00", "customer_id": None}, "subject"),
        (ACTIVITIES, {"subject": "拜访", "content": "x" * 10_001, "customer_id": None}, "content"),
        (LEADS, {"company_name": "甲公司\x00", "phone": "13800000000"}, "company_name"),
        (LEADS, {"company_name": "甲公司", "phone": "13800000000", "message": "询价\x1f"}, "message"),
        (OPPORTUNITIES, {"name": "项目\x00", "customer_id": None}, "name"),
        (OPPORTUNITIES, {"name": "项目", "products": "x" * 10_001, "customer_id": None}, "products"),
    ],
)
def test_other_records_refuse_text_problems_with_422(team, customer_of, rep1_api, path, body, field):
    if "customer_id" in body:
        body["customer_id"] = customer_of(team.rep1).pk
    response = rep1_api.post(path, body)
    assert response.status_code == 422, response.content
    assert field in _loc_fields(response)


def test_a_nul_in_a_search_is_422_not_a_database_error(team, rep1_api):
    assert rep1_api.get(CUSTOMERS + "?q=%00").status_code == 422
    assert rep1_api.get(LEADS + "?q=a%00b").status_code == 422


@pytest.mark.parametrize(
    "website",
    ["javascript:alert(1)", "data:text/html,<b>x</b>", "ftp://files.example.com", "our website", "JAVASCRIPT:x"],
)
def test_a_website_must_be_http_or_https(team, rep1_api, website):
    response = rep1_api.post(CUSTOMERS, {"name": "甲公司", "website": website})
    assert response.status_code == 400, response.content
    assert list(response.json()["errors"]) == ["website"]
    assert not Customer.objects.exists()


def test_a_bare_host_is_stored_as_a_web_address(team, rep1_api, customer_of):
    response = rep1_api.post(CUSTOMERS, {"name": "甲公司", "website": "www.jia.com.cn"})
    assert response.status_code == 201
    assert response.json()["website"] == "http://www.jia.com.cn"
    customer = Customer.objects.get()
    response = rep1_api.patch(f"{CUSTOMERS}{customer.pk}", {"website": "javascript:alert(1)"})
    assert response.status_code == 400 and list(response.json()["errors"]) == ["website"]


@pytest.mark.parametrize("url", ["javascript:alert(1)", "ftp://hooks.example.com/x", "hooks.example.com/x"])
def test_a_webhook_target_must_be_http_or_https(team, api_client, url):
    response = api_client(team.admin).post("/api/v1/webhooks/subscriptions", {"url": url, "events": ["lead.created"]})
    # The schema states the address (a pattern): refused before the service, the field named.
    assert response.status_code == 422, response.content
    assert [issue["loc"][-1] for issue in response.json()["errors"]] == ["url"]
    assert not WebhookSubscription.objects.exists()


BLANK_SAMPLES = ["", " ", "\u3000", "\u00a0\u2003", " \u3000 \u202f"]
FILLED_SAMPLES = ["甲", " 甲 ", "\u3000甲公司\u3000", "\ufeff", "a b"]


@pytest.mark.parametrize("value", BLANK_SAMPLES + FILLED_SAMPLES)
def test_the_not_blank_pattern_agrees_with_what_the_services_strip(value):
    """Names and subjects (Text(…, blank=False)): the schema's pattern, the API's check and the
    services' strip() call the same text blank."""
    filled = bool(value.strip())
    assert bool(re.fullmatch(FILLED_ONE_LINE, value)) is filled
    assert bool(re.fullmatch(FILLED_MULTI_LINE, value + "\n")) is filled
    accepted = True
    try:
        TypeAdapter(Text(10, blank=False)).validate_python(value)
    except ValidationError:
        accepted = False
    assert accepted is filled


def test_the_schema_asks_for_names_and_subjects_that_are_not_blank():
    components = api.get_openapi_schema()["components"]["schemas"]
    fields = {
        ("CustomerIn", "name"),
        ("ContactIn", "name"),
        ("ActivityIn", "subject"),
        ("OpportunityIn", "name"),
        ("TicketIn", "subject"),
    }
    for model, field in fields:
        assert components[model]["properties"][field]["pattern"] == FILLED_ONE_LINE, (model, field)
