"""Importing products with their specifications through the shared import machinery: a company's
own price sheet (title row, merged group headers, a note and a total row, Chinese headers), counts
of what came in, duplicates updated on request, all or nothing, thousands of rows, the export
reading back in."""

import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.test import TestCase

from kehu.catalog import selectors
from kehu.catalog.exports import products_export
from kehu.catalog.imports import parse_money, parse_tax_rate
from kehu.catalog.models import Category, PriceItem, PriceList, Product, Specification
from kehu.core.models import AuditEntry
from kehu.integrations.fields import CellError
from kehu.integrations.models import ImportJob, ImportRow, ImportStatus
from kehu.integrations.services import import_job_choose, import_job_create, import_job_set_mapping, import_job_start
from kehu.integrations.tests.conftest import csv_bytes, upload

pytestmark = pytest.mark.django_db
D = Decimal

TITLE = "华辰机电设备有限公司 2026 年产品价格表"
GROUPS = ["序号", "产品信息", None, None, None, None, "规格", None, "价格（元）", None, None, "状态"]
NAMES = [
    None,
    "产品编码",
    "产品名称",
    "产品分类",
    "单位",
    "税率",
    "规格编码",
    "规格型号",
    "目录价",
    "成本价",
    "最低价",
    None,
]
RECORDS = [
    [1, "IS", "IS 单级单吸离心泵", "泵/离心泵", "台", "13%", "IS-50", "IS50-32-160 / 2.2kW", 2680, 1660, 1880, "在售"],
    [2, "IS", "IS 单级单吸离心泵", "泵/离心泵", "台", "13%", "IS-80", "IS80-65-160 / 7.5kW", 4980, None, None, "在售"],
    [3, "D71", "D71X 对夹蝶阀", "阀门", "件", 0.13, "D71-80", "DN80 PN10", "¥420.00", None, None, "在售"],
    [4, "D71", "D71X 对夹蝶阀", "阀门", "件", 0.13, "D71-150", "DN150 PN10", "780", None, None, "在售"],
    [5, "AZ", "安装调试服务", "服务", "套", "6%", None, None, "1,200", None, None, "未上市"],
]


def template_xlsx(records=None) -> bytes:
    """As the sales office keeps it: a title merged over the sheet, a date line, a two-row header
    with merged groups (序号 and 状态 merged down), the records, a total row and a note row."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "产品价格表"
    rows = [
        [TITLE] + [None] * 11,
        ["制表日期：2026-01-05"] + [None] * 11,
        GROUPS,
        NAMES,
        *(records or RECORDS),
        ["合计", None, None, None, None, None, None, None, None, None, None, "5项"],
        ["注：价格均为含税价，如有变动以最新价格表为准。"] + [None] * 11,
    ]
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            if value is not None:
                sheet.cell(row=r, column=c, value=value)
    for merge in ("A1:L1", "A3:A4", "B3:F3", "G3:H3", "I3:K3", "L3:L4", f"A{len(rows)}:L{len(rows)}"):
        sheet.merge_cells(merge)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def _transfer_dir(settings, tmp_path):
    settings.KEHU_TRANSFER_DIR = tmp_path / "transfer"


def preview(actor, data, name="价格表.xlsx"):
    job = import_job_create(actor=actor, uploaded=upload(name, data), target="products")
    with TestCase.captureOnCommitCallbacks(execute=True):
        import_job_set_mapping(job=job, actor=actor, mapping=job.mapping)
    return ImportJob.objects.get(pk=job.pk)


def finish(actor, job, rows=None, duplicates=""):
    if rows or duplicates:
        import_job_choose(job=job, actor=actor, rows=rows or {}, duplicates=duplicates)
    with TestCase.captureOnCommitCallbacks(execute=True):
        import_job_start(job=job, actor=actor)
    return ImportJob.objects.get(pk=job.pk)


def test_cells_read_as_amounts_and_tax_rates():
    assert parse_money("¥1,280.00") == D("1280.0000")
    assert parse_money("1280元") == D("1280.0000")
    assert parse_tax_rate("13%") == D("13.00")
    assert parse_tax_rate("0.09") == D("9.00")
    assert parse_tax_rate("6") == D("6.00")
    with pytest.raises(CellError, match="is not an amount"):
        parse_money("面议")
    with pytest.raises(CellError, match="A tax rate lies between 0 and 100%"):
        parse_tax_rate("130")


def test_a_companys_price_sheet_imports_with_its_layout_understood(team):
    job = preview(team.admin, template_xlsx())
    assert job.status == ImportStatus.PREVIEW
    assert job.header_row == 4
    assert job.mapping == {
        "1": "code",
        "2": "name",
        "3": "category",
        "4": "unit",
        "5": "tax_rate",
        "6": "spec_code",
        "7": "spec_name",
        "8": "list_price",
        "9": "cost",
        "10": "floor_price",
        "11": "status",
    }
    assert job.report["rows"] == 5
    assert job.report["errors"] == 0
    assert job.report["not_records"] == {"total": 1, "note": 1}

    done = finish(team.admin, job)
    assert done.status == ImportStatus.DONE, done.error
    assert {k: done.report[k] for k in ("created", "updated", "specifications_created", "list_prices")} == {
        "created": 3,
        "updated": 0,
        "specifications_created": 5,
        "list_prices": 5,
    }
    pump = Product.objects.get(code="IS")
    assert (pump.name, pump.unit, pump.tax_rate, pump.cost, pump.floor_price) == (
        "IS 单级单吸离心泵",
        "台",
        D("13.00"),
        D("1660.0000"),
        D("1880.0000"),
    )
    assert pump.category.name == "离心泵" and pump.category.parent.name == "泵"
    assert list(pump.specifications.values_list("code", "name", "position")) == [
        ("IS-50", "IS50-32-160 / 2.2kW", 0),
        ("IS-80", "IS80-65-160 / 7.5kW", 1),
    ]
    assert pump.search_text == "is is 单级单吸离心泵 is-50 is50-32-160 / 2.2kw is-80 is80-65-160 / 7.5kw"
    valve = Product.objects.get(code="D71")
    assert valve.tax_rate == D("13.00")  # 0.13 read as 13%
    service = Product.objects.get(code="AZ")
    assert (service.tax_rate, service.status) == (D("6.00"), "draft")
    assert list(service.specifications.values_list("code", "name")) == [("AZ", "Standard")]
    specs = {s.code: s.pk for s in Specification.objects.all()}
    prices = selectors.list_prices(list(specs.values()))
    assert {code: prices[pk] for code, pk in specs.items()} == {
        "IS-50": D("2680.0000"),
        "IS-80": D("4980.0000"),
        "D71-80": D("420.0000"),
        "D71-150": D("780.0000"),
        "AZ": D("1200.0000"),
    }
    assert PriceList.objects.get().kind == "list"
    assert set(Category.objects.values_list("name", flat=True)) == {"泵", "离心泵", "阀门", "服务"}
    assert AuditEntry.objects.filter(target_type="catalog.product", action="create").count() == 3


def test_existing_specifications_are_duplicates_updated_only_when_chosen(team):
    finish(team.admin, preview(team.admin, template_xlsx()))
    changed = [list(r) for r in RECORDS]
    changed[0][8] = 2580  # a new list price for IS-50
    changed[0][2] = "IS 离心泵（新款）"
    changed.append(
        [6, "IS", "IS 单级单吸离心泵", "泵/离心泵", "台", "13%", "IS-100", "IS100-80-160", 7850, None, None, "在售"]
    )
    job = preview(team.admin, template_xlsx(changed))
    assert job.report["duplicates"] == 5
    rows = {r.number: r for r in ImportRow.objects.filter(job=job, skip_reason="")}
    assert rows[5].matches[0]["name"] == "IS IS 单级单吸离心泵 · IS50-32-160 / 2.2kW"
    done = finish(team.admin, job, duplicates="update_duplicates")
    assert done.status == ImportStatus.DONE, done.error
    assert {k: done.report[k] for k in ("created", "updated", "specifications_created", "list_prices")} == {
        "created": 0,
        "updated": 1,
        "specifications_created": 1,
        "list_prices": 2,
    }
    assert Product.objects.get(code="IS").name == "IS 离心泵（新款）"
    spec = Specification.objects.get(code="IS-50")
    assert selectors.list_prices([spec.pk])[spec.pk] == D("2580.0000")
    assert PriceItem.objects.count() == 6


def test_a_bad_row_is_shown_and_a_repeated_specification_code_refused(team):
    records = [list(r) for r in RECORDS]
    records[1][6] = "IS-50"  # the same specification code twice
    records[2][8] = "面议"
    job = preview(team.admin, template_xlsx(records))
    rows = {r.number: r for r in ImportRow.objects.filter(job=job, skip_reason="")}
    assert rows[6].errors == {"spec_code": ["The specification code “IS-50” is already in row 5."]}
    assert rows[7].errors == {"list_price": ["“面议” is not an amount."]}
    done = finish(team.admin, job)
    assert done.report["created"] == 3 and done.report["skipped"] == 2
    assert not Specification.objects.filter(code="D71-80").exists()


def test_only_catalog_managers_import_products(team):
    with pytest.raises(PermissionDenied):
        import_job_create(actor=team.rep1, uploaded=upload("a.xlsx", template_xlsx()), target="products")
    with pytest.raises(PermissionDenied):
        import_job_create(actor=team.manager1, uploaded=upload("a.xlsx", template_xlsx()), target="products")
    assert import_job_create(actor=team.gm, uploaded=upload("a.xlsx", template_xlsx()), target="products")


def test_thousands_of_rows_and_the_export_reads_back_in(team, django_assert_max_num_queries):
    header = ["产品编码", "产品名称", "产品分类", "单位", "税率", "规格编码", "规格型号", "目录价"]
    rows = [header]
    for n in range(1000):
        for s in range(3):
            rows.append(
                [
                    f"P{n:04d}",
                    f"产品{n}",
                    f"类{n % 5}/子类{n % 3}",
                    "台",
                    "13%",
                    f"P{n:04d}-{s}",
                    f"型号{s}",
                    100 + n + s,
                ]
            )
    job = preview(team.admin, csv_bytes(rows), name="products.csv")
    assert job.report["rows"] == 3000 and job.report["errors"] == 0
    done = finish(team.admin, job)
    assert done.status == ImportStatus.DONE, done.error
    assert (done.report["created"], done.report["specifications_created"], done.report["list_prices"]) == (
        1000,
        3000,
        3000,
    )
    assert Category.objects.count() == 5 + 15
    assert Product.objects.get(code="P0999").search_text == "p0999 产品999 p0999-0 型号0 p0999-1 型号1 p0999-2 型号2"

    content, count = products_export(
        actor=team.manager1, filters=selectors.ProductFilters(), fmt="csv", reason="年度价格核对"
    )
    assert count == 3000
    text = content.decode("utf-8-sig").splitlines()
    assert (
        text[0]
        == "Product code,Product name,Category,Unit,Tax rate,Specification code,Specification / model,List price (CNY),Unit cost (CNY),Floor price (CNY),Status"
    )
    assert text[1] == "P0000,产品0,类0/子类0,台,13%,P0000-0,型号0,100,,,On sale"
    again = preview(team.admin, content, name="export.csv")
    assert again.report["rows"] == 3000 and again.report["duplicates"] == 3000
