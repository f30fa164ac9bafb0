"""Imports (INT-1): upload → column mapping → preview (staged rows with errors and duplicate
matches, a choice per row) → run. Every write goes through here.

The machinery is shared by every import target (customers and contacts, leads, …; see
`kehu.integrations.targets`): each job names its target, which cleans rows by its own app's
rules, finds duplicates set-based and writes the chosen rows. The run applies all rows in one
transaction: a failure leaves nothing behind. The slow parts (reading, cleaning, matching,
preparing) happen before that transaction, with progress committed as they go, so the write
lock is held only for the inserts.
"""

import logging
import os
import time

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kehu.integrations import storage
from kehu.integrations.bulk import Inserter
from kehu.integrations.fields import header_signature
from kehu.integrations.models import FileFormat, ImportJob, ImportMapping, ImportRow, ImportStatus, RowAction
from kehu.integrations.readers import Table, UnreadableFileError, detect_format
from kehu.integrations.targets import CUSTOMERS, ImportTarget, Staged, get_target, targets_for
from kehu.users.models import User

log = logging.getLogger(__name__)

BATCH = 2000


def max_bytes() -> int:
    return int(getattr(settings, "KEHU_IMPORT_MAX_BYTES", 50 * 1024 * 1024))


def max_rows() -> int:
    return int(getattr(settings, "KEHU_IMPORT_MAX_ROWS", 200_000))


def may_import(user: User, target: str | None = None) -> bool:
    """Whether the user may import `target` (None: anything at all)."""
    if target is None:
        return bool(targets_for(user))
    found = get_target(target)
    return found is not None and found.may_import(user)


def may_map_owner(user: User, target: str = CUSTOMERS) -> bool:
    found = get_target(target)
    return found is not None and found.may_map_owner(user)


def target_of(job: ImportJob) -> ImportTarget:
    found = get_target(job.target)
    if found is None:  # a target whose app was removed: its jobs can only be deleted
        raise PermissionDenied
    return found


def _check_job(job: ImportJob, actor: User, *statuses) -> ImportTarget:
    if job.created_by_id != actor.pk:
        raise PermissionDenied
    target = target_of(job)
    if not target.may_import(actor):
        raise PermissionDenied
    if statuses and job.status not in statuses:
        raise ValidationError(
            _("This import is %(status)s: that step is not possible now.")
            % {"status": job.get_status_display().lower()}
        )
    return target


def _file_error(message: str) -> ValidationError:
    return ValidationError({"file": [message]})


def _in_language_of(user: User):
    """Row errors and reports are written by a task: in the importing user's language."""
    return translation.override(getattr(user, "language", "") or settings.LANGUAGE_CODE)


# ------------------------------------------------------------------------------ upload


@transaction.atomic
def import_job_create(*, actor: User, uploaded, target: str = CUSTOMERS) -> ImportJob:
    """Store the upload privately, read its headers and guess (or recall) the column mapping
    for what the file imports (`target`: customers, leads, …)."""
    kind = get_target(target or CUSTOMERS)
    if kind is None:
        if not may_import(actor):
            raise PermissionDenied
        raise ValidationError({"target": [_("Choose what to import.")]})
    if not kind.may_import(actor):
        raise PermissionDenied
    file_name = os.path.basename(getattr(uploaded, "name", "") or "upload")[:200] or "upload"
    size = getattr(uploaded, "size", None) or 0
    if size == 0:
        raise _file_error(_("The file is empty."))
    if size > max_bytes():
        raise _file_error(
            _("The file is too big (%(size)s MB). Upload at most %(max)s MB, or split it.")
            % {"size": round(size / 1048576, 1), "max": max_bytes() // 1048576}
        )
    chunks = uploaded.chunks() if hasattr(uploaded, "chunks") else [uploaded.read()]
    relative, path = None, None
    head = b""
    try:
        for chunk in chunks:
            if path is None:
                head = chunk[:4096]
                fmt = detect_format(file_name, head)
                suffix = {FileFormat.XLSX: ".xlsx", FileFormat.VCARD: ".vcf"}.get(fmt, ".csv")
                relative, path = storage.new_path("imports", suffix)
                out = open(path, "wb")  # noqa: SIM115 - closed below
            out.write(chunk)
        if path is None:
            raise UnreadableFileError(_("The file is empty."))
        out.close()
        table = Table(path, fmt)
        rows = _count_rows(table)
        table.close()
    except UnreadableFileError as exc:
        if relative:
            storage.remove(relative)
        raise _file_error(exc.message) from None
    if rows == 0:
        storage.remove(relative)
        raise _file_error(_("The file has column names but no rows."))
    if rows > max_rows():
        storage.remove(relative)
        raise _file_error(
            _("The file has %(rows)s rows; one import takes at most %(max)s. Split the file.")
            % {"rows": f"{rows:,}", "max": f"{max_rows():,}"}
        )
    headers = [h[:200] for h in table.headers][:200]
    signature = header_signature(headers, kind.name)
    remembered = ImportMapping.objects.filter(signature=signature).first()
    if fmt == FileFormat.VCARD:
        mapping, from_memory = kind.vcard_mapping(), False
    elif remembered is not None:
        mapping, from_memory = remembered.mapping, True
    else:
        mapping, from_memory = kind.guess_mapping(headers), False
    mapping = {col: f for col, f in mapping.items() if f in kind.fields}
    if not kind.may_map_owner(actor):
        mapping = {col: f for col, f in mapping.items() if f != "owner"}
    return ImportJob.objects.create(
        created_by=actor,
        target=kind.name,
        file_name=file_name,
        stored_path=relative,
        format=fmt,
        encoding=table.encoding,
        headers=headers,
        signature=signature,
        mapping=mapping,
        mapping_remembered=from_memory,
        total_rows=rows,
    )


def _count_rows(table: Table) -> int:
    """Rows below the header: what the workbook states (read at once), else counted. The
    preview counts exactly; this is for the limit and the first progress figures."""
    hint = table.row_count_hint()
    if hint is not None and hint > 0:
        return hint
    return sum(1 for _row in table.rows())


# ------------------------------------------------------------------------------ mapping


def clean_mapping(job: ImportJob, actor: User, mapping: dict) -> dict[str, str]:
    """{column index: field} checked: known fields, each once, a name column, owner only for assigners."""
    target = target_of(job)
    fields = target.fields
    errors = []
    clean: dict[str, str] = {}
    seen: dict[str, str] = {}
    for col, name in (mapping or {}).items():
        if not name:
            continue
        try:
            index = int(col)
        except (TypeError, ValueError):
            errors.append(_("Unknown column %(col)s.") % {"col": str(col)[:20]})
            continue
        if not 0 <= index < len(job.headers):
            errors.append(_("Unknown column %(col)s.") % {"col": str(col)[:20]})
            continue
        if name not in fields:
            errors.append(_("Unknown field %(field)s.") % {"field": str(name)[:40]})
            continue
        if name == "owner" and not target.may_map_owner(actor):
            errors.append(str(target.owner_message))
            continue
        if name in seen:
            errors.append(
                _("“%(field)s” is chosen for two columns: %(a)s and %(b)s.")
                % {"field": fields[name].label, "a": job.headers[int(seen[name])], "b": job.headers[index]}
            )
            continue
        seen[name] = str(index)
        clean[str(index)] = name
    if not errors:
        errors = target.mapping_errors(set(seen))
    if errors:
        raise ValidationError({"mapping": errors})
    return clean


@transaction.atomic
def import_job_set_mapping(*, job: ImportJob, actor: User, mapping: dict) -> ImportJob:
    """Save the mapping (remembered for files with the same headers) and start the preview."""
    _check_job(job, actor, ImportStatus.MAPPING, ImportStatus.PREVIEW, ImportStatus.FAILED)
    job.mapping = clean_mapping(job, actor, mapping)
    job.status = ImportStatus.PREVIEWING
    job.progress = 0
    job.step = "check"
    job.error = ""
    job.report = {}
    job.save(update_fields=["mapping", "status", "progress", "step", "error", "report"])
    if job.format != FileFormat.VCARD:
        ImportMapping.objects.update_or_create(
            signature=job.signature,
            defaults={
                "headers": job.headers,
                "mapping": job.mapping,
                "updated_by": actor,
                "updated_at": timezone.now(),
            },
        )
    from kehu.integrations.tasks import import_preview

    transaction.on_commit(lambda: import_preview.enqueue(job.pk))
    return job


# ------------------------------------------------------------------------------ preview


def _save_progress(job: ImportJob, **fields) -> None:
    for name, value in fields.items():
        setattr(job, name, value)
    ImportJob.objects.filter(pk=job.pk).update(**fields)


def import_job_preview(job_id: int) -> None:
    """Read, clean and match every row, staging them in batches (progress is committed as it goes)."""
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if job.status != ImportStatus.PREVIEWING:
        return
    actor = job.created_by
    try:
        with _in_language_of(actor):
            _preview(job, actor)
    except UnreadableFileError as exc:
        ImportRow.objects.filter(job=job).delete()
        _save_progress(job, status=ImportStatus.FAILED, error=exc.message, step="")
    except Exception:
        log.exception("Import %s: preview failed", job.pk)
        ImportRow.objects.filter(job=job).delete()
        _save_progress(job, status=ImportStatus.FAILED, error=_("Checking the file failed unexpectedly."), step="")


def _preview(job: ImportJob, actor: User) -> None:
    """Stage every row (progress per batch), then match duplicates for the whole file at once
    (set-based: a handful of queries per 500 keys, one pass for phones) and mark those rows."""
    ImportRow.objects.filter(job=job).delete()
    path = storage.absolute(job.stored_path)
    if path is None or not path.exists():
        raise UnreadableFileError(
            _("The uploaded file is no longer there (uploads are kept for a few days). Upload it again.")
        )
    target = target_of(job)
    table = Table(path, job.format)
    stager = target.stager(job, actor)
    inserter = Inserter(ImportRow)
    counts = {"rows": 0, "errors": 0, "duplicates": 0}
    batch: list[Staged] = []
    to_match: list[tuple[int, dict]] = []  # (row number, values) of rows without errors

    def flush():
        for row in batch:
            counts["errors"] += bool(row.errors)
            if not row.errors:
                to_match.append((row.number, row.values))
        with transaction.atomic():
            inserter.insert(row.as_row(job.pk) for row in batch)
            _save_progress(job, progress=counts["rows"])
        batch.clear()

    try:
        for number, cells in table.rows():
            batch.append(stager.stage(number, cells))
            counts["rows"] += 1
            if counts["rows"] > max_rows():
                raise UnreadableFileError(
                    _("The file has more than %(max)s rows. Split the file.") % {"max": f"{max_rows():,}"}
                )
            if len(batch) >= BATCH:
                flush()
        if batch:
            flush()
    finally:
        table.close()
    if counts["rows"] == 0:
        raise UnreadableFileError(_("The file has column names but no rows."))
    if job.format == FileFormat.VCARD:
        # One row per BEGIN:VCARD line: the report adds up to this count of the file.
        counts["cards"] = table.vcards.begin_count
    counts.update(getattr(stager, "counts", {}))
    _save_progress(job, step="match")
    matched = target.match(to_match, actor)
    counts["duplicates"] = len(matched)
    ids = (
        dict(ImportRow.objects.filter(job=job, number__in=list(matched)).values_list("number", "id"))
        if len(matched) <= 5000
        else dict(ImportRow.objects.filter(job=job).values_list("number", "id"))
    )
    updates = [
        ImportRow(id=ids[number], matches=matches, action=RowAction.SKIP, target_id=target)
        for number, (matches, target) in matched.items()
    ]
    with transaction.atomic():
        ImportRow.objects.bulk_update(updates, ["matches", "action", "target_id"], batch_size=500)
        _save_progress(
            job, status=ImportStatus.PREVIEW, total_rows=counts["rows"], progress=counts["rows"], step="", report=counts
        )


# ------------------------------------------------------------------------------ choices


BULK_CHOICES = ("skip_duplicates", "update_duplicates", "create_duplicates")


@transaction.atomic
def import_job_choose(*, job: ImportJob, actor: User, rows: dict | None = None, duplicates: str = "") -> dict:
    """Per-row choices {row number: create|update|skip} and/or one choice for every row with
    duplicates. Rows with errors stay skipped; update needs a match in the user's scope."""
    target = _check_job(job, actor, ImportStatus.PREVIEW)
    staged = ImportRow.objects.filter(job=job)
    changed = 0
    if duplicates:
        if duplicates not in BULK_CHOICES:
            raise ValidationError({"duplicates": [_("Choose skip, update or create for the duplicates.")]})
        with_matches = staged.exclude(matches=[]).filter(errors={})
        if duplicates == "skip_duplicates":
            changed += with_matches.update(action=RowAction.SKIP)
        elif duplicates == "create_duplicates":
            changed += with_matches.update(action=RowAction.CREATE)
        else:
            changed += with_matches.filter(target_id__isnull=False).update(action=RowAction.UPDATE)
    errors = {}
    wanted: dict[int, str] = {}
    for raw_number, action in (rows or {}).items():
        try:
            number = int(raw_number)
        except (TypeError, ValueError):
            errors[str(raw_number)[:20]] = [_("Unknown row.")]
            continue
        if action not in RowAction.values:
            errors[str(number)] = [_("Choose create, update or skip.")]
            continue
        wanted[number] = action
    by_number = {r.number: r for r in staged.filter(number__in=list(wanted))} if wanted else {}
    updates = []
    for number, action in wanted.items():
        row = by_number.get(number)
        if row is None:
            errors[str(number)] = [_("Unknown row.")]
        elif row.errors and action != RowAction.SKIP:
            errors[str(number)] = [_("A row with errors cannot be imported; correct the file.")]
        elif action == RowAction.UPDATE and row.target_id is None:
            errors[str(number)] = [str(target.no_update_message)]
        else:
            row.action = action
            updates.append(row)
    if errors:
        raise ValidationError({"rows": [f"{n}: {' '.join(m)}" for n, m in errors.items()]})
    ImportRow.objects.bulk_update(updates, ["action"], batch_size=500)
    return {"changed": changed + len(updates)}


def import_job_counts(job: ImportJob) -> dict:
    """What a run would do now: rows to create, update and skip."""
    from django.db.models import Count

    counts = dict(ImportRow.objects.filter(job=job).values_list("action").annotate(n=Count("id")).order_by())
    return {a: counts.get(a, 0) for a in RowAction.values}


# ------------------------------------------------------------------------------ run


@transaction.atomic
def import_job_start(*, job: ImportJob, actor: User) -> ImportJob:
    _check_job(job, actor, ImportStatus.PREVIEW)
    job.status = ImportStatus.QUEUED
    job.progress = 0
    job.step = ""
    job.save(update_fields=["status", "progress", "step"])
    from kehu.integrations.tasks import import_run

    transaction.on_commit(lambda: import_run.enqueue(job.pk))
    return job


def import_job_run(job_id: int) -> None:
    """The task: prepare every chosen row (progress committed per batch), then write them all
    in one transaction. Any failure rolls the whole import back and marks the job failed."""
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if job.status != ImportStatus.QUEUED:
        return
    actor = job.created_by
    with _in_language_of(actor):
        _run(job, actor)


def _run(job: ImportJob, actor: User) -> None:
    _save_progress(job, status=ImportStatus.RUNNING, step="prepare", progress=0)
    target = get_target(job.target)
    try:
        if target is None or not target.may_import(actor):
            raise PermissionDenied
        started = time.monotonic()
        plan = _prepare(job, target.plan(job, actor))
        _save_progress(job, step="write")
        writing = time.monotonic()
        with transaction.atomic():
            report = plan.write()
        # How long the preparation took, and how long the write transaction held the database.
        report["seconds"] = {"prepare": round(writing - started, 1), "write": round(time.monotonic() - writing, 1)}
    except Exception as exc:  # noqa: BLE001 - the job records every failure; nothing was written
        if not isinstance(exc, (ValidationError, PermissionDenied)):
            log.exception("Import %s failed", job.pk)
        if isinstance(exc, ValidationError):
            message = " ".join(exc.messages)
        elif isinstance(exc, PermissionDenied):
            message = str(target.no_longer_message) if target else _("This import can no longer run.")
        else:
            message = _("The import failed and nothing was saved. Try again, or ask your administrator.")
        _save_progress(job, status=ImportStatus.FAILED, step="", error=message, finished_at=timezone.now())
        return
    _save_progress(
        job,
        status=ImportStatus.DONE,
        step="",
        progress=job.total_rows,
        report={**job.report, **report},
        finished_at=timezone.now(),
    )


def _prepare(job: ImportJob, plan):
    """Hand the staged rows to the target's plan in batches, committing the progress after each."""
    done = 0
    rows = (
        ImportRow.objects.filter(job=job)
        .order_by("number")
        .values_list("number", "values", "errors", "action", "target_id")
    )
    batch: list[tuple] = []
    for row in rows.iterator(chunk_size=BATCH):
        batch.append(row)
        if len(batch) >= BATCH:
            plan.add(batch)
            done += len(batch)
            batch = []
            _save_progress(job, progress=done)
    if batch:
        plan.add(batch)
        _save_progress(job, progress=done + len(batch))
    return plan


# ------------------------------------------------------------------------------ housekeeping


def import_job_delete(*, job: ImportJob, actor: User) -> None:
    if job.created_by_id != actor.pk:
        raise PermissionDenied
    if job.is_working:
        raise ValidationError(_("This import is still working; wait until it has finished."))
    storage.remove(job.stored_path)
    job.delete()


def transfer_cleanup(days: int | None = None) -> dict:
    """Old uploads, exports and staged rows go: files after KEHU_TRANSFER_KEEP_DAYS (7) days."""
    from datetime import timedelta

    from kehu.integrations.models import ExportJob

    days = days if days is not None else int(getattr(settings, "KEHU_TRANSFER_KEEP_DAYS", 7))
    cutoff = timezone.now() - timedelta(days=days)
    old_imports = ImportJob.objects.filter(created_at__lt=cutoff).exclude(
        status__in=[ImportStatus.PREVIEWING, ImportStatus.QUEUED, ImportStatus.RUNNING]
    )
    rows = ImportRow.objects.filter(job__in=old_imports).delete()[0]
    old_imports.update(stored_path="")
    ExportJob.objects.filter(created_at__lt=cutoff).update(stored_path="")
    files = storage.remove_files_older_than(days)
    return {"files": files, "rows": rows}
