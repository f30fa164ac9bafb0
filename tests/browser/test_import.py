"""Importing business cards: upload → map → preview → run → progress bar → report, with the
real database task queue (a worker drains it while the page polls the progress bar)."""

import csv
import io

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from .helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def db_tasks(settings, tmp_path):
    """Tasks go to the database queue, as in production; the test plays the worker."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "email"]}}
    settings.KEHU_TRANSFER_DIR = tmp_path / "transfer"

    def work():
        call_command("db_worker", batch=True, no_startup_delay=True, queue_name="default", verbosity=0)

    return work


def _cards() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["公司名称", "联系人", "职务", "手机号码", "邮箱", "地区", "行业"])
    writer.writerow(
        ["杭州华星精密机械有限公司", "王建国", "采购部经理", "13857112345", "wjg@hx.example.cn", "浙江", "机械设备"]
    )
    writer.writerow(
        ["苏州锦程电子科技有限公司", "刘芳", "技术总监", "13967154321", "lf@jc.example.cn", "江苏", "电子电器"]
    )
    writer.writerow(["宁波东港化工股份有限公司", "陈志强", "设备科科长", "13706818899", "不是邮箱", "浙江", "化工"])
    return out.getvalue().encode("gbk")  # what Chinese Excel saves


def test_import_business_cards_with_a_progress_bar(live_server, page, make_user, db_tasks, tmp_path):
    from kehu.customers.models import Customer

    rep = make_user("zhangwei", last_name="张", first_name="伟")
    sign_in(page, live_server.url, rep.username)
    page.goto(f"{live_server.url}/customers/")
    page.get_by_role("link", name="Import", exact=True).click()
    expect(page.locator("h1")).to_have_text("Import and export")

    upload = tmp_path / "展会名片.csv"
    upload.write_bytes(_cards())
    page.set_input_files("input[type=file]", str(upload))
    page.get_by_role("button", name="Upload and map columns").click()

    # Mapping: guessed from the Chinese headers, with the first values shown.
    expect(page.locator("h1")).to_have_text("Map the columns Customers and contacts")
    expect(page.locator("body")).to_contain_text("GBK")
    expect(page.get_by_label("公司名称")).to_have_value("name")
    expect(page.get_by_label("手机号码")).to_have_value("contact_mobile")
    expect(page.get_by_label("邮箱")).to_have_value("contact_email")
    page.get_by_label("职务").select_option("contact_position")
    page.get_by_role("button", name="Check the rows").click()

    # The preview runs in the worker: the page shows a progress bar and polls it.
    bar = page.locator("#progress .progress-bar")
    expect(bar).to_be_visible()
    expect(page.locator("#progress")).to_contain_text("Checking the rows")
    db_tasks()
    expect(page.locator("h1")).to_have_text("Review the rows Customers and contacts", timeout=15_000)
    expect(page.locator("#summary")).to_contain_text("3")
    expect(page.locator("#row-4")).to_contain_text("Enter a valid email address")
    page.get_by_role("link", name="With errors").click()
    expect(page.locator("#preview-rows tbody tr")).to_have_count(1)

    page.locator("#run-import").click()
    expect(page.locator("#progress .progress-bar")).to_be_visible()
    expect(page.locator("#progress")).to_contain_text("Waiting to run")
    db_tasks()
    expect(page.locator("h1")).to_have_text("Import report", timeout=15_000)
    expect(page.locator("#report")).to_contain_text("Created 2, updated 0, skipped 1")
    assert set(Customer.objects.filter(owner=rep).values_list("name", flat=True)) == {
        "杭州华星精密机械有限公司",
        "苏州锦程电子科技有限公司",
    }

    # The imported customers are found by the list's search.
    page.get_by_role("link", name="Go to the customers").click()
    page.fill("input[name=q]", "锦程")
    expect(page.locator("#results")).to_contain_text("苏州锦程电子科技有限公司")


def test_import_on_a_phone_without_javascript(live_server, make_context, make_user, db_tasks, tmp_path):
    from .helpers import no_horizontal_overflow

    rep = make_user("wangfang", last_name="王", first_name="芳")
    page = make_context(java_script_enabled=False, viewport={"width": 375, "height": 740}, locale="zh-CN").new_page()
    sign_in(page, live_server.url, rep.username)
    page.goto(f"{live_server.url}/transfer/")
    upload = tmp_path / "cards.csv"
    upload.write_bytes(_cards())
    page.set_input_files("input[type=file]", str(upload))
    page.locator("form[enctype] button[type=submit]").click()
    expect(page.locator("h1")).to_contain_text("对应字段")
    assert no_horizontal_overflow(page)
    page.locator("#mapping-form button[type=submit]").click()
    # Without scripts the progress page reloads itself (meta refresh) until the check is done.
    expect(page.locator("#progress .progress")).to_be_visible()
    db_tasks()
    expect(page.locator("h1")).to_contain_text("核对数据", timeout=15_000)
    assert no_horizontal_overflow(page)
    page.locator("#run-import").click()
    db_tasks()
    expect(page.locator("h1")).to_have_text("导入报告", timeout=15_000)
    expect(page.locator("#report")).to_contain_text("新建 2")


def test_import_a_company_template_with_the_sheet_header_and_value_steps(
    live_server, page, make_user, db_tasks, tmp_path
):
    """A company's own workbook: a menu sheet first, a title, a two-row header under merged group
    headers, totals and notes; unmatched picklist values are given their meaning on the way."""
    from kehu.customers.models import Customer
    from kehu.integrations.tests import corpus

    rep = make_user("zhaomin", last_name="赵", first_name="敏")
    sign_in(page, live_server.url, rep.username)
    page.goto(f"{live_server.url}/transfer/")
    upload = tmp_path / "华东区客户名录.xlsx"
    upload.write_bytes(corpus.template_xlsx())
    page.set_input_files("input[type=file]", str(upload))
    page.get_by_role("button", name="Upload and map columns").click()

    # The customer sheet and its two header rows are found; the top of the sheet is shown.
    expect(page.locator("h1")).to_have_text("Map the columns Customers and contacts")
    expect(page.locator("#layout")).to_contain_text("rows 4 and 5")
    expect(page.locator("#top-rows")).to_contain_text(corpus.TITLE)
    expect(page.get_by_label("Sheet")).to_have_value(corpus.SHEET)
    expect(page.get_by_label("联系人/电话")).to_have_value("contact_mobile")
    # Another sheet, and back.
    page.get_by_label("Sheet").select_option("旧数据")
    page.get_by_label("Column names in row").fill("1")
    page.get_by_label("The column names span two rows").uncheck()
    page.get_by_role("button", name="Read the column names there").click()
    expect(page.get_by_label("电话")).to_have_value("phone")
    page.get_by_label("Sheet").select_option(corpus.SHEET)
    page.get_by_label("Column names in row").fill("5")
    page.get_by_label("The column names span two rows").check()
    page.get_by_role("button", name="Read the column names there").click()
    expect(page.get_by_label("基本信息/客户名称")).to_have_value("name")
    page.get_by_role("button", name="Check the rows").click()

    # The value step: the guesses are filled in; 1688 is left empty on purpose.
    db_tasks()
    expect(page.locator("h1")).to_have_text("Match the values Customers and contacts", timeout=15_000)
    expect(page.get_by_label("机械")).to_have_value("machinery")
    expect(page.get_by_label("阿里巴巴")).to_have_value("internet")
    page.get_by_label("1688").select_option("")
    page.get_by_role("button", name="Check the rows").click()
    db_tasks()
    expect(page.locator("h1")).to_have_text("Review the rows Customers and contacts", timeout=15_000)
    expect(page.locator("#not-records")).to_contain_text("2 × blank row")
    expect(page.locator("#row-13")).to_contain_text("Skipped: total row")
    expect(page.locator("#row-9")).to_contain_text("1688")

    page.locator("#run-import").click()
    db_tasks()
    expect(page.locator("h1")).to_have_text("Import report", timeout=15_000)
    expect(page.locator("#report")).to_contain_text("Created 4, updated 0, skipped 0")
    expect(page.locator("#not-records")).to_contain_text("Not records, skipped: 7")
    assert Customer.objects.filter(owner=rep).count() == 4


def test_import_an_iphone_address_book(live_server, page, make_user, db_tasks):
    from pathlib import Path

    from kehu.customers.models import Contact

    corpus = Path(__file__).resolve().parents[2] / "kehu" / "integrations" / "tests" / "vcards"
    rep = make_user("lina", last_name="李", first_name="娜")
    sign_in(page, live_server.url, rep.username)
    page.goto(f"{live_server.url}/transfer/")
    page.set_input_files("input[type=file]", str(corpus / "iphone-3.0.vcf"))
    page.get_by_role("button", name="Upload and map columns").click()
    # Nothing to map: every card is read whole.
    expect(page.locator("#vcard-read")).to_contain_text("Each card is read whole")
    page.get_by_role("button", name="Check the cards").click()
    db_tasks()
    expect(page.locator("#vcard-summary")).to_contain_text("The file holds 4 cards (BEGIN:VCARD)", timeout=15_000)
    expect(page.locator("#row-1")).to_contain_text("The birthday has no year: it was kept as month and day (12-24).")
    expect(page.locator("#row-2")).to_contain_text("Company, no contact")
    expect(page.locator("#row-3")).to_contain_text("A group of contacts (a list)")
    expect(page.locator("#row-4")).to_contain_text("The photo could not be read and was left out.")
    page.locator("#run-import").click()
    db_tasks()
    expect(page.locator("h1")).to_have_text("Import report", timeout=15_000)
    report = page.locator("#vcard-report")
    expect(report.locator('[data-count="customers_created"]')).to_contain_text("3")
    expect(report.locator('[data-count="skipped_groups"]')).to_contain_text("1")
    expect(report).to_contain_text("3 new + 0 added to existing + 1 skipped = 4")
    wang = Contact.objects.get(name="王建国")
    # The customer's page dials every number of the card.
    page.goto(f"{live_server.url}/customers/{wang.customer_id}/")
    for number in ("tel:13857112345", "tel:13905716688", "tel:057188123456", "tel:057187654321", "tel:4008001234"):
        expect(page.locator(f'#contacts a[href="{number}"]')).to_have_count(1)
    expect(page.locator('#contacts a[href="mailto:wang@163.example.com"]')).to_have_count(0)
    expect(page.locator('#contacts a[href="mailto:wangjianguo@163.example.com"]')).to_have_count(1)
