"""/api/v1/transfer: the import flow, exports, and 4xx (never 500) whatever is sent."""

import pytest
from django.test import TestCase

from kehu.core.models import AuditEntry
from kehu.customers.models import Customer
from kehu.integrations.models import ImportJob, ImportStatus

from .conftest import csv_bytes, fixture_file, preview_import

pytestmark = pytest.mark.django_db

BASE = "/api/v1/transfer"
DATA = csv_bytes([["客户名称", "联系人", "手机"], ["杭州华星精密机械有限公司", "王建国", "13857112345"], ["", "", ""]])


def _upload(client, user, name, data):
    from kehu.users.services import api_token_create

    _token, raw = api_token_create(user=user, name="upload")
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        f"{BASE}/imports", {"file": SimpleUploadedFile(name, data)}, headers={"Authorization": f"Bearer {raw}"}
    )


def test_the_import_flow_through_the_api(client, api_client, team, customer_of):
    customer_of(team.rep1, "宁波东港化工有限公司")
    api = api_client(team.rep1)
    response = _upload(
        client,
        team.rep1,
        "cards.csv",
        csv_bytes([["公司", "联系人", "手机"], ["宁波东港化工", "陈", "1"], ["杭州华星", "王", ""]]),
    )
    assert response.status_code == 201, response.text
    job = response.json()
    assert job["status"] == "mapping" and job["headers"] == ["公司", "联系人", "手机"]
    assert job["mapping"] == {"0": "name", "1": "contact_name", "2": "contact_mobile"}

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.put(
            f"{BASE}/imports/{job['id']}/mapping",
            data={"mapping": {"0": "name", "1": "contact_name"}},
            content_type="application/json",
            headers=api.headers,
        )
    assert response.status_code == 202, response.text
    status = api.get(f"{BASE}/imports/{job['id']}").json()
    assert status["status"] == "preview" and status["report"] == {
        "rows": 2,
        "errors": 0,
        "warnings": 0,
        "duplicates": 1,
        "not_records": {},
    }
    rows = api.get(f"{BASE}/imports/{job['id']}/rows?show=duplicates").json()
    assert [r["number"] for r in rows["items"]] == [2] and rows["items"][0]["matches"][0]["reasons"] == ["name"]
    choices = api.post(f"{BASE}/imports/{job['id']}/choices", {"rows": {"2": "update"}})
    assert choices.status_code == 200 and choices.json()["counts"] == {"create": 1, "update": 1, "skip": 0}
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = api.post(f"{BASE}/imports/{job['id']}/run")
    assert response.status_code == 202
    done = api.get(f"{BASE}/imports/{job['id']}").json()
    assert done["status"] == "done" and done["percent"] == 100
    assert (done["report"]["created"], done["report"]["updated"]) == (1, 1)
    assert [j["id"] for j in api.get(f"{BASE}/imports").json()] == [job["id"]]


def test_bad_input_answers_4xx_with_a_useful_body(client, api_client, team):
    api = api_client(team.rep1)
    bad = _upload(client, team.rep1, "x.xls", b"\xd0\xcf\x11\xe0" + b"0" * 50)
    assert bad.status_code == 400 and "damaged or not an Excel" in bad.json()["errors"]["file"][0]
    assert _upload(client, team.rep1, "empty.csv", b"").status_code == 400
    no_file = client.post(f"{BASE}/imports", {}, headers=api.headers)
    assert no_file.status_code == 422
    job = _upload(client, team.rep1, "a.csv", DATA).json()
    for body in ({"mapping": {"0": "nonsense"}}, {"mapping": {"x": "name"}}, {"mapping": {}}):
        response = client.put(
            f"{BASE}/imports/{job['id']}/mapping", data=body, content_type="application/json", headers=api.headers
        )
        assert response.status_code == 400, (body, response.text)
        assert response.json()["errors"]["mapping"]
    assert client.put(
        f"{BASE}/imports/{job['id']}/mapping", data="{", content_type="application/json", headers=api.headers
    ).status_code in (400, 422)
    # Steps out of order: the preview is not there yet (the job's state refuses them: a 409).
    early = api.post(f"{BASE}/imports/{job['id']}/run")
    assert early.status_code == 409
    assert early.json() == {
        "detail": "The import's state is “Map the columns”: that step is not possible now.",
        "errors": {},
    }
    assert api.post(f"{BASE}/imports/{job['id']}/choices", {"rows": {"2": "create"}}).status_code == 409
    assert api.post(f"{BASE}/imports/{job['id']}/choices", {"rows": {"2": "explode"}}).status_code == 422
    assert api.get(f"{BASE}/imports/999999").status_code == 404
    assert api.get(f"{BASE}/imports/{job['id']}/rows?limit=100000").status_code == 422


def test_choices_for_unknown_rows_or_rows_with_errors_are_refused(api_client, team):
    job = preview_import(team.rep1, "a.csv", csv_bytes([["客户名称", "生日"], ["甲", "明年"], ["乙", ""]]))
    api = api_client(team.rep1)
    response = api.post(f"{BASE}/imports/{job.pk}/choices", {"rows": {"2": "create", "99": "skip", "x": "skip"}})
    assert response.status_code == 400
    assert len(response.json()["errors"]["rows"]) == 3


@pytest.mark.parametrize("who", ["anonymous", "other_rep", "manager"])
def test_others_get_401_or_404_and_change_nothing(client, api_client, team, who):
    job = preview_import(team.rep1, "a.csv", DATA)
    api = {"anonymous": api_client(), "other_rep": api_client(team.rep2), "manager": api_client(team.manager1)}[who]
    expected = 401 if who == "anonymous" else 404
    assert api.get(f"{BASE}/imports/{job.pk}").status_code == expected
    assert api.get(f"{BASE}/imports/{job.pk}/rows").status_code == expected
    assert api.post(f"{BASE}/imports/{job.pk}/choices", {"rows": {"2": "skip"}}).status_code == expected
    assert api.get(f"{BASE}/imports/{job.pk}/head").status_code == expected
    assert api.put(f"{BASE}/imports/{job.pk}/layout", {"header_row": 2}).status_code == expected
    assert api.put(f"{BASE}/imports/{job.pk}/values", {"values": {"tier": {"x": ""}}}).status_code == expected
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert api.post(f"{BASE}/imports/{job.pk}/run").status_code == expected
    assert api.delete(f"{BASE}/imports/{job.pk}").status_code == expected
    job.refresh_from_db()
    assert job.status == ImportStatus.PREVIEW and not Customer.objects.exists()
    if who != "anonymous":
        assert api.get(f"{BASE}/imports").json() == []


def test_roles_without_the_permission_get_403(client, api_client, team):
    api = api_client(team.service1)
    assert api.get(f"{BASE}/imports").status_code == 403
    assert api.get(f"{BASE}/fields").status_code == 403
    assert _upload(client, team.service1, "a.csv", DATA).status_code == 403
    assert api.get(f"{BASE}/exports/customers").status_code == 403
    assert not ImportJob.objects.exists() and not AuditEntry.objects.filter(action="export").exists()


def test_fields_list_owner_only_for_assigners(api_client, team):
    rep_fields = {f["name"] for f in api_client(team.rep1).get(f"{BASE}/fields").json()}
    manager_fields = {f["name"] for f in api_client(team.manager1).get(f"{BASE}/fields").json()}
    assert "owner" not in rep_fields and manager_fields - rep_fields == {"owner"}


def test_vcard_import_through_the_api(client, api_client, team):
    response = _upload(client, team.rep1, "iphone.vcf", fixture_file("iphone-3.0.vcf"))
    assert response.status_code == 201 and response.json()["format"] == "vcard"
    assert response.json()["total_rows"] == 2


def test_a_company_template_through_the_api(client, api_client, team):
    from . import corpus

    api = api_client(team.rep1)
    response = _upload(client, team.rep1, "华东区客户名录.xlsx", corpus.template_xlsx())
    assert response.status_code == 201, response.text
    job = response.json()
    assert (job["sheet"], job["header_row"], job["header_depth"]) == (corpus.SHEET, 5, 2)
    assert job["headers"] == corpus.HEADERS and job["sheets"][2] == {"name": "旧数据", "hidden": True, "rows": 2}
    head = api.get(f"{BASE}/imports/{job['id']}/head").json()
    assert head["rows"][0] == {"number": 1, "cells": [corpus.TITLE]} and head["rows"][4]["cells"][1] == "客户名称"

    # Another sheet, then back with the header found again.
    other = api.put(f"{BASE}/imports/{job['id']}/layout", {"sheet": "旧数据"})
    assert other.status_code == 200 and other.json()["headers"] == ["客户名称", "联系人", "电话"]
    bad = api.put(f"{BASE}/imports/{job['id']}/layout", {"sheet": "Sheet3"})
    assert bad.status_code == 400 and "empty" in bad.json()["errors"]["header_row"][0]
    assert api.put(f"{BASE}/imports/{job['id']}/layout", {"header_row": 99}).status_code == 422
    back = api.put(f"{BASE}/imports/{job['id']}/layout", {"sheet": corpus.SHEET}).json()
    assert back["header_row"] == 5 and back["mapping"]["5"] == "contact_mobile"

    industry = next(f for f in api.get(f"{BASE}/fields").json() if f["name"] == "industry")
    assert {"value": "machinery", "label": "Machinery & equipment"} in industry["choices"]
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = api.put(f"{BASE}/imports/{job['id']}/mapping", {"mapping": back["mapping"]})
    assert response.status_code == 202 and response.json()["status"] == "previewing"
    job = api.get(f"{BASE}/imports/{job['id']}").json()
    assert job["status"] == "values" and [i["value"] for i in job["unmatched"]["industry"]] == ["机械", "汽配"]
    refused = api.put(f"{BASE}/imports/{job['id']}/values", {"values": {"industry": {"机械": "steel"}}})
    assert refused.status_code == 400 and refused.json()["errors"]["values"]
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = api.put(
            f"{BASE}/imports/{job['id']}/values",
            {"values": {"industry": {"机械": "machinery", "汽配": "automotive"}, "source": {"阿里巴巴": "internet"}}},
        )
    assert response.status_code == 202
    job = api.get(f"{BASE}/imports/{job['id']}").json()
    assert job["status"] == "preview" and job["report"]["not_records"] == corpus.NOT_RECORDS
    skipped = api.get(f"{BASE}/imports/{job['id']}/rows?show=not_records").json()["items"]
    assert [(r["number"], r["skip_reason"]) for r in skipped] == [
        (10, "header"),
        (13, "total"),
        (14, "total"),
        (15, "note"),
        (16, "note"),
    ]
    warned = api.get(f"{BASE}/imports/{job['id']}/rows?show=warnings").json()["items"]
    assert [r["number"] for r in warned] == [9] and "1688" in warned[0]["warnings"]["source"][0]
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert api.post(f"{BASE}/imports/{job['id']}/run").status_code == 202
    done = api.get(f"{BASE}/imports/{job['id']}").json()
    assert done["status"] == "done" and done["report"]["created"] == 4
    assert Customer.objects.get(name="无锡恒力汽车零部件有限公司").industry == "automotive"


def test_a_running_import_is_not_deleted(api_client, team):
    job = ImportJob.objects.create(created_by=team.rep1, file_name="a.csv", format="csv", status=ImportStatus.RUNNING)
    response = api_client(team.rep1).delete(f"{BASE}/imports/{job.pk}")
    assert response.status_code == 409
    assert response.json() == {"detail": "This import is still working; wait until it has finished.", "errors": {}}
    assert ImportJob.objects.filter(pk=job.pk).exists()
