"""Importing payments from finance's own spreadsheet: a title row, a date line, the header, the
records, a total row and a note row; customers by name; refunds as negative amounts; all or
nothing; each payment allocated oldest due first; the counts add up."""

import io
from datetime import date
from decimal import Decimal as D  # noqa: N817

import pytest
from django.core.exceptions import PermissionDenied
from django.test import TestCase

from kehu.integrations.models import ImportJob, ImportStatus
from kehu.integrations.services import import_job_create, import_job_set_mapping, import_job_start
from kehu.integrations.tests.conftest import upload
from kehu.receivables import services
from kehu.receivables.models import CustomerBalance, Payment, PaymentPlan, PlanState

HEADER = ["序号", "回款日期", "客户名称", "回款金额（元）", "付款方式", "银行流水号", "收款账户", "备注"]


def sheet(records) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    ws = workbook.active
    ws.title = "5月回款"
    rows = [
        ["华辰机电 2026 年 5 月回款明细表"] + [None] * 7,
        ["制表：财务部 王会计    日期：2026-05-31"] + [None] * 7,
        HEADER,
        *records,
        ["合计", None, None, sum(r[3] for r in records if isinstance(r[3], (int, float))), None, None, None, None],
        ["注：承兑汇票按票面金额记账。"] + [None] * 7,
    ]
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            if value is not None:
                ws.cell(row=r, column=c, value=value)
    ws.merge_cells("A1:H1")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def _transfer_dir(settings, tmp_path):
    settings.KEHU_TRANSFER_DIR = tmp_path / "transfer"


def run(actor, data):
    job = import_job_create(actor=actor, uploaded=upload("回款明细.xlsx", data), target="payments")
    with TestCase.captureOnCommitCallbacks(execute=True):
        import_job_set_mapping(job=job, actor=actor, mapping=job.mapping)
    job = ImportJob.objects.get(pk=job.pk)
    return job


def finish(actor, job):
    with TestCase.captureOnCommitCallbacks(execute=True):
        import_job_start(job=job, actor=actor)
    return ImportJob.objects.get(pk=job.pk)


@pytest.fixture
def book(team, customer_of, order_of, clock):
    clock(date(2026, 5, 31))
    a = customer_of(team.rep1, name="苏州华星精密机械有限公司")
    b = customer_of(team.rep2, name="无锡新光电子科技有限公司")
    for customer, total in ((a, "10000.00"), (b, "5000.00")):
        order = order_of(customer, total=total)
        services.plans_from_terms(
            actor=customer.owner,
            order=order,
            terms=[{"percent": "50", "due_on": "2026-04-30"}, {"percent": "50", "due_on": "2026-06-30"}],
        )
    return a, b


def test_finance_sheet_imports_with_allocation_and_counts(team, book, finance):
    a, b = book
    records = [
        [1, "2026-05-06", "苏州华星精密机械有限公司", 10500, "电汇", "HX-0506-01", "工行 1102", "全款"],
        [2, date(2026, 5, 12), "无锡新光电子科技有限公司", 2500, "银行承兑", "CD-7781", "招行 0755", None],
        [3, "2026/5/20", "无锡新光电子科技有限公司", "¥3,000.00", "转账", "XG-0520", "工行 1102", "含预收"],
        [4, "2026年5月28日", "苏州华星精密机械有限公司", -500, "退款", "HX-REF-1", "工行 1102", "多付退回"],
    ]
    job = run(finance, sheet(records))
    assert job.status == ImportStatus.PREVIEW
    assert job.header_row == 3
    assert job.report["rows"] == 4 and job.report["errors"] == 0
    assert job.report["not_records"] == {"total": 1, "note": 1}
    done = finish(finance, job)
    assert done.status == ImportStatus.DONE, done.error
    assert {k: done.report[k] for k in ("created", "skipped", "received", "refunded", "allocated", "unallocated")} == {
        "created": 4,
        "skipped": 0,
        "received": "16000.00",
        "refunded": "500.00",
        "allocated": "15000.00",
        "unallocated": "1000.00",
    }
    assert Payment.objects.filter(import_job=done).count() == 4
    first = Payment.objects.get(reference="HX-0506-01")
    assert (first.customer_id, first.amount, first.method, first.received_on, first.allocated_amount) == (
        a.pk,
        D("10500.00"),
        "transfer",
        date(2026, 5, 6),
        D("10000.00"),
    )
    assert Payment.objects.get(reference="CD-7781").method == "acceptance"
    refund = Payment.objects.get(reference="HX-REF-1")
    assert (refund.is_refund, refund.amount) == (True, D("500.00"))
    assert list(
        PaymentPlan.objects.filter(customer=b).order_by("sequence").values_list("received_amount", "state")
    ) == [
        (D("2500.00"), PlanState.PAID),
        (D("2500.00"), PlanState.PAID),
    ]
    assert CustomerBalance.objects.get(customer=b).unallocated == D("500.00")
    balance_a = CustomerBalance.objects.get(customer=a)
    assert (balance_a.owed, balance_a.unallocated) == (D("0.00"), D("0.00"))  # 500 over the plans, refunded


def test_unknown_customer_and_repeated_reference_are_refused(team, book, finance):
    records = [
        [1, "2026-05-06", "苏州华星精密机械有限公司", 100, "电汇", "R-1", None, None],
        [2, "2026-05-07", "不存在的公司", 100, "电汇", "R-2", None, None],
        [3, "2026-05-08", "苏州华星精密机械有限公司", 100, "电汇", "R-1", None, None],
        [4, "不是日期", "苏州华星精密机械有限公司", "面议", "电汇", "R-4", None, None],
    ]
    job = run(finance, sheet(records))
    assert job.report["rows"] == 4 and job.report["errors"] == 3
    done = finish(finance, job)
    assert done.status == ImportStatus.DONE, done.error
    assert (done.report["created"], done.report["skipped"]) == (1, 3)
    assert Payment.objects.count() == 1


def test_all_or_nothing(team, book, finance):
    a, b = book
    # a refund larger than the customer's unallocated money fails the whole run
    records = [
        [1, "2026-05-06", "苏州华星精密机械有限公司", 100, "电汇", "R-1", None, None],
        [2, "2026-05-07", "无锡新光电子科技有限公司", -100, "退款", "R-2", None, None],
    ]
    done = finish(finance, run(finance, sheet(records)))
    assert done.status == ImportStatus.FAILED
    assert "Row" in done.error or "行" in done.error
    assert Payment.objects.count() == 0


def test_only_those_who_may_import_payments(team, book, finance):
    with pytest.raises(PermissionDenied):
        import_job_create(actor=team.rep1, uploaded=upload("a.xlsx", sheet([])), target="payments")
