"""Each format imports: CSV in UTF-8, UTF-8 with BOM and GBK; .xlsx with Chinese headers;
vCards from an iPhone (3.0, folded photo), Android (2.1 quoted-printable) and Thunderbird (4.0)."""

import pytest
from django.core.exceptions import ValidationError

from kehu.customers.models import Contact, Customer, TimelineEntry
from kehu.customers.search import search_candidates, search_text_for
from kehu.integrations.events import TransferEvent
from kehu.integrations.models import ImportStatus
from kehu.integrations.services import import_job_create

from .conftest import csv_bytes, fixture_file, preview_import, run_import, upload, xlsx_bytes

pytestmark = pytest.mark.django_db

CHINESE_ROWS = [
    ["客户名称", "联系人", "职务", "手机", "邮箱", "电话", "地区", "城市", "地址", "行业", "统一社会信用代码", "备注"],
    [
        "杭州华星精密机械有限公司",
        "王建国",
        "采购部经理",
        "13857112345",
        "wangjg@hzhuaxing.example.cn",
        "0571-88123456",
        "浙江",
        "杭州",
        "余杭区良渚街道好运街 88 号",
        "机械设备",
        "91330110MA2H0X1Y4E",
        "展会名片",
    ],
    ["苏州锦程电子科技有限公司", "刘芳", "技术总监", "13967154321", "", "", "江苏", "苏州", "", "电子电器", "", ""],
]


def _valid_code():
    from kehu.customers.services import CREDIT_CHARS, CREDIT_WEIGHTS

    body = "91330110MA2H0X1Y4"
    total = sum(CREDIT_CHARS.index(c) * w for c, w in zip(body, CREDIT_WEIGHTS, strict=True))
    return body + CREDIT_CHARS[(31 - total % 31) % 31]


def _rows():
    rows = [list(r) for r in CHINESE_ROWS]
    rows[1][10] = _valid_code()
    return rows


def _assert_imported(job, owner):
    assert job.status == ImportStatus.DONE, job.error
    assert job.report["created"] == 2 and job.report["contacts_created"] == 2
    huaxing = Customer.objects.get(name="杭州华星精密机械有限公司")
    assert (huaxing.owner, huaxing.region, huaxing.city, huaxing.industry) == (owner, "浙江", "杭州", "machinery")
    assert huaxing.phone == "0571-88123456" and huaxing.credit_code == _valid_code()
    assert huaxing.name_key == "杭州华星精密机械" and huaxing.notes == "展会名片"
    wang = Contact.objects.get(customer=huaxing)
    assert (wang.name, wang.position, wang.mobile, wang.email, wang.is_primary) == (
        "王建国",
        "采购部经理",
        "13857112345",
        "wangjg@hzhuaxing.example.cn",
        True,
    )
    # The search tables are in step: the text is what the service would write, and both indexes find it.
    assert huaxing.search_text == search_text_for(huaxing, [wang])
    for term in ("华星", "华星精密", "13857112345"):
        candidates, _complete, _every = search_candidates(term)
        assert Customer.objects.filter(candidates, pk=huaxing.pk).exists(), term
    entry = TimelineEntry.objects.get(customer=huaxing)
    assert entry.kind == TransferEvent.IMPORTED and entry.payload["job"] == job.pk


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_in_each_encoding_imports(team, encoding):
    job = run_import(team.rep1, "客户名单.csv", csv_bytes(_rows(), encoding))
    assert job.encoding == {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 (BOM)", "gbk": "GBK", "gb18030": "GBK"}[encoding]
    _assert_imported(job, team.rep1)


def test_semicolon_and_tab_separated_csv(team):
    data = "\n".join(";".join(r) for r in _rows()).encode("gbk")
    _assert_imported(run_import(team.rep1, "list.csv", data), team.rep1)


def test_xlsx_with_chinese_headers_and_numbers_as_phones(team):
    rows = _rows()
    rows[1][3] = 13857112345  # Excel keeps a typed mobile number as a number
    job = run_import(team.rep1, "客户.xlsx", xlsx_bytes(rows))
    _assert_imported(job, team.rep1)


def test_english_headers_are_guessed(team):
    rows = [["Company", "Contact Person", "Mobile", "E-mail", "Province", "Industry", "Tier"]]
    rows.append(
        [
            "Ningbo Donggang Chemicals Co., Ltd.",
            "Chen Zhiqiang",
            "+86 137 0681 8899",
            "c@d.cn",
            "Zhejiang",
            "Chemicals",
            "Key",
        ]
    )
    job = preview_import(team.rep1, "en.csv", csv_bytes(rows))
    assert job.mapping == {
        "0": "name",
        "1": "contact_name",
        "2": "contact_mobile",
        "3": "contact_email",
        "4": "region",
        "5": "industry",
        "6": "tier",
    }
    assert job.report == {"rows": 1, "errors": 0, "warnings": 0, "duplicates": 0, "not_records": {}}


def test_iphone_vcard_3_with_folded_photo(team):
    job = run_import(team.rep1, "iPhone 通讯录.vcf", fixture_file("iphone-3.0.vcf"))
    assert job.status == ImportStatus.DONE, job.error
    assert job.report["created"] == 2
    wang = Contact.objects.get(name="王建国")
    assert (wang.customer.name, wang.position, wang.mobile, wang.office_phone, str(wang.birthday)) == (
        "杭州华星精密机械有限公司",
        "采购部经理",
        "138 5711 2345",
        "0571-88123457",
        "1978-05-03",
    )
    assert wang.email == "wangjg@hzhuaxing.example.cn"
    assert (wang.customer.address, wang.customer.city, wang.customer.region) == ("良渚街道好运街 88 号", "杭州", "浙江")
    liu = Contact.objects.get(name="Fang Liu")
    assert liu.customer.name == "Suzhou Jincheng Electronics Co., Ltd." and liu.mobile == "+86 139 6715 4321"
    assert liu.customer.notes == "Met at CIMT 2026, booth E2-101"


def test_android_vcard_2_1_quoted_printable_chinese(team):
    job = run_import(team.rep1, "contacts.vcf", fixture_file("android-2.1.vcf"))
    assert job.status == ImportStatus.DONE, job.error
    chen = Contact.objects.get(name="陈志强")
    assert chen.customer.name == "宁波东港化工股份有限公司设备科"
    assert (chen.position, chen.mobile, chen.office_phone) == ("设备科科长", "13706818899", "0574-87651200")
    assert chen.customer.city == "宁波" and chen.customer.address == "北仑区港口路 1 号"
    # A card without ORG is a person: the customer is named after them.
    zhao = Contact.objects.get(name="赵敏")
    assert (zhao.customer.name, zhao.customer.kind) == ("赵敏", "person")


def test_thunderbird_vcard_4_with_uri_phones_and_data_photo(team):
    job = run_import(team.rep1, "thunderbird.vcf", fixture_file("thunderbird-4.0.vcf"))
    assert job.status == ImportStatus.DONE, job.error
    zhou = Contact.objects.get(name="周丽")
    assert (zhou.customer.name, zhou.position, zhou.mobile, zhou.office_phone) == (
        "无锡恒力汽车零部件有限公司",
        "销售总监",
        "+86-135-1234-5678",
        "+86-510-8234-5678",
    )
    assert str(zhou.birthday) == "1985-06-12" and zhou.email == "zhouli@hengli.example.cn"
    assert zhou.customer.website == "https://hengli.example.cn"


def test_an_unreadable_vcard_is_a_row_error_not_a_failed_file(team):
    data = fixture_file("iphone-3.0.vcf") + b"BEGIN:VCARD\r\nVERSION:3.0\r\nN:;;\x01\r\nBDAY:\r\n:::\r\nEND:VCARD\r\n"
    job = preview_import(team.rep1, "mixed.vcf", data)
    assert job.status == ImportStatus.PREVIEW
    assert job.report["rows"] == 3


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.csv", b"", "The file is empty."),
        ("blank.csv", b"   \n\n", "The file is empty."),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "damaged or not an Excel"),
        ("photo.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 50, "not a spreadsheet"),
        ("broken.xlsx", b"PK\x03\x04garbage", "damaged or not an Excel"),
        ("broken.ods", b"PK\x03\x04garbage", "damaged or not an Excel"),
        (
            "export.xls",
            "<html><table><tr><td>客户名称</td></tr></table></html>".encode(),
            "web page saved with an Excel name",
        ),
        ("latin1.csv", "客户名称\n".encode("utf-16-le")[2:] + b"\x81\xff\xfe\x80\x00", "encoding"),
        ("headers-only.csv", "客户名称,联系人\n".encode(), "no rows"),
        ("cards.vcf", b"BEGIN:VCARDS nothing here", "No vCard"),
    ],
)
def test_bad_files_get_a_clear_error(team, name, data, message):
    with pytest.raises(ValidationError) as caught:
        import_job_create(actor=team.rep1, uploaded=upload(name, data))
    assert message in " ".join(caught.value.message_dict["file"])


def test_bad_file_errors_are_in_chinese_for_chinese_users(team):
    from django.utils import translation

    with translation.override("zh-hans"), pytest.raises(ValidationError) as caught:
        import_job_create(actor=team.rep1, uploaded=upload("empty.csv", b""))
    assert caught.value.message_dict["file"] == ["文件是空的。"]


def test_too_big_and_too_many_rows(team, settings):
    settings.KEHU_IMPORT_MAX_BYTES = 100
    with pytest.raises(ValidationError, match="too big"):
        import_job_create(actor=team.rep1, uploaded=upload("a.csv", b"x" * 101))
    settings.KEHU_IMPORT_MAX_BYTES = 10_000_000
    settings.KEHU_IMPORT_MAX_ROWS = 3
    rows = [["客户名称"]] + [[f"客户{i}"] for i in range(4)]
    with pytest.raises(ValidationError, match="at most 3"):
        import_job_create(actor=team.rep1, uploaded=upload("a.csv", csv_bytes(rows)))
    with pytest.raises(ValidationError, match="at most 3"):
        import_job_create(actor=team.rep1, uploaded=upload("a.xlsx", xlsx_bytes(rows)))


def test_outlook_vcard_2_1_in_gb2312_with_quoted_printable_address(team):
    job = run_import(team.rep1, "Outlook.vcf", fixture_file("outlook-2.1-gb2312.vcf"))
    assert job.status == ImportStatus.DONE, job.error
    assert job.encoding == "GB2312"
    zhou = Contact.objects.get(name="周丽")
    assert (zhou.customer.name, zhou.position, zhou.mobile, zhou.office_phone) == (
        "无锡恒力汽车零部件有限公司",
        "销售总监",
        "135 1234 5678",
        "(0510) 8234-5678",
    )
    assert (zhou.customer.address, zhou.customer.city, zhou.customer.region) == ("锡山区友谊路 8 号", "无锡", "江苏")


EXCEL_SHEET = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:D3"/><sheetData>
<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c><c r="D1" t="s"><v>3</v></c></row>
<row r="2"><c r="A2" t="s"><v>4</v></c><c r="B2" t="s"><v>5</v></c><c r="C2" s="1"><v>28613</v></c></row>
<row r="3"><c r="A3" t="s"><v>6</v></c><c r="D3" t="s"><v>7</v></c><c r="E3"><v>1.3857112345E10</v></c></row>
</sheetData></worksheet>"""
EXCEL_STRINGS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="8" uniqueCount="8">
<si><t>客户名称</t></si><si><t>联系人</t></si><si><t>生日</t></si><si><t>备注</t></si>
<si><r><rPr><b/></rPr><t>杭州</t></r><r><t>华星</t></r></si><si><t xml:space="preserve"> 王建国 </t></si>
<si><t>宁波东港</t></si><si><t>只有备注</t></si></sst>"""
EXCEL_WORKBOOK = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"
 xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
<sheets><sheet name="客户" sheetId="1" r:id="rId1"/></sheets></workbook>"""
EXCEL_ROOT_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
 Target="xl/workbook.xml"/></Relationships>"""
EXCEL_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
 Target="worksheets/sheet1.xml"/></Relationships>"""


def excel_style_xlsx() -> bytes:
    """A workbook as Excel writes it: shared strings (one with rich text), a date as a serial number,
    a number in exponent form, and empty cells left out."""
    import zipfile
    from io import BytesIO

    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("_rels/.rels", EXCEL_ROOT_RELS)
        archive.writestr("xl/workbook.xml", EXCEL_WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", EXCEL_RELS)
        archive.writestr("xl/worksheets/sheet1.xml", EXCEL_SHEET)
        archive.writestr("xl/sharedStrings.xml", EXCEL_STRINGS)
    return buffer.getvalue()


def test_xlsx_as_excel_writes_it(team):
    from datetime import date

    job = run_import(team.rep1, "客户.xlsx", excel_style_xlsx())
    assert job.status == ImportStatus.DONE, job.error
    assert job.headers == ["客户名称", "联系人", "生日", "备注"] and job.total_rows == 2
    wang = Contact.objects.get(name="王建国")
    assert wang.customer.name == "杭州华星" and wang.birthday == date(1978, 5, 3)
    assert Customer.objects.get(name="宁波东港").notes == "只有备注"


def test_a_spreadsheet_contact_gets_its_department_and_its_numbers_as_points(team):
    from kehu.customers.points import points_of

    rows = [
        ["客户名称", "联系人", "部门", "手机", "办公电话", "邮箱", "微信"],
        ["杭州华星", "王建国", "采购部", "13857112345", "0571-88123456", "wangjg@hzhuaxing.example.cn", "wangjg_hz"],
    ]
    job = run_import(team.rep1, "a.csv", csv_bytes(rows))
    assert job.status == ImportStatus.DONE, job.error
    wang = Contact.objects.get(name="王建国")
    assert wang.department == "采购部"
    assert [(p.medium, p.kind, p.value) for p in points_of(wang)] == [
        ("phone", "mobile", "13857112345"),
        ("phone", "work", "0571-88123456"),
        ("email", "work", "wangjg@hzhuaxing.example.cn"),
        ("im", "wechat", "wangjg_hz"),
    ]
