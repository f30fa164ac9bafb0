"""Complaint pages (投诉, SRV-2) under /service/complaints/: the list, registration, a complaint with
its step timeline and the open step's form, corrections, the handling notice and the investigation
report as PDF, and the statistics report (投诉统计报表) with charts and .xlsx export. Each view
parses input, calls a selector or a service, renders."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.catalog.models import Specification
from kehu.core.exceptions import ConcurrentEditError
from kehu.core.export_pages import handles_export_refusal, reason_of
from kehu.core.exports import export_log, export_require
from kehu.core.forms import apply_errors
from kehu.core.pagination import page_of
from kehu.core.params import id_param, page_param, parse_id, text_param
from kehu.customers.search import search_candidates
from kehu.customers.selectors import contacts_of, customer_get, customer_qs_visible_to
from kehu.orders.models import OrderLine
from kehu.quotes.document_views import pdf_response
from kehu.support import complaint_documents as documents
from kehu.support import complaint_report as report
from kehu.support import complaint_selectors as selectors
from kehu.support import complaint_services as services
from kehu.support.complaint_forms import (
    STEP_FORMS,
    ComplaintEditForm,
    ComplaintFilterForm,
    ComplaintForm,
    MoveForm,
    PlanForm,
    ReportForm,
    StepMetaForm,
)
from kehu.support.export_kinds import COMPLAINT_REPORT
from kehu.support.models_complaints import ComplaintState, ComplaintStepKind
from kehu.support.selectors import people_who_may, ticket_qs_visible_to, unit_qs_visible_to

PAGE_SIZE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _require(user, perm):
    if not user.has_perm(perm):
        raise PermissionDenied


def complaint_list(request):
    _require(request.user, "support.view_complaint")
    form = ComplaintFilterForm(request.GET or None)
    filters = {}
    if form.is_valid():
        data = form.cleaned_data
        filters = {
            "state": data["state"] or "open",
            "overdue": data["overdue"],
            "department_id": data["department"].pk if data["department"] else None,
            "cause": data["cause"],
            "category": data["category"],
            "customer_id": data["customer"],
            "first": data["first"],
            "last": data["last"],
        }
    today = timezone.localdate()
    page = page_param(request)
    result = page_of(
        selectors.complaint_list(request.user, today=today, **filters), offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "support/complaints/list.html",
        {
            "filter": form,
            "result": result,
            "complaints": result.rows,
            "page": page,
            "query": query.urlencode(),
            "today": today,
            "may_report": report.may_read_report(request.user),
        },
    )


def complaint_customers(request):
    """Customers the user sees whose name matches (htmx: registration's customer search)."""
    _require(request.user, "support.add_complaint")
    q = text_param(request, "q", 50).strip()
    found = []
    if q:
        candidates, _complete, _every = search_candidates(q, cap=200)
        found = list(customer_qs_visible_to(request.user).filter(candidates, name__icontains=q).order_by("name")[:10])
    return render(request, "support/complaints/_customer_choices.html", {"customers": found, "q": q})


def _registration_form(user, customer, data=None):
    lines = OrderLine.objects.none()
    if user.has_perm("orders.view_order"):  # the customer's newest 200 order lines
        newest = OrderLine.objects.filter(order__customer=customer, order__deleted_at__isnull=True).order_by(
            "-order__ordered_on", "-order_id", "position"
        )
        lines = (
            OrderLine.objects.filter(pk__in=newest.values("pk")[:200])
            .select_related("order")
            .order_by("-order__ordered_on", "-order_id", "position")
        )
    recent_tickets = ticket_qs_visible_to(user).filter(customer=customer).order_by("-pk")
    return ComplaintForm(
        data,
        contacts=contacts_of(customer),
        order_lines=lines,
        specifications=Specification.objects.filter(product__deleted_at__isnull=True)
        .select_related("product")
        .order_by("code"),
        tickets=ticket_qs_visible_to(user).filter(pk__in=recent_tickets.values("pk")[:50]).order_by("-pk"),
        units=unit_qs_visible_to(user).filter(customer=customer).select_related("product"),
    )


def complaint_create(request):
    _require(request.user, "support.add_complaint")
    user = request.user
    source = request.POST if request.method == "POST" else request.GET
    customer_id = id_param(request, "customer") if request.method == "GET" else parse_id(source.get("customer", ""))
    if customer_id is None:
        return render(request, "support/complaints/pick_customer.html", {"q": text_param(request, "q", 50)})
    customer = customer_get(user, customer_id)
    form = _registration_form(user, customer, request.POST if request.method == "POST" else None)
    if request.method == "GET":  # started from a ticket: it is preselected
        form.initial["ticket"] = id_param(request, "ticket")
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            complaint = services.complaint_register(actor=user, customer=customer, **data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Complaint %(number)s registered.") % {"number": complaint.number})
            return redirect("support:complaint-detail", pk=complaint.pk)
    return render(request, "support/complaints/form.html", {"form": form, "customer": customer})


def complaint_detail(request, pk):
    user = request.user
    complaint = selectors.complaint_get(user, pk)
    steps = selectors.complaint_steps(complaint)
    today = timezone.localdate()
    open_kind = services.STEP_OF_STATE.get(complaint.state)
    open_step = next((s for s in steps if s.kind == open_kind), None)
    may_manage = services.may_manage(user, complaint)
    step_form = None
    if services.may_complete(user, complaint, open_step):
        initial = {}
        if open_kind == ComplaintStepKind.NOTICE:
            action = next(s for s in steps if s.kind == ComplaintStepKind.ACTION)
            initial = {"notice_deadline": action.due_on}
        elif open_kind == ComplaintStepKind.FEEDBACK:
            initial = {"feedback_on": today}
        step_form = STEP_FORMS[open_kind](initial=initial, prefix="step")
    owners = people_who_may("support.view_complaint") if may_manage and complaint.is_open else None
    for step in steps:
        step.is_open = step is open_step
        step.is_overdue = step.is_open and step.due_on < today
        step.plan_form = (
            PlanForm(owners=owners, initial={"kind": step.kind, "due_on": step.due_on, "version": complaint.version})
            if owners is not None and step.completed_at is None
            else None
        )
    moves = []
    if complaint.state == ComplaintState.NOTICE_ISSUED and services.may_complete(user, complaint, open_step):
        moves.append(ComplaintState.INVESTIGATING)
    if may_manage:
        moves += [
            ComplaintState(s)
            for s in (ComplaintState.REJECTED, ComplaintState.WITHDRAWN)
            if s in services.COMPLAINT_TRANSITIONS[complaint.state]
        ]
    return render(
        request,
        "support/complaints/detail.html",
        {
            "complaint": complaint,
            "steps": steps,
            "open_step": open_step,
            "step_form": step_form,
            "moves": moves,
            "may_manage": may_manage,
            "today": today,
        },
    )


@require_POST
def complaint_step(request, pk):
    """Complete the open step with its form's fields."""
    user = request.user
    complaint = selectors.complaint_get(user, pk)
    meta = StepMetaForm(request.POST)
    if not meta.is_valid():
        messages.error(request, _("This step is not open."))
        return redirect("support:complaint-detail", pk=complaint.pk)
    kind = meta.cleaned_data["kind"]
    form = STEP_FORMS[kind](request.POST, prefix="step")
    if not services.may_complete(user, complaint, services.current_step(complaint)):
        raise PermissionDenied
    if form.is_valid():
        try:
            services.complaint_step_complete(
                complaint=complaint,
                actor=user,
                kind=kind,
                data=form.cleaned_data,
                expected_version=meta.cleaned_data["version"],
            )
        except ConcurrentEditError as exc:
            messages.error(request, str(exc))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("%(step)s done.") % {"step": ComplaintStepKind(kind).label})
            return redirect("support:complaint-detail", pk=complaint.pk)
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return redirect("support:complaint-detail", pk=complaint.pk)


@require_POST
def complaint_move(request, pk):
    complaint = selectors.complaint_get(request.user, pk)
    form = MoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a state the complaint can move to."))
        return redirect("support:complaint-detail", pk=complaint.pk)
    data = form.cleaned_data
    try:
        services.complaint_move(
            complaint=complaint, actor=request.user, to=data["to"], note=data["note"], expected_version=data["version"]
        )
    except ConcurrentEditError as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The complaint is now %(state)s.") % {"state": ComplaintState(data["to"]).label})
    return redirect("support:complaint-detail", pk=complaint.pk)


@require_POST
def complaint_plan(request, pk):
    """A step's owner and deadline."""
    user = request.user
    complaint = selectors.complaint_get(user, pk)
    if not services.may_manage(user, complaint):
        raise PermissionDenied
    form = PlanForm(request.POST, owners=people_who_may("support.view_complaint"))
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("support:complaint-detail", pk=complaint.pk)
    data = form.cleaned_data
    try:
        services.complaint_step_plan(
            complaint=complaint,
            actor=user,
            kind=data["kind"],
            owner=data["owner"],
            due_on=data["due_on"],
            expected_version=data["version"],
        )
    except ConcurrentEditError as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Step saved."))
    return redirect("support:complaint-detail", pk=complaint.pk)


def complaint_edit(request, pk):
    user = request.user
    complaint = selectors.complaint_get(user, pk)
    if not services.may_manage(user, complaint):
        raise PermissionDenied
    owners = people_who_may("support.change_complaint")
    initial = {name: getattr(complaint, name) for name in services.EDITABLE}
    initial["version"] = complaint.version
    form = ComplaintEditForm(request.POST or None, owners=owners, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version")
        try:
            services.complaint_update(complaint=complaint, actor=user, expected_version=version, **data)
        except ConcurrentEditError as exc:
            form.add_error(None, str(exc))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Complaint saved."))
            return redirect("support:complaint-detail", pk=complaint.pk)
    return render(request, "support/complaints/edit.html", {"form": form, "complaint": complaint})


def _document(request, pk, kind):
    complaint = selectors.complaint_get(request.user, pk)
    language = documents.document_language(request.GET.get("lang"))
    steps = selectors.complaint_steps(complaint)
    content = documents.document_pdf(complaint, kind, steps, language=language)
    return pdf_response(content, documents.document_filename(complaint, kind, language=language))


def complaint_notice_pdf(request, pk):
    return _document(request, pk, "notice")


def complaint_report_pdf(request, pk):
    return _document(request, pk, "report")


def _report_stats(request):
    if not report.may_read_report(request.user):
        raise PermissionDenied
    form = ReportForm(request.GET)
    if not form.is_valid():
        return form, None
    data = form.cleaned_data
    shown = {"first": data["first"].isoformat(), "last": data["last"].isoformat(), "period": data["period"]}
    form = ReportForm(shown)  # the period in force, defaults filled in, for the form to show
    form.is_valid()
    return form, report.complaint_stats(first=data["first"], last=data["last"], period=data["period"])


def complaint_statistics(request):
    form, stats = _report_stats(request)
    context = {"form": form, "stats": stats}
    if stats is not None:
        chart = stats.chart()
        chart["labels"] = {"complaints": _("Complaints")}
        context["chart"] = chart
    return render(request, "support/complaints/report.html", context)


@handles_export_refusal
def complaint_statistics_export(request):
    """The report as .xlsx, through the export policy (kehu.core.exports); its rows are the groups'."""
    form, stats = _report_stats(request)
    export_require(request.user, COMPLAINT_REPORT)
    if stats is None:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("support:complaint-statistics")
    rows = sum(len(table[3]) for table in stats.tables)
    reason = export_require(request.user, COMPLAINT_REPORT, rows, reason_of(request))
    content = report.stats_xlsx(stats)
    export_log(
        actor=request.user,
        kind=COMPLAINT_REPORT,
        rows=rows,
        reason=reason,
        fmt="xlsx",
        first=stats.first.isoformat(),
        last=stats.last.isoformat(),
        period=stats.period,
    )
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = (
        f'attachment; filename="complaints-{stats.first.isoformat()}-{stats.last.isoformat()}.xlsx"'
    )
    return response
