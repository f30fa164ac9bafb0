"""Importing sell-through and orders from the spreadsheets companies keep (title rows, merged
headers, note and total rows), through the shared import machinery; counts add up; all or nothing."""

import io
from datetime import date
from decimal import Decimal

import pytest
from django.test import TestCase

from kehu.integrations.models import ImportJob, ImportStatus
from kehu.integrations.services import import_job_create, import_job_set_mapping, import_job_start
from kehu.integrations.tests.conftest import upload
from kehu.orders.imports import parse_month
from kehu.orders.models import Order, OrderLine, OrderState, SellThrough
from kehu.users.roles import Role

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture(autouse=True)
def _transfer_dir(settings, tmp_path):
    settings.KEHU_TRANSFER_DIR = tmp_path / "transfer"


@pytest.fixture
def importer(team):
    """manager1 (a sales manager) may import sales records."""
    assert team.manager1.role == Role.SALES_MANAGER
    return team.manager1


def xlsx(rows, merges=()) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            if value is not None:
                sheet.cell(row=r, column=c, value=value)
    for merge in merges:
        sheet.merge_cells(merge)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def run(actor, data, target, name="销售记录.xlsx"):
    job = import_job_create(actor=actor, uploaded=upload(name, data), target=target)
    with TestCase.captureOnCommitCallbacks(execute=True):
        import_job_set_mapping(job=job, actor=actor, mapping=job.mapping)
    job = ImportJob.objects.get(pk=job.pk)
    preview = dict(job.report)
    with TestCase.captureOnCommitCallbacks(execute=True):
        import_job_start(job=job, actor=actor)
    return preview, ImportJob.objects.get(pk=job.pk)


def test_months_are_read_as_people_write_them():
    assert parse_month("2026-03") == date(2026, 3, 1)
    assert parse_month("2026年3月") == date(2026, 3, 1)
    assert parse_month("2026/3/15") == date(2026, 3, 1)
    assert parse_month("2026-03-01 00:00:00") == date(2026, 3, 1)


def test_a_dealers_monthly_sell_through_sheet(team, customer_of, book, importer):
    dealer = customer_of(team.rep1, name="宁波东海机电总经销")
    sub = customer_of(team.rep1, name="慈溪五金二批")
    rows = [
        ["宁波东海机电 2026 年一季度分销明细"] + [None] * 6,
        ["填报：销售部"] + [None] * 6,
        ["月份", "经销商", "下游客户", None, "产品", None, None],
        [None, None, "名称", "渠道级别", "规格编码", "数量", "金额"],
        ["2026-01", "宁波东海机电总经销", "慈溪五金二批", "二批", "CK6140-A", 5, "¥480.00"],
        ["2026年2月", "宁波东海机电总经销", "余姚小李五金店", "零售", "YY-46", "1,200", 300000],
        ["2026-02", "宁波东海机电总经销", "余姚小李五金店", "零售", "NOPE-1", 1, 10],
        ["2026-03", "不认识的经销商", "某店", "零售", "CK6140-A", 1, 10],
        ["合计", None, None, None, None, "1207", "300500"],
        ["注：金额含税。"] + [None] * 6,
    ]
    merges = ("A1:G1", "A3:A4", "B3:B4", "C3:D3", "E3:G3")
    preview, job = run(importer, xlsx(rows, merges), "sell_through")
    assert job.status == ImportStatus.DONE, job.error
    assert preview["rows"] == 4 and preview["errors"] == 2
    assert preview["not_records"] == {"total": 1, "note": 1}
    assert (job.report["created"], job.report["skipped"]) == (2, 2)
    assert job.report["created"] + job.report["skipped"] == preview["rows"]
    records = list(SellThrough.objects.order_by("month"))
    assert [(r.month, r.seller_id, r.buyer_id, r.buyer_name, r.buyer_level, r.quantity, r.amount) for r in records] == [
        (date(2026, 1, 1), dealer.pk, sub.pk, "慈溪五金二批", "二批", D("5"), D("480.00")),
        (date(2026, 2, 1), dealer.pk, None, "余姚小李五金店", "零售", D("1200"), D("300000.00")),
    ]
    assert records[0].specification_id == book.lathe_a.pk
    assert records[1].specification_id is None and records[1].product_id == book.oil.pk  # a product code


def test_an_order_book_with_title_rows_becomes_booked_orders(team, customer_of, book, importer):
    acme = customer_of(team.rep1, name="苏州华星精密机械有限公司")
    rows = [
        ["2026 年销售台账"] + [None] * 6,
        ["订单号", "客户名称", "订单日期", "规格编码", "数量", "含税单价", "备注"],
        ["PO-001", "苏州华星精密机械有限公司", "2026-02-03", "CK6140-A", 3, "95.50", "加急"],
        ["PO-001", "苏州华星精密机械有限公司", "2026-02-03", "YY-46-200L", 2, None, None],
        ["PO-002", "苏州华星精密机械有限公司", "2026/02/10", "CK6140-B", "1", "100", None],
        ["合计", None, None, None, "6", None, None],
    ]
    preview, job = run(importer, xlsx(rows, ("A1:G1",)), "orders")
    assert job.status == ImportStatus.DONE, job.error
    assert preview["rows"] == 3 and preview["errors"] == 0
    assert {k: job.report[k] for k in ("created", "lines", "skipped", "total")} == {
        "created": 2,
        "lines": 3,
        "skipped": 0,
        "total": "886.50",
    }
    first = Order.objects.get(external_reference="PO-001")
    assert (first.customer_id, first.state, first.source, first.ordered_on) == (
        acme.pk,
        OrderState.CONFIRMED,
        "import",
        date(2026, 2, 3),
    )
    assert first.owner_id == team.rep1.pk and first.notes == "加急"
    lines = list(OrderLine.objects.filter(order=first).order_by("position"))
    # 3 × 95.50 from the file (a discount of 4.5 % derived from the book's 100.00); 2 × 250.00 from the book
    assert [(line.unit_price, line.discount, line.amount, line.is_booked) for line in lines] == [
        (D("95.5"), D("4.50"), D("286.50"), True),
        (D("250.0000"), D("0"), D("500.00"), True),
    ]
    assert first.total == D("786.50")
    # the same file again: every row is a duplicate of an imported order and is skipped
    preview, again = run(importer, xlsx(rows, ("A1:G1",)), "orders")
    assert preview["duplicates"] == 3 and again.report["created"] == 0
    assert Order.objects.count() == 2


def test_one_bad_order_fails_the_whole_import(team, customer_of, book, importer):
    customer_of(team.rep1, name="苏州华星精密机械有限公司")
    rows = [
        ["订单号", "客户名称", "订单日期", "规格编码", "数量"],
        ["PO-1", "苏州华星精密机械有限公司", "2026-02-03", "CK6140-A", 1],
        ["PO-2", "苏州华星精密机械有限公司", "2026-02-03", "NP-1-X", 1],  # no price in the book
    ]
    _preview, job = run(importer, xlsx(rows), "orders")
    assert job.status == ImportStatus.FAILED
    assert "NP-1-X" in job.error and "PO-2" in job.error
    assert not Order.objects.exists()


def test_a_rep_may_not_import_sales_records(team):
    from kehu.integrations.targets import get_target

    assert not get_target("orders").may_import(team.rep1)
    assert not get_target("sell_through").may_import(team.rep1)
