"""Every kind of export outside the customer list (which kehu/integrations/tests/test_export_controls.py
covers with the API): a role without the kind's permission gets the 403 page and no link to it, one with
it gets the file and one audit entry whose count is the file's data rows; above the reason threshold the
export is refused until a reason is typed, and past the hour's limit it answers 429."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from kehu.core.models import AuditEntry
from kehu.users.models import User
from kehu.users.roles import Role

pytestmark = pytest.mark.django_db


def _data_rows(content: bytes, *, skip_sheets: int = 0, headers: int = 1) -> int:
    book = load_workbook(io.BytesIO(content))
    return sum(len(list(sheet.iter_rows(values_only=True))) - headers for sheet in book.worksheets[skip_sheets:])


@pytest.fixture
def company(team, customer_of):
    from kehu.catalog import services as catalog

    catalog.product_create(
        actor=team.admin,
        code="IS",
        name="离心泵",
        specifications=[{"code": "IS-50", "name": "IS50"}, {"code": "IS-80", "name": "IS80"}],
    )
    catalog.product_create(actor=team.admin, code="YY", name="液压油", specifications=[{"code": "YY-46", "name": "46"}])
    dealer = customer_of(team.rep1, "杭州华星机电经销部", channel_level="general_dealer")
    crm = User.objects.create_user("crm1", role=Role.CRM_SPECIALIST, department=team.hq)
    return dealer, crm


def _cases(team, company):
    dealer, crm = company
    return [
        # (kind, the page with the link, the export's address, who may, who may not (page status))
        (
            "products",
            reverse("catalog:product-list"),
            reverse("catalog:product-export") + "?format=xlsx",
            team.manager1,
            team.rep1,
            lambda content: _data_rows(content),
        ),
        (
            "sales_record",
            reverse("dealerplans:record", args=[dealer.pk]) + "?year=2026",
            reverse("dealerplans:record-export", args=[dealer.pk]) + "?year=2026",
            team.rep1,
            team.service1,
            lambda content: _data_rows(content, skip_sheets=1),
        ),
        (
            "ageing",
            reverse("receivables_reports:ageing"),
            reverse("receivables_reports:ageing") + "?level=department&format=xlsx",
            team.gm,
            team.rep1,
            lambda content: _data_rows(content, headers=2),
        ),
        (
            "complaint_report",
            reverse("support:complaint-statistics") + "?first=2026-01-01&last=2026-12-31",
            reverse("support:complaint-statistics-export") + "?first=2026-01-01&last=2026-12-31",
            team.service1,
            crm,  # reads the report (sees every customer), may not take it out
            lambda content: _data_rows(content, skip_sheets=1),
        ),
        (
            "service_economics",
            "/service/economics/",
            "/service/economics/?period=year&day=2026-03-01&format=xlsx",
            team.service1,
            team.rep1,
            lambda content: _data_rows(content, headers=2),
        ),
    ]


KINDS = ["products", "sales_record", "ageing", "complaint_report", "service_economics"]


@pytest.mark.parametrize("kind", KINDS)
def test_permission_file_and_exact_count(client, team, company, kind):
    _kind, page, url, allowed, denied, count = next(c for c in _cases(team, company) if c[0] == kind)
    client.force_login(denied)
    assert client.get(url).status_code == 403
    shown = client.get(page)
    assert shown.status_code == 403 or url.split("?")[0] not in shown.text.replace("&amp;", "&")
    assert not AuditEntry.objects.filter(action="export").exists()
    client.force_login(allowed)
    assert url.split("?")[0] in client.get(page).text
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxmlformats")
    [entry] = AuditEntry.objects.filter(action="export")
    assert entry.actor == allowed and entry.changes["kind"] == kind
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert entry.changes["rows"] == count(body)


def test_the_product_export_asks_a_reason_above_the_threshold_and_stops_at_the_limit(client, team, company, settings):
    settings.KEHU_EXPORT_REASON_ROWS = 2
    settings.KEHU_EXPORT_LIMIT_PER_HOUR = 2
    url = reverse("catalog:product-export") + "?format=csv"
    client.force_login(team.manager1)
    refused = client.get(url)
    assert refused.status_code == 400 and "This export has 3 rows." in refused.text
    assert not AuditEntry.objects.filter(action="export").exists()
    assert client.post(url, {"reason": "给经销商的价目表"}).status_code == 200
    assert AuditEntry.objects.get(action="export").changes["reason"] == "给经销商的价目表"
    assert client.get(url + "&q=YY").status_code == 200  # one row: no reason needed
    limited = client.post(url, {"reason": "again"})
    assert limited.status_code == 429 and "You have made 2 exports in the last hour" in limited.text
    assert AuditEntry.objects.filter(action="export").count() == 2


def test_every_registered_kind_is_tested_and_held_by_some_role():
    from kehu.core.exports import kinds
    from kehu.users.roles import ROLE_POLICY

    assert {k.code for k in kinds()} == {*KINDS, "customers", "contacts"}  # those two: test_export_controls.py
    held = set().union(*(perms for _scope, perms in ROLE_POLICY.values()))
    assert {k.perm for k in kinds()} <= held
    assert [k.code for k in kinds() if k.personal] == ["customers", "contacts"]
