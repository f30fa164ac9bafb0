"""Export controls (ACC-5) on the customer list and the contact cards, pages and API: who may export,
a reason above the threshold, the hourly limit (also for exports still being written by a task), and
the audit entry with the exact count and the reason, as the audit page shows it in both languages."""

import csv
import io

import pytest
from django.test import TestCase
from django.urls import reverse
from django.utils import translation

from kehu.core.audit_display import describe_entries
from kehu.core.models import AuditEntry
from kehu.customers.services import contact_create
from kehu.integrations.models import ExportJob, ExportStatus

pytestmark = pytest.mark.django_db

EXPORT = reverse("integrations:export-customers")
API_EXPORT = "/api/v1/transfer/exports/customers"


def _rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


@pytest.fixture
def book(team, customer_of):
    """Three customers of team 华东 (manager1's scope), one with a contact, and one of 华南."""
    huaxing = customer_of(team.rep1, "杭州华星精密机械有限公司", region="浙江", phone="0571-88123456")
    contact_create(customer=huaxing, actor=team.rep1, name="王建国", mobile="13857112345", is_primary=True)
    customer_of(team.rep1, "宁波海天塑机有限公司", region="浙江")
    customer_of(team.rep2, "苏州锦程电子科技有限公司", region="江苏")
    customer_of(team.rep3, "广州南方物流有限公司", region="广东")
    return huaxing


def _exports():
    return list(AuditEntry.objects.filter(action="export").order_by("id"))


def test_who_may_export_the_customer_list_page_and_api(client, api_client, team, book):
    # Anonymous: to the sign-in page / 401; a rep: 403 page and 403 JSON, and no export link; nothing logged.
    assert client.get(EXPORT).status_code == 302
    assert client.get(API_EXPORT).status_code == 401
    client.force_login(team.rep1)
    assert client.get(EXPORT + "?format=xlsx").status_code == 403
    assert 'id="export-links"' not in client.get(reverse("customers:customer-list")).text
    response = api_client(team.rep1).get(API_EXPORT)
    assert response.status_code == 403 and response.json() == {"detail": "You may not do this."}
    assert _exports() == []
    # The team's manager: the file and one audit entry with the exact count of their scope.
    client.force_login(team.manager1)
    assert 'id="export-links"' in client.get(reverse("customers:customer-list")).text
    rows = _rows(client.get(EXPORT + "?format=csv"))
    assert len(rows) == 4  # the header and 华东's three customers
    [entry] = _exports()
    assert (entry.actor, entry.target_type, entry.changes) == (
        team.manager1,
        "customers.customer",
        {"kind": "customers", "format": "csv", "rows": 3, "filters": {}},
    )
    response = api_client(team.gm).get(API_EXPORT + "?region=浙江")
    assert response.status_code == 200 and len(_rows(response)) == 3
    assert _exports()[-1].changes == {"kind": "customers", "format": "csv", "rows": 2, "filters": {"region": "浙江"}}


def test_a_large_export_needs_a_reason_page_and_api(client, api_client, team, book, settings):
    settings.KEHU_EXPORT_REASON_ROWS = 2
    client.force_login(team.manager1)
    refused = client.get(EXPORT + "?format=csv")
    assert refused.status_code == 400 and 'id="export-reason-form"' in refused.text
    assert "This export has 3 rows. Exports of more than 2 rows need a reason" in refused.text
    assert _exports() == []
    # A reason of only spaces is no reason; a typed one is kept with the export.
    assert client.post(EXPORT + "?format=csv", {"reason": "   "}).status_code == 400
    done = client.post(EXPORT + "?format=csv", {"reason": "季度客户回访名单"})
    assert done.status_code == 200 and len(_rows(done)) == 4
    [entry] = _exports()
    assert entry.changes["rows"] == 3 and entry.changes["reason"] == "季度客户回访名单"
    # Below the threshold no reason is asked.
    assert client.get(EXPORT + "?format=csv&region=浙江").status_code == 200
    # The API: 400 naming the field, then the file with the reason logged.
    api = api_client(team.manager1)
    response = api.get(API_EXPORT)
    assert response.status_code == 400
    assert response.json()["errors"]["reason"] == [
        "This export has 3 rows. Exports of more than 2 rows need a reason: say why you need the data "
        "(it is kept in the audit trail)."
    ]
    assert len(_exports()) == 2
    response = api.get(API_EXPORT + "?reason=%E5%AF%B9%E8%B4%A6")
    assert response.status_code == 200 and _exports()[-1].changes["reason"] == "对账"
    with translation.override("zh-hans"):
        assert client.get(EXPORT, headers={"accept-language": "zh-hans"}).status_code == 400


def test_the_hourly_limit_refuses_the_next_export_page_and_api(client, api_client, team, book, settings):
    settings.KEHU_EXPORT_LIMIT_PER_HOUR = 2
    client.force_login(team.manager1)
    assert client.get(EXPORT).status_code == 200
    assert api_client(team.manager1).get(API_EXPORT).status_code == 200
    page = client.get(EXPORT)
    assert page.status_code == 429 and int(page["Retry-After"]) > 3500
    assert "You have made 2 exports in the last hour, the most allowed. Try again after" in page.text
    assert 'id="export-reason-form"' not in page.text
    response = api_client(team.manager1).get(API_EXPORT + "?reason=x")
    assert response.status_code == 429 and response.json()["detail"].startswith("You have made 2 exports")
    assert int(response["Retry-After"]) > 3500
    # vCards count too; other people are not affected.
    assert client.get(reverse("integrations:contact-vcard", args=[book.contacts.get().pk])).status_code == 429
    assert len(_exports()) == 2
    client.force_login(team.gm)
    assert client.get(EXPORT).status_code == 200


def test_the_rows_limit(client, team, book, settings):
    settings.KEHU_EXPORT_ROWS_PER_HOUR = 4
    client.force_login(team.manager1)
    assert client.get(EXPORT).status_code == 200  # 3 rows
    page = client.get(EXPORT)  # 3 more would be 6
    assert page.status_code == 429
    assert "You may export 1 more rows in this hour (at most 4 an hour), and this export has more." in page.text
    assert client.get(EXPORT + "?q=华星").status_code == 200  # 1 row fits
    settings.KEHU_EXPORT_ROWS_PER_HOUR = 3
    client.force_login(team.gm)  # four customers: more than an hour's rows at once
    assert "more than 3 rows, the most that may be exported in an hour" in client.get(EXPORT).text


def test_a_background_export_keeps_its_reason_and_counts_while_written(client, team, book, settings):
    settings.KEHU_EXPORT_SYNC_ROWS = 2
    settings.KEHU_EXPORT_REASON_ROWS = 2
    settings.KEHU_EXPORT_LIMIT_PER_HOUR = 2
    client.force_login(team.manager1)
    assert client.get(EXPORT).status_code == 400 and not ExportJob.objects.exists()
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(EXPORT, {"reason": "年度客户盘点"})
    job = ExportJob.objects.get()
    assert response.status_code == 302 and job.status == ExportStatus.DONE
    assert (job.reason, job.expected_rows, job.row_count) == ("年度客户盘点", 3, 3)
    [entry] = _exports()
    assert entry.changes == {
        "kind": "customers",
        "format": "csv",
        "rows": 3,
        "filters": {},
        "job": job.pk,
        "reason": "年度客户盘点",
    }
    # A job not written yet (its task waits for the commit) already counts against the limit.
    client.post(EXPORT, {"reason": "再导一次"})
    assert ExportJob.objects.filter(status=ExportStatus.QUEUED).count() == 1
    assert client.post(EXPORT, {"reason": "第三次"}).status_code == 429
    assert ExportJob.objects.count() == 2 and len(_exports()) == 1


def test_vcards_need_their_own_permission_and_are_logged_as_personal(client, api_client, team, book):
    wang = book.contacts.get()
    client.force_login(team.rep1)  # the owner: sees the contact, may not take it out
    assert client.get(reverse("integrations:contact-vcard", args=[wang.pk])).status_code == 403
    assert "vCard" not in client.get(reverse("workspace:customer-detail", args=[book.pk])).text
    assert api_client(team.rep1).get(f"/api/v1/transfer/contacts/{wang.pk}/vcard").status_code == 403
    assert api_client(team.rep1).get(f"/api/v1/transfer/customers/{book.pk}/vcards").status_code == 403
    assert _exports() == []
    client.force_login(team.manager1)
    assert client.get(reverse("integrations:customer-vcards", args=[book.pk])).status_code == 200
    assert api_client(team.manager1).get(f"/api/v1/transfer/contacts/{wang.pk}/vcard").status_code == 200
    first, second = _exports()
    assert (first.target_type, first.changes["kind"], first.changes["rows"]) == ("customers.contact", "contacts", 1)
    assert second.changes["what"] == f"contact {wang.pk}"


def test_the_audit_page_shows_count_reason_and_personal_data_in_both_languages(client, team, book, settings):
    settings.KEHU_EXPORT_REASON_ROWS = 2
    client.force_login(team.manager1)
    client.post(EXPORT + "?format=xlsx", {"reason": "季度回访"})
    [entry] = _exports()
    with translation.override("en"):
        [line] = describe_entries([entry])
        assert line.summary == (
            "Exported the customer list (Excel, 3 rows, no filters, reason: 季度回访, personal information)"
        )
    with translation.override("zh-hans"):
        [line] = describe_entries([entry])
        assert line.summary == "导出客户列表（Excel，3 行，未筛选，原因：季度回访，含个人信息）"
    client.force_login(team.gm)
    page = client.get(reverse("users:audit-log"), {"action": "export"})
    assert page.status_code == 200 and "reason: 季度回访" in page.text
