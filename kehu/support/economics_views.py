"""The service economics page (SRV-6) under /service/economics/ and its .xlsx export."""

import io
from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from kehu.core.export_pages import export_refused
from kehu.core.exports import ExportRefusedError, export_log, export_require
from kehu.core.params import date_param, id_param, text_param
from kehu.core.spreadsheet_safety import xlsx_row
from kehu.support import economics as eco
from kehu.support.export_kinds import SERVICE_ECONOMICS
from kehu.users.models import Department

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PERM = "support.view_service_economics"


def _labels() -> dict:
    return {
        "labour": _("Engineers' time"),
        "parts": _("Parts not charged"),
        "travel": _("Travel"),
        "rma": _("Returns"),
        "retained": _("Orders of serviced customers"),
        "follow_on": _("Follow-on sales"),
    }


def _rows(result: eco.Economics) -> list[tuple[str, object, str]]:
    """(label, value, customers) as the page and the export list them."""
    return [
        (_("Visits finished"), result.visits, ""),
        (_("Engineers' minutes"), result.minutes, ""),
        (_("Engineers' time"), result.labour, ""),
        (_("Parts not charged"), result.parts, ""),
        (_("Travel"), result.travel, ""),
        (_("Returns remedied"), result.rma_count, ""),
        (_("Costs of returns"), result.rma_costs, ""),
        (_("Cost of service"), result.cost, ""),
        (_("Serviced customers"), result.serviced_customers, ""),
        (_("Orders of serviced customers"), result.retained_orders, result.retained_customers),
        (_("Follow-on sales"), result.follow_on, result.follow_on_customers),
    ]


@require_GET
def economics_page(request):
    user = request.user
    if not user.has_perm(PERM):
        raise PermissionDenied
    period = text_param(request, "period", 10)
    period = period if period in eco.PERIODS else "month"
    day = date_param(request, "day") or timezone.localdate()
    department_id = id_param(request, "team")
    department = Department.objects.filter(pk=department_id).first() if department_id else None
    start, end = eco.period_bounds(period, day)
    result = eco.economics(start=start, end=end, department=department)
    if request.GET.get("format") == "xlsx":
        try:
            return _xlsx(user, result, department, period)
        except ExportRefusedError as exc:
            return export_refused(request, exc.decision)
    return render(
        request,
        "support/economics/page.html",
        {
            "result": result,
            "rows": _rows(result),
            "chart": eco.chart(result, _labels()),
            "period": period,
            "periods": [("month", _("Month")), ("quarter", _("Quarter")), ("year", _("Year"))],
            "day": day,
            "start": start,
            "last": end - timedelta(days=1),
            "department": department,
            "departments": Department.objects.order_by("path"),
            "tab": "economics",
            "query": request.GET.urlencode(),
        },
    )


def _xlsx(user, result: eco.Economics, department, period: str) -> HttpResponse:
    """Through the export policy (kehu.core.exports): a dozen figures, never enough to need a reason."""
    from openpyxl import Workbook

    rows = _rows(result)
    export_require(user, SERVICE_ECONOMICS, len(rows))

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Service economics")[:31])
    sheet.append(
        xlsx_row(
            sheet,
            [
                _("Period"),
                f"{result.start:%Y-%m-%d} – {result.end - timedelta(days=1):%Y-%m-%d}",
                department.name if department else _("Whole company"),
            ],
        )
    )
    sheet.append(xlsx_row(sheet, [_("Figure"), _("Amount or count"), _("Customers")]))
    for label, value, customers in rows:
        sheet.append(xlsx_row(sheet, [label, float(value), customers if customers != "" else None]))
    buffer = io.BytesIO()
    workbook.save(buffer)
    export_log(
        actor=user,
        kind=SERVICE_ECONOMICS,
        rows=len(rows),
        fmt="xlsx",
        period=period,
        start=result.start.isoformat(),
        team=department.pk if department else None,
    )
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="service-economics-{result.start:%Y-%m-%d}.xlsx"'
    return response
