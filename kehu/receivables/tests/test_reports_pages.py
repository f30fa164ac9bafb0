"""The report pages: ageing (drill down, export), statement (page, PDF, .xlsx), what a customer owes,
the collection ranking and the credit settings — for anonymous, a rep, a manager, finance."""

import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from kehu.integrations.models import ExportJob, ExportStatus
from kehu.receivables.models import ReceivablesSettings
from kehu.receivables.tests.reports_fixtures import _credit_answers, customer, days_ago, order, payment, plan, refresh  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def money(team):
    today = timezone.localdate()
    east = customer(team.rep1, "华东欠款客户")
    o = order(east, "5000", on=days_ago(100, today))
    plan(east, "3000", days_ago(45, today), order_=o)
    plan(east, "2000", days_ago(-20, today), order_=o)
    payment(east, "800", days_ago(2, today))
    south = customer(team.rep3, "华南欠款客户")
    o2 = order(south, "700", on=days_ago(10, today))
    plan(south, "700", days_ago(200, today), order_=o2)
    refresh([east.pk, south.pk], today)
    return east, south


def login(client, user):
    client.force_login(user)
    return client


def test_anonymous_is_sent_to_log_in(client, money):
    east, _south = money
    for url in (
        reverse("receivables_reports:ageing"),
        reverse("receivables_reports:statement", args=[east.pk]),
        reverse("receivables_reports:customer-money", args=[east.pk]),
        reverse("receivables_reports:credit-settings"),
        reverse("receivables_reports:ranking"),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_rep_may_not_read_the_ageing_report(client, team, money):
    assert login(client, team.rep1).get(reverse("receivables_reports:ageing")).status_code == 403


def test_ageing_for_finance_by_department(client, team, finance, money):
    response = login(client, finance).get(reverse("receivables_reports:ageing"))
    assert response.status_code == 200
    rows = {r.label: r for r in response.context["summary"].rows}
    assert rows["华东销售部"].owed == Decimal("5000.00")
    assert rows["华东销售部"].buckets["d31_60"] == Decimal("3000.00")
    assert rows["华南销售部"].buckets["d181"] == Decimal("700.00")
    assert response.context["summary"].total.owed == Decimal("5700.00")
    assert "华东销售部" in response.content.decode()


def test_manager_sees_only_the_team_and_drills_down(client, team, money):
    login(client, team.manager2)
    response = client.get(reverse("receivables_reports:ageing") + "?level=rep")
    assert [r.key for r in response.context["summary"].rows] == [team.rep3.pk]
    response = client.get(reverse("receivables_reports:ageing") + f"?level=customer&owner={team.rep3.pk}")
    assert [r.label for r in response.context["rows"]] == ["华南欠款客户"]
    # another team's rep: nothing (the scope decides, not the parameter)
    response = client.get(reverse("receivables_reports:ageing") + f"?level=customer&owner={team.rep1.pk}")
    assert response.context["rows"] == []


def test_customer_level_query_count(client, team, finance, money, django_assert_max_num_queries):
    login(client, finance)
    url = reverse("receivables_reports:ageing") + "?level=customer"
    client.get(url)
    # session+user, bell, balances page, count, plans of the page, menu (permissions are in memory)
    with django_assert_max_num_queries(8):
        response = client.get(url)
    assert [r.label for r in response.context["rows"]] == ["华东欠款客户", "华南欠款客户"]


def test_ageing_export_inline(client, team, finance, money):
    from openpyxl import load_workbook

    response = login(client, finance).get(reverse("receivables_reports:ageing") + "?level=rep&format=xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][:5] == ("Rep", "Total owed", "Due", "Not yet due", "Not yet invoiced")
    assert rows[-1][0] == "Total" and Decimal(str(rows[-1][1])) == Decimal("5700")


def test_big_ageing_export_runs_as_a_task(
    client, team, finance, money, settings, tmp_path, django_capture_on_commit_callbacks
):
    from openpyxl import load_workbook

    settings.KEHU_EXPORT_SYNC_ROWS = 1
    settings.KEHU_TRANSFER_DIR = tmp_path
    login(client, finance)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(reverse("receivables_reports:ageing") + "?level=customer&format=xlsx")
    job = ExportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("receivables_reports:export", args=[job.pk])
    assert (job.status, job.row_count, job.filters["report"]) == (ExportStatus.DONE, 2, "ageing")
    page = client.get(response["Location"])
    assert reverse("receivables_reports:export-download", args=[job.pk]) in page.content.decode()
    download = client.get(reverse("receivables_reports:export-download", args=[job.pk]))
    rows = list(load_workbook(io.BytesIO(b"".join(download.streaming_content))).active.iter_rows(values_only=True))
    assert [r[0] for r in rows[2:]] == ["华东欠款客户", "华南欠款客户"]
    # someone else's job is not found
    assert login(client, team.admin).get(reverse("receivables_reports:export", args=[job.pk])).status_code == 404


def test_statement_page_and_files(client, team, money):
    east, south = money
    login(client, team.rep1)
    url = reverse("receivables_reports:statement", args=[east.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert response.context["s"].closing == Decimal("4200.00")  # 5000 ordered − 800 paid
    assert client.get(url + "?first=2026-05-02&last=2026-05-01&format=pdf").status_code == 400
    assert client.get(url + "?format=pdf")["Content-Type"] == "application/pdf"
    xlsx = client.get(url + "?format=xlsx")
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    bad = client.get(url + "?first=2026-05-02&last=2026-05-01")
    assert "The first day must not be after the last." in bad.content.decode()
    # another rep's customer
    assert client.get(reverse("receivables_reports:statement", args=[south.pk])).status_code == 404


def test_customer_money_page_and_credit_check(client, team, money):
    east, _south = money
    login(client, team.rep1)
    url = reverse("receivables_reports:customer-money", args=[east.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert response.context["row"].buckets["d31_60"] == Decimal("3000.00")
    assert response.context["limit"] == Decimal("50000.00")
    checked = client.get(url + "?amount=46000", headers={"HX-Request": "true"})
    assert checked.context["verdict"].held is True
    assert "Would be held for a credit exception." in checked.content.decode()
    assert "<html" not in checked.content.decode()


def test_credit_settings_page(client, team, finance):
    url = reverse("receivables_reports:credit-settings")
    assert login(client, team.manager1).post(url, {"credit_stage": "off"}).status_code == 403
    assert ReceivablesSettings.current().credit_stage == "order"
    login(client, finance)
    assert client.get(url).status_code == 200
    data = {
        "credit_stage": "delivery",
        "hold_over_limit": "on",
        "hold_overdue_days": "45",
        "remind_days_before_due": "5",
    }
    assert client.post(url, data).status_code == 302
    conf = ReceivablesSettings.current()
    assert (conf.credit_stage, conf.hold_overdue_days, conf.remind_days_before_due) == ("delivery", 45, 5)
    bad = client.post(url, {**data, "remind_days_before_due": "-1"})
    assert bad.status_code == 200 and ReceivablesSettings.current().remind_days_before_due == 5


def test_collection_ranking(client, team, money):
    east, south = money
    payment(south, "900", timezone.localdate())
    payment(east, "100", timezone.localdate(), refund=True)
    response = login(client, team.manager1).get(reverse("receivables_reports:ranking"))
    assert [(r.name, r.collected) for r in response.context["rows"]] == [(team.rep1.display_name, Decimal("700.00"))]
    assert login(client, team.rep1).get(reverse("receivables_reports:ranking")).status_code == 403


def test_odd_parameters_are_not_errors(client, team, finance, money):
    login(client, finance)
    for query in (
        "?department=100000000000000000000",
        "?level=rep&department=-1",
        "?level=customer&owner=99999999999999999999999&offset=1e9",
        "?level=customer&offset=-5",
        "?level=nonsense&department=0",
    ):
        assert client.get(reverse("receivables_reports:ageing") + query).status_code == 200, query
