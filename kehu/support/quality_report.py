"""The daily quality-anomaly report (质量异常分析日报表, SRV-5).

Made every morning (a periodic job, hourly, that does the work once the configured hour is past and
the previous day has no report yet) from that day's tickets (by category and by product), returns,
inspections whose defect rate is above the threshold, and the improvement actions past their
deadline. Other parts of the service app add sections through `register_section` (complaints do:
their function is called with the day and answers a `Section`), so this module needs none of them.

The figures are stored on a `DailyQualityReport` row (past days stay readable as they were made),
shown on a page and mailed to the list the quality specialist keeps, through the outbox."""

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Q, Sum
from django.tasks import task
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core import events
from kehu.core.mail import queue_email
from kehu.core.schedule import periodic
from kehu.support.models import Ticket, TicketState
from kehu.support.models_quality import (
    ActionState,
    DailyQualityReport,
    ImprovementAction,
    Inspection,
    InspectionDefect,
    QualitySettings,
)
from kehu.support.models_returns import ReturnRequest
from kehu.support.rma_events import ReturnEvent


@dataclass
class Section:
    """A part of the report another module contributes: a title and a small table."""

    key: str
    title: str
    columns: list[str] = field(default_factory=list)
    rows: list[list] = field(default_factory=list)


SECTIONS: list[Callable[[date], Section | None]] = []


def register_section(function: Callable[[date], "Section | None"]) -> Callable:
    """Add a section to every report from now on (called from an AppConfig.ready or a module import)."""
    if function not in SECTIONS:
        SECTIONS.append(function)
    return function


def _day_q(day: date, name: str = "created_at") -> Q:
    tz = timezone.get_current_timezone()
    start = datetime.combine(day, datetime.min.time(), tzinfo=tz)
    return Q(**{f"{name}__gte": start, f"{name}__lt": start + timedelta(days=1)})


def build(day: date, *, quality: QualitySettings | None = None) -> dict:
    """The report's figures for `day`, as plain JSON."""
    quality = quality or QualitySettings.load()
    tickets = Ticket.objects.filter(_day_q(day), deleted_at__isnull=True).exclude(state=TicketState.CANCELLED)
    by_category = list(
        tickets.values("category__name")
        .annotate(n=Count("pk"))
        .order_by("-n", F("category__name").asc(nulls_first=True))
    )
    by_product = list(
        tickets.values("unit__product__name")
        .annotate(n=Count("pk"))
        .order_by("-n", F("unit__product__name").asc(nulls_first=True))
    )
    rmas = list(
        ReturnRequest.objects.filter(_day_q(day) | Q(received_on=day))
        .values(
            "pk", "number", "customer__name", "order_line__name", "order_line__specification_name",
            "quantity", "remedy", "state", "created_at", "received_on", "reason",
        )
        .order_by("number")
    )  # fmt: skip
    inspections = Inspection.objects.filter(inspected_on=day)
    totals = inspections.aggregate(n=Count("pk"), inspected=Sum("inspected_quantity"), defects=Sum("defect_quantity"))
    threshold = quality.defect_rate_threshold
    # defect / inspected > threshold / 100, kept in whole numbers: defects × 100 > threshold × inspected
    anomalies = list(
        inspections.filter(defect_quantity__gt=0)
        .annotate(scaled=F("defect_quantity") * 10000)
        .filter(scaled__gt=F("inspected_quantity") * int(threshold * 100))
        .select_related("product", "specification", "inspector")
        .order_by("product__name", "batch", "pk")
    )
    defect_rows = {}
    for row in (
        InspectionDefect.objects.filter(inspection__in=[a.pk for a in anomalies])
        .values("inspection_id", "defect_type__name", "quantity")
        .order_by("-quantity", "defect_type__name")
    ):
        defect_rows.setdefault(row["inspection_id"], []).append([row["defect_type__name"], row["quantity"]])
    overdue = list(
        ImprovementAction.objects.filter(state=ActionState.OPEN, due_on__lte=day)
        .select_related("owner")
        .order_by("due_on", "pk")[:200]
    )
    extra = []
    for function in SECTIONS:
        section = function(day)
        if section is not None:
            extra.append(asdict(section))
    return {
        "day": day.isoformat(),
        "threshold": str(threshold),
        "tickets": {
            "total": sum(r["n"] for r in by_category),
            "by_category": [[r["category__name"] or "", r["n"]] for r in by_category],
            "by_product": [[r["unit__product__name"] or "", r["n"]] for r in by_product],
        },
        "rmas": {
            "opened": sum(1 for r in rmas if timezone.localtime(r["created_at"]).date() == day),
            "received": sum(1 for r in rmas if r["received_on"] == day),
            "rows": [
                {
                    "id": r["pk"],
                    "number": r["number"],
                    "customer": r["customer__name"],
                    "product": f"{r['order_line__name']} {r['order_line__specification_name']}".strip(),
                    "quantity": f"{r['quantity'].normalize():f}",
                    "remedy": r["remedy"],
                    "state": r["state"],
                    "reason": r["reason"][:200],
                }
                for r in rmas
            ],
        },
        "inspections": {
            "count": totals["n"] or 0,
            "inspected": totals["inspected"] or 0,
            "defects": totals["defects"] or 0,
            "anomalies": [
                {
                    "id": a.pk,
                    "product": a.product.name,
                    "specification": a.specification.name if a.specification_id else "",
                    "batch": a.batch,
                    "inspected": a.inspected_quantity,
                    "defects": a.defect_quantity,
                    "rate": str(a.defect_rate),
                    "inspector": a.inspector.display_name,
                    "by_type": defect_rows.get(a.pk, []),
                }
                for a in anomalies
            ],
        },
        "overdue_actions": [
            {
                "id": a.pk,
                "description": a.description[:200],
                "owner": a.owner.display_name,
                "due_on": a.due_on.isoformat(),
                "days_late": (day - a.due_on).days + 1,
                "source": a.source,
                "source_id": a.source_id,
            }
            for a in overdue
        ],
        "extra": extra,
    }


def anomaly_count(data: dict) -> int:
    return len(data.get("inspections", {}).get("anomalies", [])) + len(data.get("overdue_actions", []))


@transaction.atomic
def report_generate(*, day: date, now: datetime | None = None, mail: bool = True, actor=None) -> DailyQualityReport:
    """Make (or make again) the report of `day` and mail it to the list."""
    now = now or timezone.now()
    quality = QualitySettings.load()
    data = build(day, quality=quality)
    report, _created = DailyQualityReport.objects.update_or_create(
        day=day, defaults={"data": data, "generated_at": now, "mailed_to": "", "mail_id": None}
    )
    recipients = quality.recipient_list
    if mail and recipients:
        sent = queue_email(
            "support/quality/email/daily_report",
            {
                "report": report,
                "data": data,
                "day": day,
                "anomalies": anomaly_count(data),
                "link": f"{settings.KEHU_BASE_URL.rstrip('/')}/service/quality/reports/{report.pk}/",
            },
            recipients,
            language=settings.LANGUAGE_CODE,
        )
        report.mailed_to = "\n".join(recipients)
        report.mail_id = sent.pk if sent else None
        report.save(update_fields=["mailed_to", "mail_id"])
    events.record(
        ReturnEvent.QUALITY_REPORT,
        actor=actor,
        subject=report,
        summary=_("Daily quality report of %(day)s") % {"day": day.isoformat()},
        link=f"/service/quality/reports/{report.pk}/",
    )
    return report


def report_due(now: datetime | None = None) -> date | None:
    """The day whose report should be made now: yesterday, once the report hour is past, if not made."""
    local = timezone.localtime(now or timezone.now())
    if local.hour < QualitySettings.load().report_hour:
        return None
    yesterday = local.date() - timedelta(days=1)
    if DailyQualityReport.objects.filter(day=yesterday).exists():
        return None
    return yesterday


@periodic(every=timedelta(hours=1))
@task()
def daily_quality_report_task(now: str | None = None) -> dict:
    """Idempotent: the previous day's report is made once (the first run after the report hour)."""
    day = report_due(datetime.fromisoformat(now) if now else None)
    if day is None:
        return {"made": None}
    report = report_generate(day=day, now=datetime.fromisoformat(now) if now else None)
    return {"made": report.day.isoformat(), "mailed_to": report.mailed_to.count("\n") + bool(report.mailed_to)}


def _decimal_rate(value) -> Decimal:
    return Decimal(str(value or "0"))
