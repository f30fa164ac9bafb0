"""The text rule at the import door: a control character, an over-long value or a web address
that is not http(s) is a per-row error naming the column, the other rows import, and nothing
of it breaks the preview (PostgreSQL's JSON columns refuse NUL)."""

import pytest

from kehu.customers.models import Customer
from kehu.integrations.models import ImportRow, ImportStatus, RowAction
from kehu.leads.models import Lead

from .conftest import csv_bytes, finish_import, preview_import

pytestmark = pytest.mark.django_db

HEADERS = ["客户名称", "地址", "网址", "备注", "联系人"]
GOOD = ["杭州华星精密机械有限公司", "人民路1号", "", "老客户", "王建国"]


def _rows(job) -> dict[int, ImportRow]:
    return {r.number: r for r in ImportRow.objects.filter(job=job)}


def test_control_characters_are_row_errors_and_the_rest_imports(team):
    job = preview_import(
        team.rep1,
        "客户.csv",
        csv_bytes(
            [
                HEADERS,
                GOOD,
                ["苏州锦程\x07电子", "", "", "", ""],
                ["宁波东港", "北仑\x0c区", "", "", ""],
                ["无锡恒力", "", "", "备注\x1b", ""],
                ["常州天润", "", "", "", "刘\x85芳"],
                ["南通海瑞", "", "", "第一行\n第二行\t缩进", ""],
            ]
        ),
    )
    assert job.status == ImportStatus.PREVIEW, job.error
    rows = _rows(job)
    assert rows[2].errors == {} and rows[7].errors == {}
    assert (set(rows[3].errors), set(rows[4].errors), set(rows[5].errors), set(rows[6].errors)) == (
        {"name"},
        {"address"},
        {"notes"},
        {"contact_name"},
    )
    assert "U+0007" in rows[3].errors["name"][0] and "U+000C" in rows[4].errors["address"][0]
    # What the preview shows of a refused row can be stored: the error names the character.
    assert rows[4].values["customer"]["address"] == "北仑区"
    assert rows[3].values["customer"]["name"] == "苏州锦程电子"
    assert all(rows[n].action == RowAction.SKIP for n in (3, 4, 5, 6))
    job = finish_import(team.rep1, job)
    assert job.report["created"] == 2 and job.report["skipped"] == 4
    assert Customer.objects.get(name="南通海瑞").notes == "第一行\n第二行\t缩进"


def test_a_line_break_inside_a_one_line_cell_is_a_space(team):
    job = preview_import(team.rep1, "a.csv", csv_bytes([HEADERS, ["杭州华星\n精密机械", "人民路\r\n1号", "", "", ""]]))
    assert _rows(job)[2].errors == {}
    finish_import(team.rep1, job)
    assert Customer.objects.values_list("name", "address").get() == ("杭州华星 精密机械", "人民路 1号")


def test_over_long_values_are_row_errors(team):
    job = preview_import(
        team.rep1,
        "a.csv",
        csv_bytes([HEADERS, ["甲" * 201, "", "", "", ""], ["乙公司", "址" * 301, "", "注" * 10_001, "王" * 101]]),
    )
    rows = _rows(job)
    assert set(rows[2].errors) == {"name"}
    assert set(rows[3].errors) == {"address", "notes", "contact_name"}
    assert "10,000" in rows[3].errors["notes"][0]
    assert finish_import(team.rep1, job).report["created"] == 0


def test_web_addresses_are_http_or_https(team):
    job = preview_import(
        team.rep1,
        "a.csv",
        csv_bytes(
            [
                HEADERS,
                ["甲公司", "", "javascript:alert(1)", "", ""],
                ["乙公司", "", "ftp://files.example.cn", "", ""],
                ["丙公司", "", "data:text/html,x", "", ""],
                ["丁公司", "", "www.ding.com.cn", "", ""],
                ["戊公司", "", "https://wu.example.cn/about", "", ""],
            ]
        ),
    )
    rows = _rows(job)
    assert [set(rows[n].errors) for n in (2, 3, 4, 5, 6)] == [{"website"}, {"website"}, {"website"}, set(), set()]
    finish_import(team.rep1, job)
    assert dict(Customer.objects.values_list("name", "website")) == {
        "丁公司": "http://www.ding.com.cn",
        "戊公司": "https://wu.example.cn/about",
    }


def test_a_header_or_file_name_with_control_characters_does_not_break_the_upload(team):
    job = preview_import(team.rep1, "客\x00户.csv", csv_bytes([["客户名称\x07", "地址\x1b"], ["甲公司", "人民路"]]))
    assert job.status == ImportStatus.PREVIEW
    assert job.headers == ["客户名称", "地址"] and job.file_name == "客户.csv"


def test_a_nul_byte_makes_a_csv_unreadable_with_a_clear_message(team):
    # NUL bytes in "CSV" mean UTF-16 without its byte-order mark, or no text file at all.
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        preview_import(team.rep1, "a.csv", csv_bytes([HEADERS, ["甲\x00公司", "", "", "", ""]]))
    assert "encoding" in exc.value.message_dict["file"][0]


def test_lead_rows_follow_the_rule(team):
    from django.test import TestCase

    from kehu.integrations.models import ImportJob
    from kehu.integrations.services import import_job_create, import_job_set_mapping

    from .conftest import upload

    data = csv_bytes(
        [
            ["公司名称", "联系人", "手机", "备注"],
            ["杭州明远五金", "李女士", "13800001111", "询价\x07"],
            ["宁波东港\x1b化工", "陈", "13800002222", ""],
            ["温州宏达", "", "13800003333", "第一行\n第二行"],
        ]
    )
    job = import_job_create(actor=team.marketing1, uploaded=upload("leads.csv", data), target="leads")
    with TestCase.captureOnCommitCallbacks(execute=True):
        import_job_set_mapping(job=job, actor=team.marketing1, mapping=job.mapping)
    job = ImportJob.objects.get(pk=job.pk)
    rows = _rows(job)
    assert [set(rows[n].errors) for n in (2, 3, 4)] == [{"message"}, {"company_name"}, set()]
    finish_import(team.marketing1, job)
    assert list(Lead.objects.values_list("company_name", flat=True)) == ["温州宏达"]
