"""Companies' own spreadsheets (the corpus in `corpus.py`) in each format: the sheet and the
two-row header are found, notes, totals, blank and repeated header rows are skipped with their
reason, picklist values that are none of the choices go through the value step, and what came
in adds up to what the file holds."""

from datetime import date, datetime

import pytest
from django.core.exceptions import ValidationError
from django.test import TestCase

from kehu.customers.models import Contact, Customer
from kehu.integrations.models import ImportJob, ImportMapping, ImportRow, ImportStatus, RowAction
from kehu.integrations.services import (
    import_job_create,
    import_job_set_layout,
    import_job_set_mapping,
    import_job_set_values,
)
from kehu.integrations.sheets import cell_text

from . import corpus
from .conftest import csv_bytes, finish_import, fixture_file, preview_import, upload, xlsx_bytes

pytestmark = pytest.mark.django_db

FORMATS = {
    "xlsx": ("华东区客户名录.xlsx", corpus.template_xlsx),
    "xls": ("华东区客户名录.xls", corpus.template_xls),
    "ods": ("华东区客户名录.ods", corpus.template_ods),
}
EXPECTED_MAPPING = {
    "1": "name",
    "2": "industry",
    "3": "source",
    "4": "contact_name",
    "5": "contact_mobile",
    "6": "contact_birthday",
    "7": "notes",
}


def _set_mapping(job, actor, mapping=None):
    with TestCase.captureOnCommitCallbacks(execute=True):
        import_job_set_mapping(job=job, actor=actor, mapping=job.mapping if mapping is None else mapping)
    return ImportJob.objects.get(pk=job.pk)


def _set_values(job, actor, values):
    with TestCase.captureOnCommitCallbacks(execute=True):
        import_job_set_values(job=job, actor=actor, values=values)
    return ImportJob.objects.get(pk=job.pk)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (13857112345.0, "13857112345"),  # a mobile typed as a number
        (13857112345, "13857112345"),
        (1.5, "1.5"),
        (1e-07, "0.0000001"),
        (1.2345678901234567e19, "12345678901234567000"),
        (date(2026, 5, 3), "2026-05-03"),
        (datetime(2026, 5, 3), "2026-05-03"),
        (datetime(2026, 5, 3, 10, 30), "2026-05-03 10:30:00"),
        (True, "1"),
        ("  王建国 ", "王建国"),
        ("", ""),
    ],
)
def test_cells_come_out_as_the_text_a_person_typed(value, text):
    assert cell_text(value) == text


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_a_company_template_in_each_format(team, fmt):
    name, build = FORMATS[fmt]
    job = import_job_create(actor=team.rep1, uploaded=upload(name, build()))
    assert job.format == fmt
    # The menu sheet comes first, a hidden and an empty sheet later: the customer sheet is chosen.
    assert job.sheet == corpus.SHEET
    assert [(s["name"], s["hidden"]) for s in job.sheets] == [
        ("返回目录", False),
        (corpus.SHEET, False),
        ("旧数据", True),
        ("Sheet3", False),
    ]
    assert (job.header_row, job.header_depth) == (corpus.HEADER_ROW, 2)
    assert job.headers == corpus.HEADERS
    assert job.mapping == EXPECTED_MAPPING  # 序号 is left out; 联系人/电话 is the contact's phone
    assert job.total_rows == corpus.ROWS_BELOW_HEADER

    job = _set_mapping(job, team.rep1)
    # 机械, 汽配 (industry) and 阿里巴巴, 1688 (source) are none of the choices: the value step.
    assert job.status == ImportStatus.VALUES
    assert {name: [(i["value"], i["count"], i["guess"]) for i in items] for name, items in job.unmatched.items()} == {
        "industry": [("机械", 1, "machinery"), ("汽配", 1, "automotive")],
        "source": [("阿里巴巴", 1, "internet"), ("1688", 1, "internet")],
    }
    job = _set_values(job, team.rep1, {"industry": {"机械": "machinery"}, "source": {"阿里巴巴": "internet"}})
    assert job.status == ImportStatus.PREVIEW, job.error
    assert job.report == {
        "rows": 4,
        "errors": 0,
        "warnings": 2,
        "duplicates": 0,
        "not_records": corpus.NOT_RECORDS,
    }
    staged = {r.number: r for r in ImportRow.objects.filter(job=job)}
    assert {n: r.skip_reason for n, r in staged.items() if r.skip_reason} == {
        10: "header",
        13: "total",
        14: "total",
        15: "note",
        16: "note",
    }
    assert staged[15].values == {"text": "注：本表由华东区销售部维护，每月更新。"}
    assert all(r.action == RowAction.SKIP for r in staged.values() if r.skip_reason)
    # Unmapped values import with the field empty and a warning.
    assert "汽配" in staged[11].warnings["industry"][0] and "industry" not in staged[11].values["customer"]
    assert "1688" in staged[9].warnings["source"][0]

    job = finish_import(team.rep1, job)
    assert job.status == ImportStatus.DONE, job.error
    # What came in adds up: records created, every other row below the header skipped with a reason.
    assert job.report["created"] == len(corpus.RECORDS) == Customer.objects.count()
    assert job.report["skipped"] == 0
    assert job.report["created"] + sum(job.report["not_records"].values()) == corpus.ROWS_BELOW_HEADER
    huaxing = Customer.objects.get(name="杭州华星精密机械有限公司")
    assert (huaxing.industry, huaxing.source, huaxing.notes) == ("machinery", "trade_show", "老客户")
    wang = Contact.objects.get(customer=huaxing)
    assert (wang.name, wang.mobile, wang.birthday) == ("王建国", "13857112345", date(1978, 5, 3))
    liu = Contact.objects.get(name="刘芳")
    assert (liu.mobile, liu.birthday, liu.customer.source) == ("13967154321", date(1985, 6, 12), "internet")
    assert Customer.objects.get(name="宁波东港化工股份有限公司").source == ""
    assert not Customer.objects.filter(name__in=["旧数据有限公司", "小计", "合计：", "客户名称"]).exists()


def test_the_value_mapping_is_remembered_for_the_next_file_of_the_template(team):
    job = import_job_create(actor=team.rep1, uploaded=upload("一月.xlsx", corpus.template_xlsx()))
    job = _set_mapping(job, team.rep1)
    job = _set_values(
        job,
        team.rep1,
        {"industry": {"机械": "machinery", "汽配": "automotive"}, "source": {"阿里巴巴": "internet", "1688": ""}},
    )
    assert job.status == ImportStatus.PREVIEW and job.report["warnings"] == 1  # 1688 left empty on purpose
    remembered = ImportMapping.objects.get(signature=job.signature)
    assert remembered.value_mapping == {
        "industry": {"机械": "machinery", "汽配": "automotive"},
        "source": {"阿里巴巴": "internet", "1688": ""},
    }
    assert remembered.layout == {"sheet": corpus.SHEET, "header_row": 5, "header_depth": 2}

    records = [list(r) for r in corpus.RECORDS]
    records[0][1], records[3][1] = "杭州新星机械有限公司", "常州汽配有限公司"
    second = import_job_create(actor=team.rep2, uploaded=upload("二月.xlsx", corpus.template_xlsx(records)))
    assert second.mapping_remembered and second.value_mapping == remembered.value_mapping
    second = _set_mapping(second, team.rep2)
    # Every unmatched value has its meaning already: no value step.
    assert second.status == ImportStatus.PREVIEW
    second = finish_import(team.rep2, second)
    assert Customer.objects.get(name="杭州新星机械有限公司").industry == "machinery"
    assert Customer.objects.get(name="常州汽配有限公司").industry == "automotive"


def test_the_header_row_can_be_corrected_and_is_remembered(team):
    # Column names Kehu does not know under a title in two cells: the title looks more like a header.
    rows = [
        ["客户名录（内部）", "2026年"],
        [],
        ["甲方单位", "对接人", "对接人手机"],
        ["杭州华星", "王建国", 13857112345],
    ]
    job = import_job_create(actor=team.rep1, uploaded=upload("名录.xlsx", xlsx_bytes(rows)))
    assert job.header_row == 1 and job.headers == ["客户名录（内部）", "2026年"]
    job = import_job_set_layout(job=job, actor=team.rep1, header_row=3, header_depth=1)
    assert job.status == ImportStatus.MAPPING
    assert (job.header_row, job.headers, job.total_rows) == (3, ["甲方单位", "对接人", "对接人手机"], 1)
    job = _set_mapping(job, team.rep1, {"0": "name", "1": "contact_name", "2": "contact_mobile"})
    assert job.status == ImportStatus.PREVIEW and job.report["rows"] == 1

    # The next file of the template: the saved header place is tried, and fits.
    rows[3] = ["苏州锦程", "刘芳", 13967154321]
    again = import_job_create(actor=team.rep1, uploaded=upload("名录2.xlsx", xlsx_bytes(rows)))
    assert again.header_row == 3 and again.mapping_remembered
    assert again.mapping == {"0": "name", "1": "contact_name", "2": "contact_mobile"}


def test_another_sheet_can_be_chosen(team):
    job = import_job_create(actor=team.rep1, uploaded=upload("名录.xlsx", corpus.template_xlsx()))
    job = import_job_set_layout(job=job, actor=team.rep1, sheet="旧数据")
    assert (job.sheet, job.header_row, job.headers) == ("旧数据", 1, ["客户名称", "联系人", "电话"])
    assert job.mapping == {"0": "name", "1": "contact_name", "2": "phone"} and job.total_rows == 1
    with pytest.raises(ValidationError, match="is empty"):
        import_job_set_layout(job=job, actor=team.rep1, sheet="Sheet3")
    with pytest.raises(ValidationError, match="no sheet"):
        import_job_set_layout(job=job, actor=team.rep1, sheet="不存在")
    with pytest.raises(ValidationError, match="first 30 rows"):
        import_job_set_layout(job=job, actor=team.rep1, header_row=31)
    job.refresh_from_db()
    assert job.sheet == "旧数据"
    # Back to the customer sheet with the header found again.
    job = import_job_set_layout(job=job, actor=team.rep1, sheet=corpus.SHEET, header_row=0)
    assert (job.header_row, job.header_depth, job.mapping) == (5, 2, EXPECTED_MAPPING)
    # One row deep by choice: the group names are dropped.
    job = import_job_set_layout(job=job, actor=team.rep1, header_row=5, header_depth=1)
    assert job.headers[:3] == ["", "客户名称", "行业"] and job.header_depth == 1


def test_a_gbk_csv_with_a_title_row_and_a_total_row(team):
    job = preview_import(team.rep1, "展会客户.csv", corpus.titled_gbk_csv())
    assert (job.encoding, job.header_row, job.headers) == ("GBK", 3, ["客户名称", "联系人", "手机", "行业"])
    assert job.report["rows"] == 2 and job.report["not_records"] == {"total": 1}
    job = finish_import(team.rep1, job)
    assert job.report["created"] == 2
    assert set(Customer.objects.values_list("name", flat=True)) == {
        "杭州华星精密机械有限公司",
        "苏州锦程电子科技有限公司",
    }


def test_a_plain_file_still_reads_its_first_row_as_the_header(team):
    job = preview_import(team.rep1, "a.csv", csv_bytes([["Company", "Mobile"], ["Acme", "13857112345"]]))
    assert job.header_row == 1 and job.header_depth == 1 and job.report["rows"] == 1


def test_an_encrypted_workbook_says_so(team):
    # Made by files/make_encrypted.py: an .xlsx protected with a password by Excel's standard encryption.
    with pytest.raises(ValidationError) as caught:
        import_job_create(actor=team.rep1, uploaded=upload("加密.xlsx", fixture_file("encrypted.xlsx")))
    assert "protected by a password" in caught.value.message_dict["file"][0]


def test_an_encrypted_workbook_error_is_in_chinese(team):
    from django.utils import translation

    with translation.override("zh-hans"), pytest.raises(ValidationError) as caught:
        import_job_create(actor=team.rep1, uploaded=upload("加密.xlsx", fixture_file("encrypted.xlsx")))
    assert "密码" in caught.value.message_dict["file"][0]


def test_a_damaged_xls_and_ods_say_so(team):
    data = corpus.template_xls()
    with pytest.raises(ValidationError, match="damaged"):
        import_job_create(actor=team.rep1, uploaded=upload("坏.xls", data[: len(data) // 3]))
    data = corpus.template_ods()
    with pytest.raises(ValidationError, match="damaged"):
        import_job_create(actor=team.rep1, uploaded=upload("坏.ods", data[: len(data) // 2]))


def test_value_guesses(team):
    from kehu.integrations.fields import FIELDS, guess_choice

    assert guess_choice(FIELDS["industry"], "机械") == "machinery"  # inside 机械设备
    assert guess_choice(FIELDS["industry"], "汽车配件") == "automotive"
    assert guess_choice(FIELDS["industry"], "五金加工") == "machinery"
    assert guess_choice(FIELDS["source"], "阿里巴巴国际站") == "internet"
    assert guess_choice(FIELDS["source"], "老客户介绍") == "referral"
    assert guess_choice(FIELDS["industry"], "Kitchenware") == ""  # "it" is not looked for inside words
    assert guess_choice(FIELDS["tier"], "钻石") == ""


def test_values_for_fields_that_are_not_picklists_are_refused(team):
    job = import_job_create(actor=team.rep1, uploaded=upload("名录.xlsx", corpus.template_xlsx()))
    job = _set_mapping(job, team.rep1)
    for values in ({"name": {"x": "y"}}, {"industry": {"机械": "steel"}}):
        with pytest.raises(ValidationError):
            import_job_set_values(job=job, actor=team.rep1, values=values)
    job.refresh_from_db()
    assert job.status == ImportStatus.VALUES and job.value_mapping == {}


@pytest.fixture
def named_team(team):
    team.rep1.last_name, team.rep1.first_name = "张", "伟"
    team.rep1.save()
    team.rep2.last_name, team.rep2.first_name = "李", "娜"
    team.rep2.save()
    return team


def test_owner_columns_take_logins_names_and_emails_and_the_preview_shows_names(named_team):
    from kehu.integrations.views import _row_view

    team = named_team
    rows = [
        ["客户名称", "负责人"],
        ["甲公司", "rep1"],
        ["乙公司", "李娜"],
        ["丙公司", "REP1@example.com"],
        ["丁公司", "王五"],
    ]
    job = preview_import(team.manager1, "a.csv", csv_bytes(rows))
    staged = {r.number: r for r in ImportRow.objects.filter(job=job)}
    assert [staged[n].values.get("owner") for n in (2, 3, 4)] == ["rep1", "rep2", "rep1"]
    assert [_row_view(job, staged[n])["owner"] for n in (2, 3, 4)] == ["张伟", "李娜", "张伟"]
    assert "王五" in staged[5].errors["owner"][0]
    job = finish_import(team.manager1, job)
    assert Customer.objects.get(name="乙公司").owner == team.rep2


def test_a_display_name_two_people_share_asks_for_the_login(named_team):
    team = named_team
    team.rep2.last_name, team.rep2.first_name = "张", "伟"
    team.rep2.save()
    job = preview_import(team.manager1, "a.csv", csv_bytes([["客户名称", "负责人"], ["甲公司", "张伟"]]))
    [row] = ImportRow.objects.filter(job=job)
    assert "Several people are called “张伟”" in row.errors["owner"][0]


def test_rows_without_owner_show_the_importer_by_name(named_team):
    from kehu.integrations.views import _row_view

    job = preview_import(named_team.rep1, "a.csv", csv_bytes([["客户名称"], ["甲公司"]]))
    [row] = ImportRow.objects.filter(job=job)
    assert _row_view(job, row)["owner"] == "张伟"


def test_leads_import_reads_the_company_template_too(team):
    from kehu.leads.models import Lead

    job = preview_import(
        team.marketing1,
        "展会线索.xlsx",
        corpus.template_xlsx(),
        target="leads",
        values={"industry": {"汽配": "automotive"}},
    )
    assert (job.sheet, job.header_row, job.header_depth) == (corpus.SHEET, 5, 2)
    assert job.mapping["1"] == "company_name" and job.mapping["5"] == "phone"
    assert job.report["rows"] == 4 and job.report["not_records"] == corpus.NOT_RECORDS
    job = finish_import(team.marketing1, job)
    assert job.report["created"] == 4
    lead = Lead.objects.get(company_name="杭州华星精密机械有限公司")
    assert (lead.phone, lead.industry, lead.source) == ("13857112345", "machinery", "trade_show")
    assert Lead.objects.get(company_name="无锡恒力汽车零部件有限公司").industry == "automotive"


def test_choices_refuse_to_create_a_row_that_is_not_a_record(team):
    from kehu.integrations.services import import_job_choose

    job = preview_import(team.rep1, "展会客户.csv", corpus.titled_gbk_csv())
    with pytest.raises(ValidationError, match="not a record"):
        import_job_choose(job=job, actor=team.rep1, rows={"6": "create"})


@pytest.mark.parametrize(
    ("cells", "reason"),
    [
        (["1", "杭州华星", "王建国"], ""),
        (["2", "注塑机械有限公司", "刘芳"], ""),  # a name that starts like a note is a record
        (["3", "合计精工有限公司", "陈"], ""),  # and like a total
        (["", "", ""], "blank"),
        (["4"], "blank"),  # 序号 only: nothing in the imported columns
        (["注：以上为重点客户"], "note"),
        (["说明:", "每月更新"], "note"),
        (["Note: updated monthly"], "note"),
        (["总计", "", "", "12"], "total"),
        (["", "小计（华东）", "", "3"], "total"),
        (["Total", "", "", "12"], "total"),
        (["序号", "客户名称", "联系人"], "header"),
    ],
)
def test_rows_that_are_not_records(cells, reason):
    from kehu.integrations.layout import skip_reason

    assert skip_reason(cells, [1, 2], [["序号", "客户名称", "联系人"]]) == reason


def test_a_chosen_sheet_is_remembered_for_the_next_workbook(team):
    job = import_job_create(actor=team.rep1, uploaded=upload("名录.xlsx", corpus.template_xlsx()))
    job = import_job_set_layout(job=job, actor=team.rep1, sheet="旧数据")
    job = _set_mapping(job, team.rep1)
    assert job.status == ImportStatus.PREVIEW
    again = import_job_create(actor=team.rep2, uploaded=upload("名录2.xlsx", corpus.template_xlsx()))
    assert (again.sheet, again.header_row, again.mapping_remembered) == ("旧数据", 1, True)
    assert again.total_rows == 1
