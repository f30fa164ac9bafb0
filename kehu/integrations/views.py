"""Import wizard (upload → map → preview → run → report), job list and exports (INT-1).

Every page works without JavaScript: the progress pages refresh themselves (a meta refresh
inside <noscript>, and htmx polling of the progress bar when scripts run)."""

from itertools import islice

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.core.export_pages import handles_export_refusal, reason_of
from kehu.core.forms import apply_errors
from kehu.core.params import page_param
from kehu.customers import selectors as customer_selectors
from kehu.customers.forms import CustomerFilterForm
from kehu.integrations import exports, selectors, services, storage
from kehu.integrations.forms import LayoutForm, MappingForm, UploadForm, ValuesForm
from kehu.integrations.models import ExportStatus, FileFormat, ImportStatus, RowAction
from kehu.integrations.readers import UnreadableFileError
from kehu.integrations.targets import CUSTOMERS, get_target, targets_for

ROWS_PER_PAGE = 50
SAMPLE_ROWS = 3


def _require_import(user, job=None):
    """The user may import something at all; for a job, what that job imports."""
    if not services.may_import(user, job.target if job is not None else None):
        raise PermissionDenied


def _require_export(user):
    if not exports.may_export(user):
        raise PermissionDenied


def _home(request, form, status=200):
    imports, export_jobs = selectors.recent_jobs(request.user)
    return render(
        request,
        "integrations/home.html",
        {
            "form": form,
            "imports": imports,
            "exports": export_jobs,
            "may_import": bool(form.fields["target"].choices),
        },
        status=status,
    )


def transfer_home(request):
    """The jobs of the signed-in user, and the upload form (what they may import) for importers.
    `?target=leads` preselects what to import (the leads list links here)."""
    targets = targets_for(request.user)
    if not (targets or exports.may_export(request.user)):
        raise PermissionDenied
    form = UploadForm(targets=targets, initial={"target": request.GET.get("target", "")})
    return _home(request, form)


def import_upload(request):
    targets = targets_for(request.user)
    if not targets:
        raise PermissionDenied
    if request.method == "POST":
        # A form without the choice is a customer import, as before there was a choice.
        wanted = request.POST.get("target") or CUSTOMERS
        if get_target(wanted) is not None and not services.may_import(request.user, wanted):
            raise PermissionDenied
        data = request.POST.copy()
        data["target"] = wanted
        form = UploadForm(data, request.FILES, targets=targets)
    else:
        form = UploadForm(targets=targets, initial={"target": request.GET.get("target", "")})
    if request.method == "POST" and form.is_valid():
        try:
            job = services.import_job_create(
                actor=request.user, uploaded=form.cleaned_data["file"], target=form.cleaned_data["target"]
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return redirect("integrations:import-detail", pk=job.pk)
    return _home(request, form, status=400 if request.method == "POST" else 200)


def skip_reasons() -> dict[str, str]:
    return {
        "blank": _("blank row"),
        "note": _("note row"),
        "total": _("total row"),
        "header": _("repeated header"),
    }


def _file_view(job) -> tuple[list[list[str]], list[tuple[int, list[str]]]]:
    """The first rows with values under each header (to help the mapping), and the top of the
    sheet as it is (to see which row holds the column names)."""
    table = services.job_table(job)
    if table is None:
        return [], []
    try:
        samples = [
            cells or [] for _n, cells in islice((r for r in table.rows() if r[1] is None or any(r[1])), SAMPLE_ROWS)
        ]
    except UnreadableFileError:
        samples = []
    top = list(enumerate(table.head[: services.TOP_ROWS], start=1))
    table.close()
    return samples, top


def import_detail(request, pk):
    """One page per step, chosen by the job's status."""
    job = selectors.import_job_get(request.user, pk)
    _require_import(request.user, job)
    context = {"job": job, "target": services.target_of(job), "may_retry": services.import_job_may_retry(job)}
    if job.is_working:
        return render(request, "integrations/import_progress.html", context)
    step = request.GET.get("step")
    if job.status in (ImportStatus.MAPPING, ImportStatus.FAILED) or step == "mapping":
        return _mapping_page(request, job, context)
    if job.status == ImportStatus.VALUES or (job.status == ImportStatus.PREVIEW and step == "values" and job.unmatched):
        return _values_page(request, job, context)
    if job.status == ImportStatus.PREVIEW:
        return _preview_page(request, job, context)
    return _report_page(request, job, context)


def _mapping_page(request, job, context, form=None, layout_form=None, status=200):
    target = services.target_of(job)
    with_owner = target.may_map_owner(request.user)
    form = form or MappingForm(target=target, headers=job.headers, mapping=job.mapping, with_owner=with_owner)
    samples, top = _file_view(job)
    if job.format == FileFormat.VCARD:
        top = []
    columns = [(form[f"col_{i}"], [row[i] if i < len(row) else "" for row in samples]) for i in range(len(job.headers))]
    width = max((len(cells) for _n, cells in top), default=0)
    context.update(
        form=form,
        columns=columns,
        with_owner=with_owner,
        owner_hint=target.owner_hint(with_owner),
        layout_form=layout_form or (LayoutForm(job=job) if job.format != FileFormat.VCARD else None),
        top_rows=[(n, cells + [""] * (width - len(cells))) for n, cells in top],
        header_rows=range(job.header_row - job.header_depth + 1, job.header_row + 1),
    )
    return render(request, "integrations/import_mapping.html", context, status=status)


@require_POST
def import_layout(request, pk):
    """Another sheet or header row: the headers are read there and the mapping guessed again."""
    job = selectors.import_job_get(request.user, pk)
    _require_import(request.user, job)
    form = LayoutForm(request.POST, job=job)
    if form.is_valid():
        try:
            services.import_job_set_layout(
                job=job,
                actor=request.user,
                sheet=form.cleaned_data.get("sheet") or "",
                header_row=form.cleaned_data["header_row"],
                header_depth=2 if form.cleaned_data["two_rows"] else 1,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The column names are now read from row %(row)s.") % {"row": job.header_row})
            return redirect("integrations:import-detail", pk=job.pk)
    context = {"job": job, "target": services.target_of(job)}
    return _mapping_page(request, job, context, layout_form=form, status=400)


@require_POST
def import_mapping(request, pk):
    job = selectors.import_job_get(request.user, pk)
    _require_import(request.user, job)
    target = services.target_of(job)
    form = MappingForm(
        request.POST,
        target=target,
        headers=job.headers,
        mapping=job.mapping,
        with_owner=target.may_map_owner(request.user),
    )
    if form.is_valid():
        try:
            services.import_job_set_mapping(job=job, actor=request.user, mapping=form.mapping())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return redirect("integrations:import-detail", pk=job.pk)
    return _mapping_page(request, job, {"job": job, "target": target}, form=form, status=400)


def _values_page(request, job, context, form=None, status=200):
    target = services.target_of(job)
    form = form or ValuesForm(target=target, unmatched=job.unmatched)
    context.update(form=form)
    return render(request, "integrations/import_values.html", context, status=status)


@require_POST
def import_values(request, pk):
    """The value step: which choice each unmatched picklist value means (or none)."""
    job = selectors.import_job_get(request.user, pk)
    _require_import(request.user, job)
    target = services.target_of(job)
    form = ValuesForm(request.POST, target=target, unmatched=job.unmatched)
    if form.is_valid():
        try:
            services.import_job_set_values(job=job, actor=request.user, values=form.values(job.unmatched))
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            return redirect("integrations:import-detail", pk=job.pk)
    context = {"job": job, "target": target}
    return _values_page(request, job, context, form=form, status=400)


def _preview_page(request, job, context):
    show = request.GET.get("show", "all")
    if show not in selectors.ROW_FILTERS:
        show = "all"
    page = page_param(request)
    rows, has_next = selectors.import_rows(job, show=show, offset=(page - 1) * ROWS_PER_PAGE, limit=ROWS_PER_PAGE)
    context.update(
        rows=[_row_view(job, r) for r in rows],
        show=show,
        page=page,
        has_next=has_next,
        counts=services.import_job_counts(job),
        actions=RowAction.choices,
        filters=[
            ("all", _("All rows")),
            ("errors", _("With errors")),
            ("warnings", _("With warnings")),
            ("duplicates", _("Possible duplicates")),
            ("create", _("To create")),
            ("update", _("To update")),
            ("skip", _("To skip")),
            ("not_records", _("Not records")),
        ],
        not_records=_not_records(job),
    )
    return render(request, "integrations/import_preview.html", context)


def _not_records(job) -> dict:
    """{"total": n, "parts": ["2 blank rows", …]} of the rows below the header that are not records."""
    found = (job.report or {}).get("not_records") or {}
    labels = skip_reasons()
    return {
        "total": sum(found.values()),
        "parts": [f"{n} × {labels.get(reason, reason)}" for reason, n in found.items() if n],
    }


def _row_view(job, row) -> dict:
    """A staged row as the target shows it, with its errors labelled by the target's fields."""
    target = services.target_of(job)
    fields = target.fields
    if row.skip_reason:
        shown = {"name": row.values.get("text", ""), "contact": "", "phone": "", "owner": "", "matches": []}
    else:
        shown = target.row_view(row)
    return {
        **shown,
        "number": row.number,
        "errors": [
            (str(fields[name].label) if name in fields else "", " ".join(messages))
            for name, messages in row.errors.items()
        ],
        # One line per warning: a vCard lists each property it left out.
        "warnings": [
            (str(fields[name].label) if name in fields else "", message)
            for name, messages in (row.warnings or {}).items()
            for message in messages
        ],
        "skip_reason": skip_reasons().get(row.skip_reason, row.skip_reason) if row.skip_reason else "",
        "action": row.action,
        "can_update": row.target_id is not None,
        "has_errors": bool(row.errors),
    }


def _report_page(request, job, context):
    errors, _more = selectors.import_rows(job, show="errors", limit=200)
    warned, _more = selectors.import_rows(job, show="warnings", limit=200)
    context.update(
        error_rows=[_row_view(job, r) for r in errors],
        warning_rows=[_row_view(job, r) for r in warned],
        not_records=_not_records(job),
        list_url=reverse(services.target_of(job).list_url_name),
    )
    return render(request, "integrations/import_report.html", context)


def import_progress(request, pk):
    """The progress bar alone (htmx polls it); once the job has moved on, the page reloads."""
    job = selectors.import_job_get(request.user, pk)
    _require_import(request.user, job)
    if not job.is_working and request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = reverse("integrations:import-detail", args=[job.pk])
        return response
    return render(request, "integrations/import_progress.html#progress", {"job": job})


@require_POST
def import_choose(request, pk):
    job = selectors.import_job_get(request.user, pk)
    _require_import(request.user, job)
    rows = {name[4:]: value for name, value in request.POST.items() if name.startswith("row_")}
    duplicates = request.POST.get("duplicates", "")
    try:
        services.import_job_choose(job=job, actor=request.user, rows=rows, duplicates=duplicates)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Your choices are saved."))
    query = request.POST.get("return_query", "")
    url = reverse("integrations:import-detail", args=[job.pk])
    return redirect(f"{url}?{query}" if query and len(query) < 200 else url)


@require_POST
def import_run(request, pk):
    job = selectors.import_job_get(request.user, pk)
    _require_import(request.user, job)
    try:
        services.import_job_start(job=job, actor=request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    return redirect("integrations:import-detail", pk=job.pk)


@require_POST
def import_retry(request, pk):
    """A failed run (the worker stopped, the database was busy) again, with the rows as checked."""
    job = selectors.import_job_get(request.user, pk)
    _require_import(request.user, job)
    try:
        services.import_job_retry(job=job, actor=request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    return redirect("integrations:import-detail", pk=job.pk)


@require_POST
def import_delete(request, pk):
    job = selectors.import_job_get(request.user, pk)
    try:
        services.import_job_delete(job=job, actor=request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("integrations:import-detail", pk=job.pk)
    messages.success(request, _("The import %(name)s is removed.") % {"name": job.file_name})
    return redirect("integrations:home")


# ------------------------------------------------------------------------------ exports


def filters_from(data) -> customer_selectors.CustomerFilters:
    """The customer list's filters, read by the list's own form (invalid values are ignored)."""
    form = CustomerFilterForm(data)
    cleaned = form.cleaned_data if form.is_valid() else {}
    return customer_selectors.CustomerFilters(
        q=cleaned.get("q", ""),
        owner=cleaned.get("owner"),
        region=cleaned.get("region", ""),
        industry=cleaned.get("industry", ""),
        tier=cleaned.get("tier", ""),
        status=cleaned.get("status", ""),
        sort=cleaned.get("sort") or "updated",
    )


def _download(data: bytes, fmt: str, file_name: str) -> HttpResponse:
    content_type = (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        if fmt == FileFormat.XLSX
        else "text/csv; charset=utf-8"
    )
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{file_name}"'
    response["Cache-Control"] = "private, no-store"
    return response


@handles_export_refusal
def export_customers(request):
    """The customer list with its current filters as CSV or .xlsx: at once when small, else a job.
    A large export asks for a reason first (the form posts back here); past the hour's limit, a page
    says when to try again (kehu.core.exports)."""
    _require_export(request.user)
    fmt = FileFormat.XLSX if request.GET.get("format") == "xlsx" else FileFormat.CSV
    filters = filters_from(request.GET)
    data, job = exports.export_customers(actor=request.user, filters=filters, fmt=fmt, reason=reason_of(request))
    if job is not None:
        messages.info(request, _("The export is large; it is being written and will be ready to download here."))
        return redirect("integrations:export-detail", pk=job.pk)
    return _download(data, fmt, exports.export_file_name(fmt))


def export_detail(request, pk):
    job = selectors.export_job_get(request.user, pk)
    _require_export(request.user)
    return render(request, "integrations/export_detail.html", {"job": job})


def export_download(request, pk):
    job = selectors.export_job_get(request.user, pk)
    _require_export(request.user)
    path = storage.absolute(job.stored_path) if job.status == ExportStatus.DONE else None
    if path is None or not path.exists():
        messages.error(request, _("This export is not available (files are kept for a few days)."))
        return redirect("integrations:export-detail", pk=job.pk)
    response = FileResponse(open(path, "rb"), as_attachment=True, filename=exports.export_file_name(job.format))  # noqa: SIM115
    response["Cache-Control"] = "private, no-store"
    return response


def _vcard_response(text: str, file_name: str) -> HttpResponse:
    response = HttpResponse(text.encode("utf-8"), content_type="text/vcard; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{file_name}"'
    response["Cache-Control"] = "private, no-store"
    return response


@handles_export_refusal
def contact_vcard(request, pk):
    contact = customer_selectors.contact_get(request.user, pk)
    if not exports.may_export_contacts(request.user):
        raise PermissionDenied
    text = exports.export_vcards(
        actor=request.user, contacts=[contact], what=f"contact {contact.pk}", reason=reason_of(request)
    )
    return _vcard_response(text, f"contact-{contact.pk}.vcf")


@handles_export_refusal
def customer_vcards(request, pk):
    customer = customer_selectors.customer_get(request.user, pk)
    if not exports.may_export_contacts(request.user):
        raise PermissionDenied
    contacts = list(customer_selectors.contacts_of(customer).select_related("customer"))
    text = exports.export_vcards(
        actor=request.user, contacts=contacts, what=f"customer {customer.pk}", reason=reason_of(request)
    )
    return _vcard_response(text, f"customer-{customer.pk}-contacts.vcf")
