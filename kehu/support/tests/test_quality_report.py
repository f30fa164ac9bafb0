# ruff: noqa: F811 (the fixtures are imported by name)
"""The daily quality-anomaly report (质量异常分析日报表) on a fixed day: exact figures from tickets,
returns, inspections above the threshold, overdue improvement actions and a section another module
adds; made once by the morning job and mailed to its list through a real SMTP server on loopback."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from kehu.catalog.models import Product
from kehu.core.schedule import discover
from kehu.support import quality_report, quality_services, rma_services
from kehu.support.models import (
    DailyQualityReport,
    DefectType,
    InstalledUnit,
    QualitySettings,
    ReturnRequest,
    TicketCategory,
)
from kehu.support.services import ticket_open
from kehu.support.tests.returns_fixtures import aftersales, book, customer, lathe_line, order, quality  # noqa: F401

SH = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 11, 30)


def at(d: date, hour: int, minute: int = 0) -> datetime:
    return datetime(d.year, d.month, d.day, hour, minute, tzinfo=SH)


@pytest.fixture
def day_of_work(team, customer, book, aftersales, quality, lathe_line):
    repair = TicketCategory.objects.create(name="维修")
    misuse = TicketCategory.objects.create(name="误操作")
    unit = InstalledUnit.objects.create(customer=customer, product=book.lathe, specification=book.lathe_a)
    for hour, category, with_unit in [(9, repair, True), (10, repair, False), (11, misuse, True), (23, misuse, False)]:
        ticket_open(actor=team.service1, customer=customer, subject="故障", category=category,
                    unit=unit if with_unit else None, now=at(DAY, hour, 30))  # fmt: skip
    ticket_open(
        actor=team.service1, customer=customer, subject="前一天", category=repair, now=at(DAY, 0) - timedelta(minutes=1)
    )
    ticket_open(
        actor=team.service1, customer=customer, subject="后一天", category=repair, now=at(DAY + timedelta(days=1), 0)
    )
    rma_services.rma_create(
        actor=aftersales, order_line=lathe_line, quantity=2, reason="主轴异响", remedy="repair", now=at(DAY, 14)
    )
    rma_services.rma_create(actor=aftersales, order_line=lathe_line, quantity=1, reason="包装破损", remedy="repackage", now=at(DAY, 8) - timedelta(days=3))  # fmt: skip
    scratch, crack = DefectType.objects.create(name="划伤"), DefectType.objects.create(name="裂纹")
    oil = Product.objects.get(code="YY-46")
    ins = quality_services.inspection_record
    ins(
        actor=quality,
        inspected_on=DAY,
        product=book.lathe,
        batch="B-01",
        inspected_quantity=200,
        defects=[(scratch, 3), (crack, 2)],
    )  # fmt: skip  (2.5 %: above 2 %)
    ins(
        actor=quality,
        inspected_on=DAY,
        product=book.lathe,
        batch="B-02",
        inspected_quantity=100,
        defects=[(scratch, 2)],
    )  # fmt: skip  (2 %: not above)
    ins(actor=quality, inspected_on=DAY, product=oil, batch="Y-7", inspected_quantity=50, defects=[(crack, 4)])  # 8 %
    ins(
        actor=quality,
        inspected_on=DAY - timedelta(days=1),
        product=oil,
        batch="Y-6",
        inspected_quantity=10,
        defects=[(crack, 9)],
    )  # fmt: skip  (another day)
    act = quality_services.action_create
    act(actor=quality, description="加强包装", owner=aftersales, due_on=DAY - timedelta(days=2), source="rma")
    act(actor=quality, description="今天到期", owner=quality, due_on=DAY)
    act(actor=quality, description="还没到期", owner=quality, due_on=DAY + timedelta(days=1))
    done = act(actor=quality, description="已完成", owner=quality, due_on=DAY - timedelta(days=5))
    quality_services.action_transition(action=done, actor=quality, to="done")
    settings = QualitySettings.load()
    settings.recipients = "quality-list@example.com\nboss@example.com"
    settings.save()


def test_the_figures_of_a_fixed_day(day_of_work):
    data = quality_report.build(DAY)
    assert data["tickets"] == {
        "total": 4,
        "by_category": [["维修", 2], ["误操作", 2]],
        "by_product": [["", 2], ["数控车床", 2]],
    }
    assert (data["rmas"]["opened"], data["rmas"]["received"]) == (1, 0)
    assert [r["reason"] for r in data["rmas"]["rows"]] == ["主轴异响"]
    assert (data["inspections"]["count"], data["inspections"]["inspected"], data["inspections"]["defects"]) == (
        3,
        350,
        11,
    )
    anomalies = data["inspections"]["anomalies"]
    assert [(a["batch"], a["rate"], a["by_type"]) for a in anomalies] == [
        ("B-01", "2.50", [["划伤", 3], ["裂纹", 2]]),
        ("Y-7", "8.00", [["裂纹", 4]]),
    ]
    assert [(a["description"], a["days_late"]) for a in data["overdue_actions"]] == [("加强包装", 3), ("今天到期", 1)]
    assert data["extra"] == []


def test_a_section_added_by_another_module_is_in_the_report(day_of_work, monkeypatch):
    def complaints(day):
        return quality_report.Section(key="complaints", title="投诉", columns=["编号"], rows=[[f"TS-{day:%m%d}"]])

    monkeypatch.setattr(quality_report, "SECTIONS", [])
    quality_report.register_section(complaints)
    quality_report.register_section(complaints)
    assert quality_report.build(DAY)["extra"] == [
        {"key": "complaints", "title": "投诉", "columns": ["编号"], "rows": [["TS-1130"]]}
    ]


def test_the_morning_job_makes_the_report_once_and_mails_it(day_of_work, smtp, django_capture_on_commit_callbacks):
    assert discover()["kehu.support.quality_report.daily_quality_report_task"].every == timedelta(hours=1)
    task = quality_report.daily_quality_report_task
    with django_capture_on_commit_callbacks(execute=True):
        early = task.enqueue(now=at(DAY + timedelta(days=1), 6, 30).isoformat())
        made = task.enqueue(now=at(DAY + timedelta(days=1), 7, 5).isoformat())
        again = task.enqueue(now=at(DAY + timedelta(days=1), 8, 5).isoformat())
    assert early.return_value == {"made": None}
    assert made.return_value == {"made": "2026-11-30", "mailed_to": 2}
    assert again.return_value == {"made": None}
    report = DailyQualityReport.objects.get()
    assert report.day == DAY and report.data["tickets"]["total"] == 4
    assert len(smtp.messages) == 1
    mail = smtp.messages[0]
    assert sorted(mail["To"].split(", ")) == ["boss@example.com", "quality-list@example.com"]
    assert mail["Subject"] == "Daily quality-anomaly report 2026-11-30 · 4 anomalies"
    body = mail.get_content()
    assert "B-01: 5/200 = 2.50 % (划伤 3, 裂纹 2)" in body
    assert "加强包装" in body and f"/service/quality/reports/{report.pk}/" in body


def test_settings_are_checked(quality, team):
    with pytest.raises(Exception) as refused:
        quality_services.quality_settings_update(
            actor=quality, recipients="a@example.com\nnot-an-address", defect_rate_threshold="2",
            report_hour=7, hourly_rate="100", retained_months=12,
        )  # fmt: skip
    assert refused.value.message_dict["recipients"] == ["Not an e-mail address: not-an-address"]
    assert QualitySettings.load().recipients == ""
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        quality_services.quality_settings_update(
            actor=team.rep1, recipients="", defect_rate_threshold="2", report_hour=7, hourly_rate="1", retained_months=1
        )


def test_defects_cannot_exceed_the_lot(quality, book):
    scratch = DefectType.objects.create(name="划伤")
    with pytest.raises(Exception) as refused:
        quality_services.inspection_record(
            actor=quality, inspected_on=DAY, product=book.lathe, inspected_quantity=3, defects=[(scratch, 4)]
        )
    assert refused.value.message_dict["defects"] == ["4 defects in a lot of 3: no more defects than pieces."]


def test_action_states(quality, aftersales, team):
    action = quality_services.action_create(actor=quality, description="改进", owner=aftersales, due_on=DAY)
    from django.core.exceptions import PermissionDenied, ValidationError

    with pytest.raises(PermissionDenied):
        quality_services.action_transition(action=action, actor=team.rep1, to="done")
    with pytest.raises(ValidationError):
        quality_services.action_transition(action=action, actor=quality, to="verified")
    action = quality_services.action_transition(action=action, actor=aftersales, to="done")  # its owner
    with pytest.raises(PermissionDenied):
        quality_services.action_transition(action=action, actor=aftersales, to="verified")
    action = quality_services.action_transition(action=action, actor=quality, to="verified")
    assert action.state == "verified" and action.verified_by == quality
    assert ReturnRequest.objects.count() == 0
