# ruff: noqa: F811 (the fixtures are imported by name)
"""Pages of quality and economics: who may see and write (anonymous, a rep, the quality specialist,
the service manager), the forms, the report page, the economics page's queries and its export."""

import io
from datetime import date, timedelta

import pytest
from django.utils import timezone

from kehu.support import quality_report
from kehu.support.models import DailyQualityReport, DefectType, ImprovementAction, Inspection, QualitySettings
from kehu.support.tests.returns_fixtures import book, quality  # noqa: F401

PAGES = [
    "/service/quality/inspections/",
    "/service/quality/inspections/new/",
    "/service/quality/actions/",
    "/service/quality/actions/new/",
    "/service/quality/reports/",
    "/service/quality/settings/",
    "/service/economics/",
]


def test_anonymous_goes_to_the_login(client):
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response["Location"], path


def test_a_rep_is_refused_and_writes_nothing(client, team, book):
    client.force_login(team.rep1)
    for path in PAGES:
        assert client.get(path).status_code == 403, path
    client.post(
        "/service/quality/inspections/new/",
        {"inspected_on": "2026-11-30", "product": book.lathe.pk, "inspected_quantity": "5"},
    )
    client.post("/service/quality/settings/", {"defect_type": "划伤"})
    assert not Inspection.objects.exists() and not DefectType.objects.exists()


@pytest.mark.parametrize("who", ["quality", "service1"])
def test_the_quality_people_see_every_page(client, team, quality, who):
    client.force_login(quality if who == "quality" else team.service1)
    for path in PAGES:
        assert client.get(path).status_code == 200, path


def test_record_an_inspection_and_an_action_through_the_forms(client, quality, book, team):
    client.force_login(quality)
    client.post("/service/quality/settings/", {"defect_type": "划伤"})
    scratch = DefectType.objects.get()
    bad = client.post(
        "/service/quality/inspections/new/",
        {
            "inspected_on": "2026-11-30",
            "product": book.lathe.pk,
            "inspected_quantity": "2",
            f"defect_{scratch.pk}": "3",
        },
    )
    assert bad.status_code == 200 and "3 defects in a lot of 2" in bad.content.decode()
    client.post(
        "/service/quality/inspections/new/",
        {
            "inspected_on": "2026-11-30",
            "product": book.lathe.pk,
            "inspected_quantity": "40",
            f"defect_{scratch.pk}": "2",
        },
    )
    assert Inspection.objects.get().defect_quantity == 2
    assert "5.00 %" in client.get("/service/quality/inspections/").content.decode()
    client.post(
        "/service/quality/actions/new/",
        {"description": "改进", "owner": team.service1.pk, "due_on": "2026-01-02", "source": "inspection"},
    )
    action = ImprovementAction.objects.get()
    page = client.get("/service/quality/actions/").content.decode()
    assert "table-danger" in page and "改进" in page
    client.post(f"/service/quality/actions/{action.pk}/move/", {"to": "done"})
    action.refresh_from_db()
    assert action.state == "done"


def test_settings_and_a_report_made_from_the_page(client, quality):
    client.force_login(quality)
    client.post(
        "/service/quality/settings/",
        {"recipients": "q@example.com", "defect_rate_threshold": "3", "report_hour": "6",
         "hourly_rate": "150", "retained_months": "6"},
    )  # fmt: skip
    found = QualitySettings.load()
    assert (found.recipients, found.hourly_rate, found.retained_months) == ("q@example.com", 150, 6)
    day = timezone.localdate() - timedelta(days=3)
    made = client.post("/service/quality/reports/", {"day": day.isoformat()})
    report = DailyQualityReport.objects.get()
    assert made["Location"] == f"/service/quality/reports/{report.pk}/"
    assert (report.day, report.mailed_to) == (day, "")
    page = client.get(made["Location"]).content.decode()
    assert 'id="fig-tickets">0<' in page


def test_the_report_page_shows_what_another_module_added(client, quality, monkeypatch):
    monkeypatch.setattr(quality_report, "SECTIONS", [])
    quality_report.register_section(lambda day: quality_report.Section("complaints", "投诉", ["编号"], [["TS-1"]]))
    report = quality_report.report_generate(day=date(2026, 11, 30), mail=False)
    client.force_login(quality)
    page = client.get(f"/service/quality/reports/{report.pk}/").content.decode()
    assert 'id="section-complaints"' in page and "TS-1" in page


def test_the_economics_page_and_its_export(client, quality, team, django_assert_max_num_queries):
    client.force_login(quality)
    client.get("/service/economics/")
    with django_assert_max_num_queries(16):
        page = client.get(f"/service/economics/?period=quarter&day=2026-11-17&team={team.east.pk}")
    text = page.content.decode()
    assert "2026-10-01 – 2026-12-31" in text and 'id="economics-chart"' in text and "cdn" not in text.lower()
    assert ">¥0.00</td>" in text and ">0</td>" in text  # money with its sign, counts without
    export = client.get("/service/economics/?period=year&day=2026-03-01&format=xlsx")
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(export.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][1] == "2026-01-01 – 2026-12-31" and rows[1] == ("Figure", "Amount or count", "Customers")
    assert ("Cost of service", 0, None) in rows
