"""Exports: the list's filters and scope, masking, audit, big exports as a task, vCards."""

import csv
import io

import pytest
from django.test import TestCase
from django.urls import reverse

from kehu.core.models import AuditEntry
from kehu.customers.services import contact_create
from kehu.integrations.models import ExportJob, ExportStatus

from .conftest import run_import

pytestmark = pytest.mark.django_db


def _csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert body.startswith(b"\xef\xbb\xbf")  # Excel needs the BOM to read UTF-8 Chinese
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


@pytest.fixture
def book(team, customer_of):
    huaxing = customer_of(team.rep1, "杭州华星精密机械有限公司", region="浙江", phone="0571-88123456", tier="key")
    contact_create(customer=huaxing, actor=team.rep1, name="王建国", mobile="13857112345", is_primary=True)
    jincheng = customer_of(team.rep2, "苏州锦程电子科技有限公司", region="江苏", phone="0512-65871234")
    nanfang = customer_of(team.rep3, "广州南方物流有限公司", region="广东")
    return huaxing, jincheng, nanfang


def test_csv_export_follows_the_filters_and_audits(client, team, book):
    client.force_login(team.manager1)
    response = client.get(reverse("integrations:export-customers") + "?format=csv&region=浙江")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = _csv(response)
    assert rows[0][:3] == ["Customer name", "Kind (company or person)", "Segment"]
    assert [r[0] for r in rows[1:]] == ["杭州华星精密机械有限公司"]
    row = dict(zip(rows[0], rows[1], strict=True))
    assert (row["Tier"], row["Company phone"], row["Owner (user name)"]) == ("Key", "0571-88123456", "rep1")
    assert (row["Contact name"], row["Contact mobile"]) == ("王建国", "13857112345")
    audit = AuditEntry.objects.get(action="export")
    assert audit.actor == team.manager1 and audit.changes == {
        "kind": "customers",
        "format": "csv",
        "rows": 1,
        "filters": {"region": "浙江"},
    }


def test_search_term_and_scope(client, team, book):
    client.force_login(team.manager1)
    rows = _csv(client.get(reverse("integrations:export-customers") + "?q=锦程"))
    assert [r[0] for r in rows[1:]] == ["苏州锦程电子科技有限公司"]
    everything = _csv(client.get(reverse("integrations:export-customers")))
    assert sorted(r[0] for r in everything[1:]) == [
        "杭州华星精密机械有限公司",
        "苏州锦程电子科技有限公司",
    ]  # not 华南's


def test_masking_for_those_who_may_not_see_phones(client, team, book):
    # A rep exports only their own customers, unmasked; the executive sponsor role sees all.
    from kehu.users.models import User
    from kehu.users.roles import Role

    client.force_login(team.rep1)
    assert client.get(reverse("integrations:export-customers")).status_code == 403  # reps may not export
    viewer = User.objects.create_user("viewer", role=Role.CRM_SPECIALIST, department=team.hq)
    # A CRM specialist sees every customer but not phones; give them the export right to see the masking.
    from unittest import mock

    real = User.has_perm

    def has_perm(self, perm, obj=None):
        return perm == "customers.export_customer" or real(self, perm, obj)

    with mock.patch.object(User, "has_perm", has_perm):
        client.force_login(viewer)
        rows = _csv(client.get(reverse("integrations:export-customers") + "?q=华星"))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Company phone"] == "057****3456" and row["Contact mobile"] == "138****2345"


def test_xlsx_export_opens_with_openpyxl(client, team, book):
    from openpyxl import load_workbook

    client.force_login(team.gm)
    response = client.get(reverse("integrations:export-customers") + "?format=xlsx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "Customer name" and len(values) == 4
    assert {v[0] for v in values[1:]} == {
        "杭州华星精密机械有限公司",
        "苏州锦程电子科技有限公司",
        "广州南方物流有限公司",
    }


def test_an_exported_file_imports_again_with_its_own_headers(client, team, book):
    client.force_login(team.gm)
    body = client.get(reverse("integrations:export-customers") + "?q=华星").content
    job = run_import(team.gm, "again.csv", body)
    assert job.mapping["0"] == "name" and "owner" in job.mapping.values()
    assert job.report["duplicates"] == 1


def test_a_large_export_runs_as_a_task_with_a_download(client, team, book, settings):
    settings.KEHU_EXPORT_SYNC_ROWS = 2
    client.force_login(team.manager1)
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.get(reverse("integrations:export-customers") + "?format=csv")
    job = ExportJob.objects.get()
    assert response.status_code == 302 and response.url == reverse("integrations:export-detail", args=[job.pk])
    assert job.status == ExportStatus.DONE and job.row_count == 2
    page = client.get(response.url)
    assert reverse("integrations:export-download", args=[job.pk]) in page.text
    rows = _csv(client.get(reverse("integrations:export-download", args=[job.pk])))
    assert len(rows) == 3
    assert AuditEntry.objects.get(action="export").changes["job"] == job.pk
    client.force_login(team.manager2)
    assert client.get(reverse("integrations:export-download", args=[job.pk])).status_code == 404
    assert client.get(reverse("integrations:export-detail", args=[job.pk])).status_code == 404


def test_vcards_of_a_contact_and_of_a_customer(client, team, book):
    import vobject

    huaxing, _jincheng, _nanfang = book
    contact_create(customer=huaxing, actor=team.rep1, name="欧阳娜", position="技术总监", email="oy@example.cn")
    wang = huaxing.contacts.get(name="王建国")
    client.force_login(team.manager1)
    response = client.get(reverse("integrations:contact-vcard", args=[wang.pk]))
    assert response["Content-Type"] == "text/vcard; charset=utf-8"
    card = vobject.readOne(response.content.decode())
    assert card.version.value == "3.0" and card.fn.value == "王建国"
    assert (card.n.value.family, card.n.value.given) == ("王", "建国") and card.org.value == [
        "杭州华星精密机械有限公司"
    ]
    assert card.tel.value == "13857112345"
    cards = list(
        vobject.readComponents(client.get(reverse("integrations:customer-vcards", args=[huaxing.pk])).content.decode())
    )
    assert sorted(c.fn.value for c in cards) == ["欧阳娜", "王建国"]
    assert next(c for c in cards if c.fn.value == "欧阳娜").n.value.family == "欧阳"
    assert AuditEntry.objects.filter(action="export", target_type="customers.contact").count() == 2


def test_vcard_scope_and_permission(client, team, book):
    huaxing, _jincheng, _nanfang = book
    wang = huaxing.contacts.get()
    client.force_login(team.manager2)  # another team: not in scope
    assert client.get(reverse("integrations:contact-vcard", args=[wang.pk])).status_code == 404
    assert client.get(reverse("integrations:customer-vcards", args=[huaxing.pk])).status_code == 404
    client.force_login(team.rep1)  # the owner, but reps may not export
    assert client.get(reverse("integrations:contact-vcard", args=[wang.pk])).status_code == 403
    client.logout()
    assert client.get(reverse("integrations:contact-vcard", args=[wang.pk])).status_code == 302
    assert not AuditEntry.objects.filter(action="export").exists()


def test_api_exports(api_client, team, book, settings):
    api = api_client(team.manager1)
    response = api.get("/api/v1/transfer/exports/customers?format=csv&tier=key")
    assert response.status_code == 200
    assert [r[0] for r in _csv(response)[1:]] == ["杭州华星精密机械有限公司"]
    settings.KEHU_EXPORT_SYNC_ROWS = 1
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = api.get("/api/v1/transfer/exports/customers?format=xlsx")
    assert response.status_code == 202
    job = response.json()
    status = api.get(f"/api/v1/transfer/exports/{job['id']}").json()
    assert status["status"] == "done" and status["download"]
    assert api.get(status["download"]).status_code == 200
    assert api_client(team.manager2).get(status["download"]).status_code == 404
    assert api.get("/api/v1/transfer/exports/customers?format=pdf").status_code == 422
    wang = book[0].contacts.get()
    assert api.get(f"/api/v1/transfer/contacts/{wang.pk}/vcard").status_code == 200
    assert api_client(team.manager2).get(f"/api/v1/transfer/contacts/{wang.pk}/vcard").status_code == 404


def test_export_buttons_on_the_customer_list(client, team, book):
    client.force_login(team.manager1)
    page = client.get(reverse("customers:customer-list") + "?region=浙江")
    assert reverse("integrations:export-customers") + "?region=%E6%B5%99%E6%B1%9F&amp;format=xlsx" in page.text
    client.force_login(team.rep1)
    assert reverse("integrations:export-customers") not in client.get(reverse("customers:customer-list")).text


def test_chinese_export_headers_map_back_to_their_fields():
    from django.utils import translation

    from kehu.integrations.exports import COLUMNS, header_row
    from kehu.integrations.fields import guess_mapping

    for language in ("zh-hans", "en"):
        with translation.override(language):
            headers = header_row()
        assert guess_mapping(headers) == {str(i): name for i, name in enumerate(COLUMNS)}, language
    with translation.override("zh-hans"):
        assert header_row()[:2] == ["客户名称", "客户性质（公司或个人）"]


def test_a_contacts_vcard_reads_back_whole_through_our_reader(client, team, customer_of):
    from kehu.customers.points import Point
    from kehu.integrations.vcard import VCardFile

    customer = customer_of(team.rep1, "上海国际贸易有限公司驻杭州办事处（浙江省杭州市西湖区文三路 90 号东部软件园）")
    points = [
        Point("phone", "mobile", "138 5711 2345"),
        Point("phone", "mobile", "139 0571 6688", "iPhone"),
        Point("phone", "work", "0571-8812 3456", "总机, 转 8"),
        Point("phone", "home", "0571-8765 4321"),
        Point("phone", "fax", "0571-8812 3499"),
        Point("phone", "other", "400-800-1234", "售后"),
        Point("email", "work", "wangjg@hzhuaxing.example.cn"),
        Point("email", "home", "wang+jg@163.example.com"),
        Point("email", "other", "jg.wang@icloud.example.com", "iCloud"),
        Point("im", "wechat", "wangjg_hz"),
        Point("im", "qq", "12345678"),
        Point("im", "skype", "wang.jg"),
        Point("im", "other", "+8613857112345", "Viber"),
    ]
    wang = contact_create(
        customer=customer,
        actor=team.rep1,
        name="王建国",
        position="采购部经理, 华东",
        department="采购部; 设备科\\备件",
        birthday_month=12,
        birthday_day=24,
        address="文一西路 100 号, 3 幢; 东门",
        phones=[p for p in points if p.medium == "phone"],
        emails=[p for p in points if p.medium == "email"],
        handles=[p for p in points if p.medium == "im"],
    )
    client.force_login(team.manager1)
    data = client.get(reverse("integrations:contact-vcard", args=[wang.pk])).content
    lines = data.split(b"\r\n")
    assert all(len(line) <= 75 for line in lines)
    for line in lines:
        line.decode("utf-8")  # folded between characters, never inside one
    assert any(line.startswith(b" ") for line in lines)
    (card,) = VCardFile(data).cards()
    assert (card.name, card.org, card.department, card.title) == (
        "王建国",
        customer.name,
        "采购部; 设备科\\备件",
        "采购部经理, 华东",
    )
    read = [(p.kind, p.number, p.label) for p in card.phones]
    read += [(e.kind, e.address, e.label) for e in card.emails]
    read += [(h.service, h.handle, h.label) for h in card.handles]
    assert read == [(p.kind, p.value, p.label) for p in points]
    assert (card.birthday_month, card.birthday_day) == (12, 24)
    assert [(a.kind, a.street) for a in card.addresses] == [("home", "文一西路 100 号, 3 幢; 东门")]
    assert card.warnings == ["The birthday has no year: it was kept as month and day (12-24)."]


def test_a_vcard_for_someone_outside_the_account_team_holds_no_private_values(team, customer_of):
    from kehu.customers.points import Point
    from kehu.integrations.exports import contact_vcard

    customer = customer_of(team.rep1, "华星")
    wang = contact_create(
        customer=customer,
        actor=team.rep1,
        name="王建国",
        phones=[Point("phone", "mobile", "13857112345")],
        emails=[Point("email", "work", "wangjg@hzhuaxing.example.cn")],
        handles=[Point("im", "wechat", "wangjg_hz")],
        birthday_month=12,
        birthday_day=24,
    )
    text = contact_vcard(wang, sensitive=False)
    assert "13857112345" not in text and "wangjg_hz" not in text and "BDAY" not in text
    assert "EMAIL;TYPE=INTERNET,WORK:wangjg@hzhuaxing.example.cn" in text
