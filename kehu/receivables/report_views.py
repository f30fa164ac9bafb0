"""Pages of the ageing report, the customer statement, what a customer owes, the collection ranking
and the credit settings (SAL-9, SAL-11, CLS-4)."""

import io
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core.export_pages import export_refused, reason_of
from kehu.core.exports import ExportRefusedError
from kehu.core.forms import apply_errors
from kehu.core.pagination import MAX_OFFSET
from kehu.core.params import parse_id, parse_int
from kehu.customers.selectors import customer_get
from kehu.integrations import storage
from kehu.integrations.models import ExportStatus
from kehu.receivables import ageing, credit, ranking, report_exports
from kehu.receivables import statement as statements
from kehu.receivables.models import OPEN_PLAN_STATES, CustomerBalance, PaymentPlan, ReceivablesSettings
from kehu.receivables.report_forms import CreditCheckForm, CreditSettingsForm, PeriodForm

PAGE_SIZE = 50
PLANS_SHOWN = 30
STATEMENT_LINES_SHOWN = 100
OWED_DATES_SHOWN = 12
PLAN_PERM = "receivables.view_paymentplan"


def _id(value):
    """A record id from the query (1 … 2**53), 0 for "no department", else None."""
    if value == "0":
        return 0
    return parse_id(value) if isinstance(value, str) else None


def _offset(value) -> int:
    found = parse_int(value.strip()) if isinstance(value, str) else None
    return min(max(found or 0, 0), MAX_OFFSET)


def _download(data: bytes, content_type: str, name: str) -> HttpResponse:
    response = FileResponse(io.BytesIO(data), as_attachment=True, filename=name, content_type=content_type)
    response["Cache-Control"] = "private, no-store"
    return response


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def ageing_report(request):
    """Departments → reps → customers → (customer money page: the plans)."""
    ageing.check_view(request.user)
    level = request.GET.get("level", "department")
    level = level if level in ageing.LEVELS else "department"
    department = _id(request.GET.get("department"))
    owner = _id(request.GET.get("owner")) or None
    offset = _offset(request.GET.get("offset"))
    if request.GET.get("format") == "xlsx":
        try:
            data, job = report_exports.ageing_export(
                actor=request.user, level=level, department=department, owner=owner, reason=reason_of(request)
            )
        except ExportRefusedError as exc:
            return export_refused(request, exc.decision)
        if job is not None:
            messages.info(request, _("The export is large; it is being written and will be ready to download here."))
            return redirect("receivables_reports:export", pk=job.pk)
        return _download(data, XLSX, report_exports.file_name())
    context = {
        "level": level,
        "department": department,
        "department_name": ageing.department_name(department),
        "owner": owner,
        "buckets": ageing.bucket_labels(),
        "scope_label": ageing.scope_label(request.user),
        "today": timezone.localdate(),
        "export_query": request.GET.copy(),
    }
    if level == "customer":
        page, rows = ageing.customer_page(
            request.user, department=department, owner=owner, offset=offset, limit=PAGE_SIZE
        )
        owner_name = ""
        if owner:
            from kehu.users.models import User

            owner_name = User.objects.filter(pk=owner).first()
        context.update(
            page=page,
            rows=rows,
            owner_name=owner_name.display_name if owner_name else "",
            offset=offset,
            next_offset=offset + PAGE_SIZE,
            previous_offset=max(offset - PAGE_SIZE, 0),
        )
    else:
        context["summary"] = ageing.ageing_summary(request.user, level=level, department=department)
    return render(request, "receivables/reports/ageing.html", context)


def export_detail(request, pk):
    job = report_exports.job_get(request.user, pk)
    return render(request, "receivables/reports/export.html", {"job": job})


def export_download(request, pk):
    job = report_exports.job_get(request.user, pk)
    path = storage.absolute(job.stored_path) if job.status == ExportStatus.DONE else None
    if path is None or not path.exists():
        messages.error(request, _("This export is not available (files are kept for a few days)."))
        return redirect("receivables_reports:export", pk=job.pk)
    response = FileResponse(open(path, "rb"), as_attachment=True, filename=report_exports.file_name())  # noqa: SIM115
    response["Cache-Control"] = "private, no-store"
    return response


def _customer_for_money(request, pk):
    customer = customer_get(request.user, pk)
    if not request.user.has_perm(PLAN_PERM):
        raise PermissionDenied
    return customer


def statement_page(request, pk):
    customer = _customer_for_money(request, pk)
    first, last = statements.default_period()
    asked = "first" in request.GET or "last" in request.GET
    form = PeriodForm(request.GET if asked else None, initial={"first": first, "last": last})
    if asked:
        if not form.is_valid():
            return render(
                request, "receivables/reports/statement.html", {"customer": customer, "form": form}, status=400
            )
        first, last = form.cleaned_data["first"], form.cleaned_data["last"]
    fmt = request.GET.get("format")
    if fmt in ("pdf", "xlsx"):
        statement = statements.statement_build(customer, first, last)
        if fmt == "pdf":
            content, kind, suffix = statements.statement_pdf(statement), "application/pdf", ".pdf"
        else:
            content, kind, suffix = statements.statement_xlsx(statement), XLSX, ".xlsx"
        return _download(content, kind, statements.file_name(statement, suffix))
    # The page shows the lines a page at a time (a dealer's quarter can run to thousands of lines);
    # the PDF and the workbook carry them all.
    page = _page_number(request)
    offset = (page - 1) * STATEMENT_LINES_SHOWN
    statement = statements.statement_build(customer, first, last, offset=offset, limit=STATEMENT_LINES_SHOWN)
    if offset and not statement.lines:
        page, offset = 1, 0
        statement = statements.statement_build(customer, first, last, limit=STATEMENT_LINES_SHOWN)
    owed_later = statement.owed_by_due[OWED_DATES_SHOWN:]
    return render(
        request,
        "receivables/reports/statement.html",
        {
            "customer": customer,
            "form": form,
            "s": statement,
            "rows": statements.rows_html(statement),
            "query": f"first={first.isoformat()}&last={last.isoformat()}",
            "page": page,
            "pages": max(1, -(-statement.line_count // STATEMENT_LINES_SHOWN)),
            "first_line": offset + 1,
            "last_line": offset + len(statement.lines),
            "owed_shown": statement.owed_by_due[:OWED_DATES_SHOWN],
            "owed_later_dates": len(owed_later),
            "owed_later": sum((amount for _due, amount in owed_later), Decimal("0")),
            "today": timezone.localdate(),
        },
    )


def _page_number(request) -> int:
    found = parse_int(request.GET.get("page", "").strip())
    return min(max(found or 1, 1), MAX_OFFSET // STATEMENT_LINES_SHOWN)


def customer_money(request, pk):
    """What this customer owes (phone first): balance, limit, overdue, the open plans by bucket, a credit check."""
    customer = _customer_for_money(request, pk)
    today = timezone.localdate()
    balance = CustomerBalance.objects.filter(customer_id=customer.pk).first()
    plans = list(
        PaymentPlan.objects.filter(customer_id=customer.pk, state__in=OPEN_PLAN_STATES)
        .select_related("contract", "order")
        .order_by("due_on", "pk")[: PLANS_SHOWN + 1]
    )
    more_plans = len(plans) > PLANS_SHOWN
    plans = plans[:PLANS_SHOWN]
    for plan in plans:
        plan.bucket = ageing.bucket_of(plan.due_on, today)
        plan.days_overdue = (today - plan.due_on).days if plan.due_on and plan.due_on < today else 0
    # The buckets count every open plan (summed in the database), not only the ones listed.
    row = ageing.customer_buckets(customer.pk, balance, today)
    limit = credit.credit_limit(customer.pk)
    exposure = balance.exposure if balance else 0
    form = CreditCheckForm(request.GET if "amount" in request.GET else None)
    verdict = None
    if form.is_bound and form.is_valid():
        verdict = credit.credit_verdict(customer.pk, form.cleaned_data["amount"], conf=ReceivablesSettings.current())
    context = {
        "customer": customer,
        "balance": balance,
        "plans": plans,
        "more_plans": more_plans,
        "row": row,
        "buckets": ageing.bucket_labels(),
        "limit": limit,
        "exposure": exposure,
        "over_limit": exposure > limit,
        "form": form,
        "verdict": verdict,
        "today": today,
    }
    if request.htmx and "amount" in request.GET:
        return render(request, "receivables/reports/customer_money.html#credit-check", context)
    return render(request, "receivables/reports/customer_money.html", context)


def collection_ranking(request):
    if not (request.user.has_perm("receivables.view_ageing") or request.user.has_perm("sales.view_forecast")):
        raise PermissionDenied
    period = request.GET.get("period", "month")
    period = period if period in ranking.PERIODS else "month"
    first, last = ranking.period_bounds(period)
    rows = ranking.collection_ranking(request.user, period)
    return render(
        request,
        "receivables/reports/ranking.html",
        {"rows": rows, "period": period, "periods": ranking.PERIODS, "first": first, "last": last},
    )


def credit_settings(request):
    if not credit.may_manage_credit(request.user):
        raise PermissionDenied
    conf = ReceivablesSettings.current()
    form = CreditSettingsForm(request.POST or None, instance=conf)
    if request.method == "POST" and form.is_valid():
        try:
            credit.receivables_settings_update(
                actor=request.user, **{k: form.cleaned_data[k] for k in CreditSettingsForm.Meta.fields}
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Settings saved."))
            return redirect(reverse("receivables_reports:credit-settings"))
    return render(request, "receivables/reports/credit_settings.html", {"form": form, "conf": conf})
