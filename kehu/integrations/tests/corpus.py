"""A company's own customer list, as Chinese offices keep it, written the way Excel, WPS/Excel 97
(.xls) and LibreOffice (.ods) write it: a menu sheet (返回目录) first, a title row, a blank row, a
two-row header under merged group headers (基本信息, 联系人) with a 序号 column, mobiles typed
as numbers, birthdays as date cells, a blank row, a numbered but empty template row, the header
repeated for printing, 小计/合计 rows, "注：" and "制表人：" notes, a hidden sheet and an empty one.

Its four records and eleven other rows below the header are the expectations of the tests.
"""

import io
import zipfile
from datetime import date, datetime
from xml.sax.saxutils import escape

TITLE = "2026年华东区客户名录"
SHEET = "华东区客户"
GROUPS = ["序号", "基本信息", None, None, "联系人", None, None, "备注"]
NAMES = [None, "客户名称", "行业", "来源", "姓名", "电话", "生日", None]
HEADERS = [
    "序号",
    "基本信息/客户名称",
    "基本信息/行业",
    "基本信息/来源",
    "联系人/姓名",
    "联系人/电话",
    "联系人/生日",
    "备注",
]
RECORDS = [
    [1, "杭州华星精密机械有限公司", "机械", "展会", "王建国", 13857112345, date(1978, 5, 3), "老客户"],
    [2, "苏州锦程电子科技有限公司", "电子电器", "阿里巴巴", "刘芳", 13967154321, datetime(1985, 6, 12), None],
    [3, "宁波东港化工股份有限公司", "化工", "1688", "陈志强", 13706818899, None, None],
    [4, "无锡恒力汽车零部件有限公司", "汽配", "转介绍", "周丽", "135 1234 5678", None, "重点跟进"],
]
BLANK = [None] * 8


def template_rows(records=None) -> list[list]:
    """The sheet's rows from row 1; the header is rows 4 and 5, the records start at row 6."""
    a, b, c, d = records or RECORDS
    return [
        [TITLE, None, None, None, None, None, None, None],  # 1, merged A1:H1
        BLANK,  # 2
        ["制表日期：2026-01-05", None, None, None, None, None, None, None],  # 3
        GROUPS,  # 4: 序号 and 备注 merged down, 基本信息 over B:D, 联系人 over E:G
        NAMES,  # 5
        a,  # 6
        b,  # 7
        BLANK,  # 8 blank
        c,  # 9
        NAMES,  # 10 the header repeated for printing
        d,  # 11
        [5, None, None, None, None, None, None, None],  # 12 a numbered template row left empty
        ["小计", None, None, None, None, None, None, "4家"],  # 13
        ["合计：", None, None, None, None, None, None, "4家"],  # 14
        ["注：本表由华东区销售部维护，每月更新。", None, None, None, None, None, None, None],  # 15, merged A15:H15
        ["制表人：张三", None, None, None, None, None, None, None],  # 16
    ]


# (first row, first column, last row, last column), 0-based
MERGES = [(0, 0, 0, 7), (3, 0, 4, 0), (3, 1, 3, 3), (3, 4, 3, 6), (3, 7, 4, 7), (14, 0, 14, 7)]
HEADER_ROW = 5
# Below the header: 4 records; 2 blank (row 8 and the empty template row 12), 1 repeated
# header, 2 totals, 2 notes.
NOT_RECORDS = {"blank": 2, "header": 1, "total": 2, "note": 2}
ROWS_BELOW_HEADER = 16 - HEADER_ROW

MENU = [["返回目录"], ["客户名录"], ["联系人"], ["说明"]]
OLD = [["客户名称", "联系人", "电话"], ["旧数据有限公司", "旧人", "13000000000"]]


def template_xlsx(records=None) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    menu = workbook.active
    menu.title = "返回目录"
    for row in MENU:
        menu.append(row)
    sheet = workbook.create_sheet(SHEET)
    for r, row in enumerate(template_rows(records), start=1):
        for c, value in enumerate(row, start=1):
            if value is not None:
                cell = sheet.cell(row=r, column=c, value=value)
                if isinstance(value, (date, datetime)):
                    cell.number_format = "yyyy-mm-dd"
    for r0, c0, r1, c1 in MERGES:
        sheet.merge_cells(start_row=r0 + 1, start_column=c0 + 1, end_row=r1 + 1, end_column=c1 + 1)
    hidden = workbook.create_sheet("旧数据")
    hidden.sheet_state = "hidden"
    for row in OLD:
        hidden.append(row)
    workbook.create_sheet("Sheet3")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def template_xls(records=None) -> bytes:
    """As Excel 97-2003 (and WPS) write it: BIFF8 in a compound file."""
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    menu = book.add_sheet("返回目录")
    for r, row in enumerate(MENU):
        menu.write(r, 0, row[0])
    sheet = book.add_sheet(SHEET)
    dates = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    merged = {(r0, c0): (r1, c1) for r0, c0, r1, c1 in MERGES}
    covered = {(r, c) for r0, c0, r1, c1 in MERGES for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)}
    for r, row in enumerate(template_rows(records)):
        for c, value in enumerate(row):
            if (r, c) in merged:
                r1, c1 = merged[(r, c)]
                sheet.write_merge(r, r1, c, c1, value if value is not None else "")
            elif (r, c) in covered or value is None:
                continue
            elif isinstance(value, (date, datetime)):
                sheet.write(r, c, value, dates)
            else:
                sheet.write(r, c, value)
    hidden = book.add_sheet("旧数据")
    for r, row in enumerate(OLD):
        for c, value in enumerate(row):
            hidden.write(r, c, value)
    hidden.visibility = 1  # hidden
    book.add_sheet("Sheet3")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


ODS_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:number="urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0" '
    'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"'
)


def _ods_cell(value, span=None) -> str:
    attrs = ""
    if span:
        rows, columns = span
        attrs = f' table:number-rows-spanned="{rows}" table:number-columns-spanned="{columns}"'
    if value is None:
        return f"<table:table-cell{attrs}/>"
    if isinstance(value, (date, datetime)):
        iso = value.isoformat() if isinstance(value, datetime) else value.isoformat()
        return (
            f'<table:table-cell{attrs} office:value-type="date" office:date-value="{iso}">'
            f"<text:p>{value:%Y-%m-%d}</text:p></table:table-cell>"
        )
    if isinstance(value, (int, float)):
        return (
            f'<table:table-cell{attrs} office:value-type="float" office:value="{value}">'
            f"<text:p>{value}</text:p></table:table-cell>"
        )
    return f'<table:table-cell{attrs} office:value-type="string"><text:p>{escape(value)}</text:p></table:table-cell>'


def _ods_table(name: str, rows: list[list], merges=(), style: str = "ta1") -> str:
    spans = {(r0, c0): (r1 - r0 + 1, c1 - c0 + 1) for r0, c0, r1, c1 in merges}
    covered = {(r, c) for r0, c0, r1, c1 in merges for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)}
    out = [f'<table:table table:name="{escape(name)}" table:style-name="{style}">']
    for r, row in enumerate(rows):
        cells = []
        for c, value in enumerate(row):
            if (r, c) in covered and (r, c) not in spans:
                cells.append("<table:covered-table-cell/>")
            else:
                cells.append(_ods_cell(value, spans.get((r, c))))
        out.append("<table:table-row>" + "".join(cells) + "</table:table-row>")
    if not rows:
        out.append("<table:table-row><table:table-cell/></table:table-row>")
    out.append("</table:table>")
    return "".join(out)


def template_ods(records=None) -> bytes:
    """As LibreOffice and WPS write OpenDocument: the mimetype first and stored, then content.xml."""
    body = "".join(
        [
            _ods_table("返回目录", MENU),
            _ods_table(SHEET, template_rows(records), MERGES),
            _ods_table("旧数据", OLD, style="ta_hidden"),
            _ods_table("Sheet3", []),
        ]
    )
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ODS_NS} office:version="1.2">'
        "<office:automatic-styles>"
        '<style:style style:name="ta1" style:family="table"><style:table-properties table:display="true"/></style:style>'
        '<style:style style:name="ta_hidden" style:family="table"><style:table-properties table:display="false"/>'
        "</style:style></office:automatic-styles>"
        f"<office:body><office:spreadsheet>{body}</office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED
        )
        archive.writestr("content.xml", content)
        archive.writestr("META-INF/manifest.xml", manifest)
    return buffer.getvalue()


def titled_gbk_csv() -> bytes:
    """A CSV saved by Chinese Excel from such a template: GBK, a title row, a blank row, a total row."""
    lines = [
        "2026年展会客户名单,,,",
        ",,,",
        "客户名称,联系人,手机,行业",
        "杭州华星精密机械有限公司,王建国,13857112345,机械设备",
        "苏州锦程电子科技有限公司,刘芳,13967154321,电子电器",
        "合计,2家,,",
    ]
    return ("\r\n".join(lines) + "\r\n").encode("gbk")
