"""The ageing report as .xlsx (openpyxl): small ones at once, large ones (many customers) written by a
task into the private transfer directory, with the rows written so far shown as progress. The jobs are
`integrations.ExportJob` rows marked `{"report": "ageing"}`; only their owner reaches them here."""

import io
import logging
from itertools import islice

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from kehu.core.exports import count_cap, export_log, export_require
from kehu.core.pagination import capped_count
from kehu.core.spreadsheet_safety import xlsx_row
from kehu.integrations import storage
from kehu.integrations.models import ExportJob, ExportStatus, FileFormat
from kehu.receivables import ageing
from kehu.receivables.export_kinds import AGEING
from kehu.receivables.models import CustomerBalance
from kehu.users.models import User

log = logging.getLogger(__name__)
CHUNK = 2000
MARK = {"report": "ageing"}


def sync_limit() -> int:
    return int(getattr(settings, "KEHU_EXPORT_SYNC_ROWS", 2000))


def _customer_qs(user: User, *, department=None, owner=None):
    return (
        CustomerBalance.objects.filter(ageing._owners_filter(user, department=department, owner=owner))
        .filter(Q(owed__gt=0) | Q(not_invoiced__gt=0))
        .order_by("-owed", "customer_id")
        .select_related("customer")
        .only("customer__name", "customer__id", *ageing.BALANCE_FIELDS)
    )


def header(level: str) -> list[str]:
    first = {"department": _("Department"), "rep": _("Rep"), "customer": _("Customer")}[level]
    return [
        first,
        _("Total owed"),
        pgettext("ageing", "Due"),
        _("Not yet due"),
        _("Not yet invoiced"),
        *[label for _key, label in ageing.bucket_labels()],
    ]


def _cells(row: ageing.AgeingRow) -> list:
    return [row.label, row.owed, row.due, row.not_due, row.not_invoiced, *row.bucket_list]


def rows_of(user: User, level: str, *, department=None, owner=None, progress=None):
    """The rows of the report at `level` (customers a chunk at a time)."""
    today = timezone.localdate()
    if level != "customer":
        summary = ageing.ageing_summary(user, level=level, department=department, today=today)
        yield from (_cells(row) for row in summary.rows)
        total = summary.total
        total.label = _("Total")
        yield _cells(total)
        return
    balances = _customer_qs(user, department=department, owner=owner).iterator(chunk_size=CHUNK)
    done = 0
    while chunk := list(islice(balances, CHUNK)):
        for row in ageing.customer_rows(chunk, today):
            yield _cells(row)
        done += len(chunk)
        if progress:
            progress(done)


def write_xlsx(out, user: User, level: str, *, department=None, owner=None, progress=None) -> int:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Ageing")[:31])
    sheet.append(xlsx_row(sheet, [_("Ageing report"), timezone.localdate().isoformat(), ageing.scope_label(user)]))
    sheet.append(xlsx_row(sheet, header(level)))
    n = 0
    for cells in rows_of(user, level, department=department, owner=owner, progress=progress):
        sheet.append(xlsx_row(sheet, cells))
        n += 1
    workbook.save(out)
    return n


def _log(actor, level, department, owner, rows, reason, **extra):
    export_log(
        actor=actor,
        kind=AGEING,
        rows=rows,
        reason=reason,
        fmt="xlsx",
        level=level,
        department=department,
        owner=owner,
        **extra,
    )


def ageing_export(
    *, actor: User, level: str, department=None, owner=None, reason: str = ""
) -> tuple[bytes | None, ExportJob | None]:
    """Through the export policy (kehu.core.exports): (the file, None) at once, or (None, the job) for
    many customers. Raises PermissionDenied or ExportRefusedError (a reason needed, past the hour's limit)."""
    ageing.check_view(actor)
    export_require(actor, AGEING)
    if level == "customer":
        qs = _customer_qs(actor, department=department, owner=owner)
        rows, _capped = capped_count(qs, cap=max(count_cap(actor), sync_limit()))
        reason = export_require(actor, AGEING, rows, reason)
        if rows >= sync_limit():
            job = ageing_export_job_create(
                actor=actor, level=level, department=department, owner=owner, reason=reason, expected_rows=rows
            )
            return None, job
    return ageing_xlsx_now(actor=actor, level=level, department=department, owner=owner, reason=reason), None


def ageing_xlsx_now(*, actor: User, level: str, department=None, owner=None, reason: str = "") -> bytes:
    """The workbook, handed out only if the policy allows its rows (counted as written)."""
    ageing.check_view(actor)
    buffer = io.BytesIO()
    count = write_xlsx(buffer, actor, level, department=department, owner=owner)
    reason = export_require(actor, AGEING, count, reason)
    _log(actor, level, department, owner, count, reason)
    return buffer.getvalue()


@transaction.atomic
def ageing_export_job_create(
    *, actor: User, level: str, department=None, owner=None, reason: str = "", expected_rows: int = 0
) -> ExportJob:
    ageing.check_view(actor)
    export_require(actor, AGEING)
    job = ExportJob.objects.create(
        created_by=actor,
        format=FileFormat.XLSX,
        filters={**MARK, "level": level, "department": department, "owner": owner},
        reason=reason,
        expected_rows=expected_rows,
    )
    from kehu.receivables.report_tasks import ageing_export_run

    transaction.on_commit(lambda: ageing_export_run.enqueue(job.pk))
    return job


def ageing_export_run(job_id: int) -> None:
    job = ExportJob.objects.select_related("created_by").get(pk=job_id)
    if job.status != ExportStatus.QUEUED or job.filters.get("report") != "ageing":
        return
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.RUNNING)
    actor = job.created_by
    level, department, owner = job.filters.get("level"), job.filters.get("department"), job.filters.get("owner")
    try:
        ageing.check_view(actor)
        if not actor.has_perm(AGEING.perm):
            raise PermissionError
        relative, path = storage.new_path("exports", ".xlsx")

        def progress(done: int) -> None:
            ExportJob.objects.filter(pk=job.pk).update(row_count=done)

        count = write_xlsx(path, actor, level, department=department, owner=owner, progress=progress)
        with transaction.atomic():
            _log(actor, level, department, owner, count, job.reason, job=job.pk)
            ExportJob.objects.filter(pk=job.pk).update(
                status=ExportStatus.DONE, row_count=count, stored_path=relative, finished_at=timezone.now()
            )
    except Exception as exc:  # noqa: BLE001 - recorded on the job
        if not isinstance(exc, PermissionError):
            log.exception("Ageing export %s failed", job.pk)
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportStatus.FAILED,
            error=_("The export failed. Try again, or ask your administrator."),
            finished_at=timezone.now(),
        )


def job_get(user: User, pk) -> ExportJob:
    ageing.check_view(user)
    try:
        return ExportJob.objects.get(pk=int(pk), created_by_id=user.pk, filters__report="ageing")
    except (ExportJob.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


def file_name() -> str:
    return f"ageing-{timezone.localtime():%Y%m%d-%H%M}.xlsx"
