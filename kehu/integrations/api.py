"""Imports and exports (INT-1) in the REST API, through the same services as the pages:
upload → (GET the top of the sheet, PUT another sheet or header row) → PUT the mapping (starts
the check) → when the status is "values": PUT what the unmatched picklist values mean → read
the rows → POST choices → run → poll."""

from datetime import datetime
from typing import Annotated, Literal

from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpResponse, JsonResponse
from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile

from kehu.core.api import FieldErrors, Id, Message, Text
from kehu.core.exports import REASON_MAX_LENGTH, ExportDecision, ExportRefusedError, Verdict
from kehu.customers import selectors as customer_selectors
from kehu.integrations import exports, selectors, services, storage
from kehu.integrations.models import ExportStatus, FileFormat, RowAction
from kehu.integrations.targets import CUSTOMERS, all_targets, get_target, targets_for
from kehu.integrations.views import filters_from

router = Router(tags=["import and export"])
# The registered targets (apps register theirs before the URLs load): clients and fuzzers see the
# values in the schema, and anything else is answered 422 before the services are asked.
TargetName = Literal[tuple(t.name for t in all_targets()) or (CUSTOMERS,)]


class ImportJobOut(Schema):
    id: int
    target: str = Field(description="What the file imports: customers, leads (see GET /targets).")
    file_name: str
    format: str
    encoding: str
    status: str = Field(description="mapping, values, previewing, preview, queued, running, done, failed")
    sheet: str = Field(description="The sheet of a workbook the records are read from.")
    sheets: list[dict] = Field(description="Every sheet of the workbook: name, hidden, rows.")
    header_row: int = Field(description="The number of the row with the column names (from 1).")
    header_depth: int = Field(description="2 when group headers stand above the column names.")
    headers: list[str]
    mapping: dict[str, str] = Field(description="Column index (as text) → field name.")
    mapping_remembered: bool
    value_mapping: dict[str, dict[str, str]] = Field(
        description="Field → {normalised value: choice, or empty to leave the field empty}."
    )
    unmatched: dict[str, list[dict]] = Field(
        description="Field → the picklist values of the file that are none of the choices: value, count, guess."
    )
    total_rows: int
    progress: int
    percent: int
    step: str
    report: dict = Field(
        description=(
            "Counts of the preview (rows, errors, duplicates) and of the run (created, updated, skipped, "
            "contacts_created, contacts_updated). A vCard file adds `cards` (its BEGIN:VCARD lines) and "
            "`cards_with_warnings`, and after the run `vcard`: in_file, read, customers_created, "
            "companies_created, contacts_created, added_to_existing, skipped, skipped_groups, skipped_unreadable, "
            "skipped_errors, skipped_by_choice — in_file = customers_created + added_to_existing + skipped."
        )
    )
    error: str
    created_at: datetime
    finished_at: datetime | None


class ChoiceOut(Schema):
    value: str
    label: str


class FieldOut(Schema):
    name: str
    label: str
    choices: list[ChoiceOut] | None = Field(None, description="The allowed values of a picklist field.")


class LayoutIn(Schema):
    sheet: Text(100) = Field("", description="A sheet of the workbook (see `sheets`); empty: the current one.")
    header_row: Annotated[int, Field(ge=0, le=30)] = Field(
        0, description="The row with the column names (from 1); 0: find it."
    )
    header_depth: Literal[1, 2] = Field(1, description="2 when group headers stand above the column names.")


class ValuesIn(Schema):
    values: dict[Text(40), dict[Text(100), Text(40)]] = Field(
        description="Field → {value as in the file: choice (see GET /fields), or empty to leave the field empty}.",
        max_length=50,
    )


class HeadRowOut(Schema):
    number: int
    cells: list[str]


class HeadOut(Schema):
    sheet: str
    header_row: int
    header_depth: int
    rows: list[HeadRowOut]


class ImportTargetOut(Schema):
    name: str
    label: str


class FieldsQuery(Schema):
    target: TargetName = Field(CUSTOMERS, description="What the fields are for (see GET /targets).")


class MappingIn(Schema):
    mapping: dict[Text(6), Text(40)] = Field(description="Column index (as text) → field name; see GET /fields.")


class RowOut(Schema):
    number: int
    values: dict
    errors: dict[str, list[str]]
    warnings: dict[str, list[str]] = Field(description="Imported all the same, with the field left empty.")
    skip_reason: str = Field(description="Not a record: note, total or header (a repeated header row).")
    matches: list[dict]
    action: str
    target_id: int | None


class RowsOut(Schema):
    items: list[RowOut]
    has_more: bool


class RowsQuery(Schema):
    show: Literal["all", "errors", "warnings", "duplicates", "create", "update", "skip", "not_records"] = "all"
    limit: Annotated[int, Field(ge=1, le=200)] = 50
    offset: Annotated[int, Field(ge=0, le=1_000_000)] = 0


class ChoicesIn(Schema):
    rows: dict[Text(10), RowAction] = Field({}, description="Row number → create, update or skip.", max_length=5000)
    duplicates: Literal["skip_duplicates", "update_duplicates", "create_duplicates"] | None = Field(
        None, description="One choice for every row with possible duplicates (applied before `rows`)."
    )


class ChoicesOut(Schema):
    changed: int
    counts: dict[str, int]


class ExportJobOut(Schema):
    id: int
    format: str
    status: str
    row_count: int
    error: str
    created_at: datetime
    finished_at: datetime | None
    download: str | None = None


class ExportQuery(Schema):
    format: Literal["csv", "xlsx"] = "csv"
    q: Text(100) = ""
    owner: Id | None = None
    region: Text(50) = ""
    industry: Text(20) = ""
    tier: Text(10) = ""
    status: Text(10) = ""
    sort: Text(20) = "updated"
    reason: Text(REASON_MAX_LENGTH, multiline=True) = Field(
        "", description="Why you need the data: required above KEHU_EXPORT_REASON_ROWS rows (default 500)."
    )


class ExportReasonQuery(Schema):
    reason: Text(REASON_MAX_LENGTH, multiline=True) = Field(
        "", description="Why you need the data: required above KEHU_EXPORT_REASON_ROWS rows (default 500)."
    )


# The export policy's refusals (kehu.core.exports): 400 without a needed reason, 403 without the
# role's permission, 429 past the hour's limit (with Retry-After), each in the shared error body.
EXPORT_ERRORS = {400: FieldErrors, 403: Message, 404: Message, 429: Message}


def _refused(decision: ExportDecision) -> JsonResponse:
    if decision.verdict == Verdict.NEEDS_REASON:
        body = {"detail": decision.message, "errors": {"reason": [decision.message]}}
    else:
        body = {"detail": decision.message}
    response = JsonResponse(body, status=decision.status, json_dumps_params={"ensure_ascii": False})
    if decision.retry_after:
        response["Retry-After"] = str(decision.retry_after)
    return response


def _job_out(job) -> dict:
    data = ImportJobOut.from_orm(job).dict()
    data["percent"] = job.percent
    return data


def _require_import(user):
    if not services.may_import(user):
        raise PermissionDenied


def _job(request, job_id):
    """The user's own job (404 otherwise), if they may still import what it imports (403 otherwise)."""
    job = selectors.import_job_get(request.user, job_id)
    if not services.may_import(request.user, job.target):
        raise PermissionDenied
    return job


@router.get("/targets", response=list[ImportTargetOut])
def target_list(request):
    """What you may import (customers and contacts, leads, …): the `target` of an upload."""
    _require_import(request.user)
    return [{"name": t.name, "label": str(t.label)} for t in targets_for(request.user)]


@router.get("/fields", response=list[FieldOut])
def field_list(request, query: Query[FieldsQuery]):
    """The fields a column can be mapped to, for one target (customers unless given)."""
    _require_import(request.user)
    target = get_target(query.target)
    if target is None or not target.may_import(request.user):
        raise PermissionDenied
    with_owner = target.may_map_owner(request.user)
    return [
        {
            "name": f.name,
            "label": str(f.label),
            "choices": [{"value": v, "label": str(label)} for v, label in f.choices.choices if v]
            if f.choices
            else None,
        }
        for f in target.fields.values()
        if f.name != "owner" or with_owner
    ]


@router.post("/imports", response={201: ImportJobOut})
def import_create(
    request,
    file: UploadedFile = File(...),  # noqa: B008 - ninja's way to declare a file
    target: TargetName = Form(CUSTOMERS, description="What the file imports (see GET /targets)."),  # noqa: B008
):
    """Upload a CSV, workbook (.xlsx, .xls, .ods) or vCard file with what it imports (`target`);
    answers the job with the sheet and header row found, its headers and the guessed (or
    remembered) mapping."""
    job = services.import_job_create(actor=request.user, uploaded=file, target=target)
    return Status(201, _job_out(job))


@router.get("/imports", response=list[ImportJobOut])
def import_list(request):
    _require_import(request.user)
    return [_job_out(j) for j in selectors.import_job_qs_visible_to(request.user).order_by("-created_at")[:50]]


@router.get("/imports/{job_id}", response=ImportJobOut)
def import_read(request, job_id: Id):
    """The job's status, progress (`progress` of `total_rows`, `percent`) and, when done, its report."""
    _require_import(request.user)
    return _job_out(_job(request, job_id))


@router.get("/imports/{job_id}/head", response=HeadOut)
def import_head(request, job_id: Id):
    """The first rows of the sheet as they are, numbered from 1: to see which row holds the column names."""
    job = _job(request, job_id)
    rows = [{"number": n, "cells": c} for n, c in services.job_head(job)]
    return {"sheet": job.sheet, "header_row": job.header_row, "header_depth": job.header_depth, "rows": rows}


@router.put("/imports/{job_id}/layout", response=ImportJobOut)
def import_layout(request, job_id: Id, payload: LayoutIn):
    """Read the column names from another sheet and/or row (0: find the row); the mapping is guessed
    (or recalled) again for those headers and the job is back at the mapping step."""
    job = selectors.import_job_get(request.user, job_id)
    services.import_job_set_layout(
        job=job,
        actor=request.user,
        sheet=payload.sheet,
        header_row=payload.header_row,
        header_depth=payload.header_depth,
    )
    return _job_out(selectors.import_job_get(request.user, job.pk))


@router.put("/imports/{job_id}/values", response={202: ImportJobOut})
def import_values(request, job_id: Id, payload: ValuesIn):
    """What the unmatched picklist values (`unmatched` of the job) mean; remembered with the mapping.
    Values not given stay unmatched: their rows are imported with the field empty and a warning."""
    job = selectors.import_job_get(request.user, job_id)
    services.import_job_set_values(job=job, actor=request.user, values=payload.values)
    return Status(202, _job_out(selectors.import_job_get(request.user, job.pk)))


@router.put("/imports/{job_id}/mapping", response={202: ImportJobOut})
def import_mapping(request, job_id: Id, payload: MappingIn):
    """Set the mapping (remembered for files with the same headers) and start the check: the job
    goes to "values" when picklist values need a meaning, else to "preview"."""
    job = selectors.import_job_get(request.user, job_id)
    job = services.import_job_set_mapping(job=job, actor=request.user, mapping=payload.mapping)
    return Status(202, _job_out(selectors.import_job_get(request.user, job.pk)))


@router.get("/imports/{job_id}/rows", response=RowsOut)
def import_rows(request, job_id: Id, query: Query[RowsQuery]):
    """The staged rows of the preview with their errors, duplicate matches and chosen action."""
    _require_import(request.user)
    job = _job(request, job_id)
    rows, more = selectors.import_rows(job, show=query.show, offset=query.offset, limit=query.limit)
    return {"items": rows, "has_more": more}


@router.post("/imports/{job_id}/choices", response=ChoicesOut)
def import_choices(request, job_id: Id, payload: ChoicesIn):
    job = selectors.import_job_get(request.user, job_id)
    result = services.import_job_choose(
        job=job,
        actor=request.user,
        rows={k: v.value for k, v in payload.rows.items()},
        duplicates=payload.duplicates or "",
    )
    return {"changed": result["changed"], "counts": services.import_job_counts(job)}


@router.post("/imports/{job_id}/run", response={202: ImportJobOut})
def import_run(request, job_id: Id):
    """Run the import as a background task: all chosen rows or none. Poll GET /imports/{id}."""
    job = selectors.import_job_get(request.user, job_id)
    services.import_job_start(job=job, actor=request.user)
    return Status(202, _job_out(selectors.import_job_get(request.user, job.pk)))


@router.post("/imports/{job_id}/retry", response={202: ImportJobOut})
def import_retry(request, job_id: Id):
    """Run a failed import again with its checked rows and choices (a run that failed, for example
    because its worker stopped, saved nothing). 400 when it cannot: map and check it again."""
    job = selectors.import_job_get(request.user, job_id)
    services.import_job_retry(job=job, actor=request.user)
    return Status(202, _job_out(selectors.import_job_get(request.user, job.pk)))


@router.delete("/imports/{job_id}", response={204: None})
def import_delete(request, job_id: Id):
    _require_import(request.user)
    services.import_job_delete(job=selectors.import_job_get(request.user, job_id), actor=request.user)
    return Status(204, None)


# ------------------------------------------------------------------------------ exports


def _export_out(job) -> dict:
    data = ExportJobOut.from_orm(job).dict()
    data["download"] = f"/api/v1/transfer/exports/{job.pk}/download" if job.status == ExportStatus.DONE else None
    return data


@router.get(
    "/exports/customers",
    response={200: None, 202: ExportJobOut, **EXPORT_ERRORS},
    openapi_extra={"responses": {200: {"description": "The file (CSV with BOM, or .xlsx)"}}},
)
def export_customers(request, query: Query[ExportQuery]):
    """Customers in your scope matching the filters of the customer list, as CSV or .xlsx (masked as on
    screen). Small exports answer the file; large ones a job (202) to poll and download. Exports of more
    than 500 rows need a `reason`; at most 10 exports and 50,000 rows an hour (429 past that)."""
    if not exports.may_export(request.user):
        raise PermissionDenied
    data = query.dict()
    fmt = FileFormat(data.pop("format"))
    reason = data.pop("reason")
    filters = filters_from({k: v for k, v in data.items() if v not in (None, "")})
    try:
        body, job = exports.export_customers(actor=request.user, filters=filters, fmt=fmt, reason=reason)
    except ExportRefusedError as exc:
        return _refused(exc.decision)
    if job is not None:
        return Status(202, _export_out(job))
    content_type = (
        "text/csv; charset=utf-8"
        if fmt == FileFormat.CSV
        else ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    )
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{exports.export_file_name(fmt)}"'
    return response


@router.get("/exports/{export_id}", response=ExportJobOut)
def export_read(request, export_id: Id):
    if not exports.may_export(request.user):
        raise PermissionDenied
    return _export_out(selectors.export_job_get(request.user, export_id))


@router.get("/exports/{export_id}/download", response={200: None, 409: ExportJobOut})
def export_download(request, export_id: Id):
    if not exports.may_export(request.user):
        raise PermissionDenied
    job = selectors.export_job_get(request.user, export_id)
    path = storage.absolute(job.stored_path) if job.status == ExportStatus.DONE else None
    if path is None or not path.exists():
        return Status(409, _export_out(job))
    return FileResponse(open(path, "rb"), as_attachment=True, filename=exports.export_file_name(job.format))  # noqa: SIM115


@router.get("/contacts/{contact_id}/vcard", response={200: None, **EXPORT_ERRORS})
def contact_vcard(request, contact_id: Id, query: Query[ExportReasonQuery]):
    """One contact as vCard 3.0 (phones, birthday and home address only for those who may see them)."""
    contact = customer_selectors.contact_get(request.user, contact_id)
    try:
        text = exports.export_vcards(
            actor=request.user, contacts=[contact], what=f"contact {contact.pk}", reason=query.reason
        )
    except ExportRefusedError as exc:
        return _refused(exc.decision)
    return HttpResponse(text.encode(), content_type="text/vcard; charset=utf-8")


@router.get("/customers/{customer_id}/vcards", response={200: None, **EXPORT_ERRORS})
def customer_vcards(request, customer_id: Id, query: Query[ExportReasonQuery]):
    """A customer's live contacts as vCard 3.0."""
    customer = customer_selectors.customer_get(request.user, customer_id)
    contacts = list(customer_selectors.contacts_of(customer).select_related("customer"))
    try:
        text = exports.export_vcards(
            actor=request.user, contacts=contacts, what=f"customer {customer.pk}", reason=query.reason
        )
    except ExportRefusedError as exc:
        return _refused(exc.decision)
    return HttpResponse(text.encode(), content_type="text/vcard; charset=utf-8")
