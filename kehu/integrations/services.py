"""Imports (INT-1): upload (the sheet and header row found) → column mapping (the user may pick
another sheet or header row) → value mapping (picklist values that are none of the choices;
only when the file has such) → preview (staged rows with errors, warnings, duplicate matches and
the rows that are not records, a choice per row) → run. Every write goes through here.

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
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core import events
from kehu.core.checkpoints import checkpoint
from kehu.core.text import printable
from kehu.integrations import layout, storage
from kehu.integrations.bulk import Inserter
from kehu.integrations.events import TransferEvent
from kehu.integrations.fields import guess_choice, header_key, header_signature, known_choice
from kehu.integrations.models import FileFormat, ImportJob, ImportMapping, ImportRow, ImportStatus, RowAction
from kehu.integrations.readers import SUFFIXES, Table, UnreadableFileError, detect_format
from kehu.integrations.sheets import WorkbookError
from kehu.integrations.targets import CUSTOMERS, ImportTarget, Staged, get_target, targets_for
from kehu.users.language import in_language_of
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
            _("The import's state is “%(status)s”: that step is not possible now.")
            % {"status": job.get_status_display()},
            code="transition",
        )
    return target


def _file_error(message: str) -> ValidationError:
    return ValidationError({"file": [message]})


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
    file_name = (
        printable(os.path.basename(getattr(uploaded, "name", "") or "upload"), multiline=False)[:200] or "upload"
    )
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
                relative, path = storage.new_path("imports", SUFFIXES.get(fmt, ".csv"))
                out = open(path, "wb")  # noqa: SIM115 - closed below
            out.write(chunk)
        if path is None:
            raise UnreadableFileError(_("The file is empty."))
        out.close()
        table = Table(path, fmt, matches=kind.header_matcher() if fmt != FileFormat.VCARD else None)
        remembered = _remembered(table, kind, path)
        rows = _count_rows(table)
        sheets = _sheet_list(table)
        table.close()
    except UnreadableFileError as exc:
        if relative:
            storage.remove(relative)
        raise _file_error(exc.message) from None
    _check_row_count(rows, relative)
    headers = [printable(h, multiline=False)[:200] for h in table.headers][:200]
    if fmt == FileFormat.VCARD:
        mapping, from_memory = kind.vcard_mapping(), False
    elif remembered is not None:
        mapping, from_memory = remembered.mapping, True
    else:
        mapping, from_memory = kind.guess_mapping(headers), False
    return ImportJob.objects.create(
        created_by=actor,
        target=kind.name,
        file_name=file_name,
        stored_path=relative,
        format=fmt,
        encoding=table.encoding,
        sheet=table.sheet[:100],
        sheets=sheets,
        header_row=table.header_row,
        header_depth=table.header_depth,
        headers=headers,
        signature=header_signature(headers, kind.name),
        mapping=_allowed(mapping, kind, actor),
        mapping_remembered=from_memory,
        value_mapping=remembered.value_mapping if remembered is not None else {},
        total_rows=rows,
    )


def _allowed(mapping: dict, kind: ImportTarget, actor: User) -> dict:
    mapping = {col: f for col, f in mapping.items() if f in kind.fields}
    if not kind.may_map_owner(actor):
        mapping = {col: f for col, f in mapping.items() if f != "owner"}
    return mapping


def _check_row_count(rows: int, relative: str) -> None:
    if rows == 0:
        storage.remove(relative)
        raise _file_error(_("The file has column names but no rows."))
    if rows > max_rows():
        storage.remove(relative)
        raise _file_error(
            _("The file has %(rows)s rows; one import takes at most %(max)s. Split the file.")
            % {"rows": f"{rows:,}", "max": f"{max_rows():,}"}
        )


def _sheet_list(table: Table) -> list[dict]:
    """The workbook's sheets with their sizes (each sheet parsed here, while the file is open)."""
    try:
        return [{"name": s.name[:100], "hidden": s.hidden, "rows": s.last_row} for s in table.sheets][:50]
    except WorkbookError as exc:
        raise UnreadableFileError(exc.message) from exc


def _remembered(table: Table, kind: ImportTarget, path) -> ImportMapping | None:
    """The mapping remembered for the header found; failing that, one saved for a header elsewhere in
    a sheet of this name (a template whose header row the user had to correct). The table is moved
    to that header when one fits."""
    if table.format == FileFormat.VCARD:
        return None
    found = ImportMapping.objects.filter(signature=header_signature(table.headers, kind.name)).first()
    if found is not None:
        return found
    here = (table.sheet, table.header_row, table.header_depth)
    candidates = (
        ImportMapping.objects.exclude(layout={})
        .filter(layout__sheet__in=[s.name for s in table.sheets] or [""])
        .order_by("-updated_at")[:20]
    )
    for candidate in candidates:
        where = candidate.layout
        try:
            place = (str(where["sheet"]), int(where["header_row"]), int(where["header_depth"]))
        except (KeyError, TypeError, ValueError):
            continue
        if place == here:
            continue
        if place[0] != table.sheet:
            try:
                table.use_sheet(place[0])  # the sheet the user chose last time
            except UnreadableFileError:
                continue
        if 0 < place[1] <= len(table.head):
            headers = layout.headers_at(table.head, place[1], place[2], table.merges)
            if header_signature(headers, kind.name) == candidate.signature:
                table.place_header(place[1], place[2])
                return candidate
        if table.sheet != here[0]:
            table.use_sheet(here[0])
    return None


def _count_rows(table: Table) -> int:
    """Rows below the header: what the workbook states (read at once), else counted (blank
    lines not). The preview counts exactly; this is for the limit and the first progress figures."""
    hint = table.row_count_hint()
    if hint is not None:
        return hint
    return sum(1 for _number, cells in table.rows() if cells is None or any(cells))


# ------------------------------------------------------------------------------ layout


@transaction.atomic
def import_job_set_layout(*, job: ImportJob, actor: User, sheet: str = "", header_row: int = 0, header_depth: int = 1):
    """Read the file again from another sheet and/or header row (0: find it) and guess (or recall)
    the mapping for the headers found there. Back to the mapping step."""
    kind = _check_job(job, actor, ImportStatus.MAPPING, ImportStatus.VALUES, ImportStatus.PREVIEW, ImportStatus.FAILED)
    if job.format == FileFormat.VCARD:
        raise ValidationError({"header_row": [_("A vCard file has no sheets or header rows.")]})
    if sheet and sheet not in {s["name"] for s in job.sheets}:
        raise ValidationError({"sheet": [_("The workbook has no sheet “%(name)s”.") % {"name": sheet[:100]}]})
    if header_depth not in (1, 2):
        raise ValidationError({"header_depth": [_("The header spans one or two rows.")]})
    if header_row < 0 or header_row > layout.SCAN_ROWS:
        raise ValidationError(
            {"header_row": [_("The header must be in one of the first %(count)s rows.") % {"count": layout.SCAN_ROWS}]}
        )
    path = storage.absolute(job.stored_path)
    if path is None or not path.exists():
        raise ValidationError({"file": [_("The uploaded file is no longer there. Upload it again.")]})
    try:
        table = Table(
            path,
            job.format,
            sheet=sheet or job.sheet,
            header_row=header_row,
            header_depth=header_depth,
            matches=kind.header_matcher(),
        )
        rows = _count_rows(table)
        table.close()
    except UnreadableFileError as exc:
        raise ValidationError({"header_row": [exc.message]}) from None
    if rows > max_rows():
        raise ValidationError({"header_row": [_("The sheet has more than %(max)s rows.") % {"max": f"{max_rows():,}"}]})
    headers = [printable(h, multiline=False)[:200] for h in table.headers][:200]
    signature = header_signature(headers, kind.name)
    remembered = ImportMapping.objects.filter(signature=signature).first()
    ImportRow.objects.filter(job=job).delete()
    job.sheet = table.sheet[:100]
    job.header_row, job.header_depth = table.header_row, table.header_depth
    job.headers, job.signature = headers, signature
    job.mapping = _allowed(remembered.mapping if remembered else kind.guess_mapping(headers), kind, actor)
    job.mapping_remembered = remembered is not None
    job.value_mapping = remembered.value_mapping if remembered else job.value_mapping
    job.unmatched = {}
    job.total_rows, job.progress = rows, 0
    job.status, job.step, job.error, job.report = ImportStatus.MAPPING, "", "", {}
    job.save()
    return job


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
    _check_job(job, actor, ImportStatus.MAPPING, ImportStatus.VALUES, ImportStatus.PREVIEW, ImportStatus.FAILED)
    job.mapping = clean_mapping(job, actor, mapping)
    job.status = ImportStatus.PREVIEWING
    job.progress = 0
    job.step = "scan"  # picklist values first: the value step comes before the rows are checked
    job.error = ""
    job.report = {}
    job.unmatched = {}
    job.save(update_fields=["mapping", "status", "progress", "step", "error", "report", "unmatched"])
    _remember(job, actor)
    from kehu.integrations.tasks import import_preview

    transaction.on_commit(lambda: import_preview.enqueue(job.pk))
    return job


def _remember(job: ImportJob, actor: User) -> None:
    """The mapping, value mapping and header place, for the next file from the same template."""
    if job.format == FileFormat.VCARD:
        return
    where = {"sheet": job.sheet, "header_row": job.header_row, "header_depth": job.header_depth}
    ImportMapping.objects.update_or_create(
        signature=job.signature,
        defaults={
            "headers": job.headers,
            "mapping": job.mapping,
            "value_mapping": job.value_mapping,
            "layout": where,
            "updated_by": actor,
            "updated_at": timezone.now(),
        },
    )


# ------------------------------------------------------------------------------ values

MAX_VALUES = 100  # distinct unmatched values offered per column; the rest get the warning


def _choice_columns(job: ImportJob, target: ImportTarget) -> list[tuple[int, object]]:
    return [
        (int(col), target.fields[name])
        for col, name in job.mapping.items()
        if name in target.fields and target.fields[name].choices is not None
    ]


@transaction.atomic
def import_job_set_values(*, job: ImportJob, actor: User, values: dict) -> ImportJob:
    """The value mapping: {field: {value as written (or normalised): choice, or "" to leave the
    field empty}} for the picklist values the file holds; remembered with the column mapping.
    Starts the check of the rows."""
    target = _check_job(job, actor, ImportStatus.VALUES, ImportStatus.PREVIEW)
    columns = {f.name: f for _col, f in _choice_columns(job, target)}
    chosen = {name: dict(known) for name, known in (job.value_mapping or {}).items()}
    errors = []
    for name, pairs in (values or {}).items():
        f = columns.get(name)
        if f is None:
            errors.append(_("“%(field)s” is not a picklist column of this import.") % {"field": str(name)[:40]})
            continue
        allowed = {v for v, _label in f.choices.choices if v}
        for raw, choice in (pairs or {}).items():
            choice = choice or ""
            if choice and choice not in allowed:
                errors.append(
                    _("“%(value)s” is not a choice of %(field)s.") % {"value": str(choice)[:40], "field": f.label}
                )
                continue
            key = header_key(str(raw))
            if key:
                chosen.setdefault(name, {})[key] = choice
    if errors:
        raise ValidationError({"values": errors})
    job.value_mapping = chosen
    job.status = ImportStatus.PREVIEWING
    job.progress = 0
    job.step = "check"
    job.error = ""
    job.report = {}
    job.save(update_fields=["value_mapping", "status", "progress", "step", "error", "report"])
    _remember(job, actor)
    from kehu.integrations.tasks import import_preview

    transaction.on_commit(lambda: import_preview.enqueue(job.pk))
    return job


def _scan_values(job: ImportJob, target: ImportTarget, table: Table) -> dict:
    """{field: [{"value", "key", "count", "guess"}]}: the picklist values of the records that are
    none of the choices, most frequent first."""
    columns = _choice_columns(job, target)
    if not columns:
        return {}
    mapped = [int(col) for col in job.mapping]
    classify = job.format != FileFormat.VCARD
    header_cells = table.header_cells if classify else []
    found: dict[str, dict[str, list]] = {f.name: {} for _col, f in columns}
    for _number, cells in table.rows():
        if cells is None or (classify and layout.skip_reason(cells, mapped, header_cells)):
            continue
        for col, f in columns:
            text = cells[col] if col < len(cells) else ""
            if not text:
                continue
            key = header_key(text)
            seen = found[f.name]
            if key in seen:
                seen[key][1] += 1
            elif known_choice(f, key) is None and len(seen) < MAX_VALUES:
                seen[key] = [text[:100], 1]
    chosen = job.value_mapping or {}
    unmatched = {}
    for _col, f in columns:
        if not found[f.name]:
            continue
        remembered = chosen.get(f.name, {})
        unmatched[f.name] = [
            {
                "value": text,
                "key": key,
                "count": count,
                "guess": remembered[key] if key in remembered else guess_choice(f, text),
                "remembered": key in remembered,
            }
            for key, (text, count) in sorted(found[f.name].items(), key=lambda item: -item[1][1])
        ]
    return unmatched


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
        with in_language_of(actor):
            _preview(job, actor)
    except UnreadableFileError as exc:
        ImportRow.objects.filter(job=job).delete()
        _save_progress(job, status=ImportStatus.FAILED, error=exc.message, step="")
    except Exception:
        log.exception("Import %s: preview failed", job.pk)
        ImportRow.objects.filter(job=job).delete()
        _save_progress(job, status=ImportStatus.FAILED, error=_("Checking the file failed unexpectedly."), step="")


def job_table(job: ImportJob) -> Table | None:
    """The job's file read at its sheet and header (None when it is gone or unreadable now): for
    the pages' samples and the top of the sheet."""
    try:
        return _open(job)
    except UnreadableFileError:
        return None


# Rows of the sheet shown above the mapping (page and API), to see where the header is.
TOP_ROWS = 12


def job_head(job: ImportJob, count: int = TOP_ROWS) -> list[tuple[int, list[str]]]:
    """The first rows of the job's sheet as they are, numbered from 1."""
    if job.format == FileFormat.VCARD:
        return []
    table = job_table(job)
    if table is None:
        return []
    table.close()
    return list(enumerate(table.head[:count], start=1))


def _open(job: ImportJob) -> Table:
    path = storage.absolute(job.stored_path)
    if path is None or not path.exists():
        raise UnreadableFileError(
            _("The uploaded file is no longer there (uploads are kept for a few days). Upload it again.")
        )
    if job.format == FileFormat.VCARD:
        return Table(path, job.format)
    return Table(path, job.format, sheet=job.sheet, header_row=job.header_row, header_depth=job.header_depth)


def _preview(job: ImportJob, actor: User) -> None:
    """Stage every row (progress per batch), then match duplicates for the whole file at once
    (set-based: a handful of queries per 500 keys, one pass for phones) and mark those rows.
    Rows that are not records (notes, totals, a repeated header) are staged with the reason;
    blank rows are counted. First, when the step is "scan", the picklist values are looked at:
    values that are none of the choices and were never mapped stop at the value step."""
    ImportRow.objects.filter(job=job).delete()
    target = target_of(job)
    table = _open(job)
    try:
        if job.step == "scan":
            unmatched = _scan_values(job, target, table)
            known = job.value_mapping or {}
            if any(item["key"] not in known.get(name, {}) for name, items in unmatched.items() for item in items):
                _save_progress(job, status=ImportStatus.VALUES, unmatched=unmatched, step="", progress=0)
                return
            _save_progress(job, unmatched=unmatched, step="check")
        _stage(job, actor, target, table)
    finally:
        table.close()


def _stage(job: ImportJob, actor: User, target: ImportTarget, table: Table) -> None:
    stager = target.stager(job, actor)
    inserter = Inserter(ImportRow)
    counts = {"rows": 0, "errors": 0, "warnings": 0, "duplicates": 0}
    not_records = dict.fromkeys(layout.SKIP_REASONS, 0)
    batch: list[Staged] = []
    to_match: list[tuple[int, dict]] = []  # (row number, values) of rows without errors
    classify = job.format != FileFormat.VCARD
    mapped = [int(col) for col in job.mapping]
    header_cells = table.header_cells if classify else []
    seen = 0

    def flush():
        for row in batch:
            if row.skip_reason:
                continue
            counts["errors"] += bool(row.errors)
            counts["warnings"] += bool(row.warnings)
            if not row.errors:
                to_match.append((row.number, row.values))
        with transaction.atomic():
            inserter.insert(row.as_row(job.pk) for row in batch)
            _save_progress(job, progress=seen)
        batch.clear()

    for number, cells in table.rows():
        seen += 1
        reason = layout.skip_reason(cells, mapped, header_cells) if classify else ""
        if reason == layout.BLANK:
            not_records[reason] += 1
            continue
        if reason:
            not_records[reason] += 1
            text = " · ".join(c for c in cells if c)[:200]
            batch.append(Staged(number, {"text": text}, {}, RowAction.SKIP, skip_reason=reason))
        else:
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
    if counts["rows"] == 0:
        raise UnreadableFileError(_("The file has column names but no rows."))
    if job.format == FileFormat.VCARD:
        # One row per BEGIN:VCARD line: the report adds up to this count of the file.
        counts["cards"] = table.vcards.begin_count
    counts.update(getattr(stager, "counts", {}))
    _save_progress(job, step="match")
    matched = target.match(to_match, actor)
    counts["duplicates"] = len(matched)
    counts["not_records"] = {k: v for k, v in not_records.items() if v}
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
        elif row.skip_reason and action != RowAction.SKIP:
            errors[str(number)] = [_("This row is not a record (a note, a total or a repeated header).")]
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

    counts = dict(
        ImportRow.objects.filter(job=job, skip_reason="").values_list("action").annotate(n=Count("id")).order_by()
    )
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


def import_job_may_retry(job: ImportJob) -> bool:
    """A failed run can run again as it was checked: its staged rows are still there (a failed
    check has none: the columns are mapped and checked again instead)."""
    return (
        job.status == ImportStatus.FAILED
        and bool(job.report.get("rows"))
        and ImportRow.objects.filter(job=job).exists()
    )


@transaction.atomic
def import_job_retry(*, job: ImportJob, actor: User) -> ImportJob:
    """Run a failed import again with the rows and choices of its preview (nothing of the failed
    run was saved: the run writes all rows in one transaction)."""
    _check_job(job, actor, ImportStatus.FAILED)
    if not import_job_may_retry(job):
        raise ValidationError(
            _("This import cannot run again as it was: map the columns and check the rows again."), code="transition"
        )
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.QUEUED, progress=0, step="", error="", finished_at=None
    )
    job.refresh_from_db()
    from kehu.integrations.tasks import import_run

    transaction.on_commit(lambda: import_run.enqueue(job.pk))
    return job


def import_job_lost(job_id: int, *, reason) -> None:
    """The worker running the import died (kehu.core.lost_tasks): nothing was saved (the rows are
    written in one transaction, which a dead process never commits); the job says so, can be
    retried, and whoever started it is told."""
    job = ImportJob.objects.select_related("created_by").filter(pk=job_id).first()
    if job is None or job.status not in (ImportStatus.QUEUED, ImportStatus.RUNNING):
        return
    with in_language_of(job.created_by):
        # One message, so Chinese joins its sentences without a space.
        message = _("%(reason)s Nothing was saved; run the import again.") % {"reason": reason}
        _save_progress(job, status=ImportStatus.FAILED, step="", error=message, finished_at=timezone.now())
        _tell(job, TransferEvent.IMPORT_FAILED, message)


def import_preview_lost(job_id: int, *, reason) -> None:
    """The worker checking the file died: the rows it had staged go, the columns can be checked again."""
    job = ImportJob.objects.select_related("created_by").filter(pk=job_id).first()
    if job is None or job.status != ImportStatus.PREVIEWING:
        return
    ImportRow.objects.filter(job=job).delete()
    with in_language_of(job.created_by):
        then = _("Check the rows again.")
        message = f"{reason} {then}"
        _save_progress(job, status=ImportStatus.FAILED, step="", error=message)


def import_job_run(job_id: int) -> None:
    """The task: prepare every chosen row (progress committed per batch), then write them all
    in one transaction. Any failure rolls the whole import back and marks the job failed."""
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if job.status != ImportStatus.QUEUED:
        return
    actor = job.created_by
    with in_language_of(actor):
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
            checkpoint("import.written")  # the crash tests stop here (kehu.core.checkpoints)
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
        _tell(job, TransferEvent.IMPORT_FAILED, str(message))
        return
    _save_progress(
        job,
        status=ImportStatus.DONE,
        step="",
        progress=job.total_rows,
        report={**job.report, **report},
        finished_at=timezone.now(),
    )
    _tell(job, TransferEvent.IMPORT_FINISHED, job.file_name)


def _tell(job: ImportJob, kind: str, summary: str) -> None:
    """Whoever started the import hears how it ended (it ran in the background, recorded by the system)."""
    with transaction.atomic():
        events.record(
            kind,
            subject=job,
            summary=summary,
            payload={"report": {k: v for k, v in job.report.items() if isinstance(v, int)}},
            notify=[job.created_by_id],
            link=reverse("integrations:import-detail", args=[job.pk]),
        )


def _prepare(job: ImportJob, plan):
    """Hand the staged rows to the target's plan in batches, committing the progress after each."""
    done = 0
    rows = (
        ImportRow.objects.filter(job=job, skip_reason="")
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
            checkpoint("import.prepared")
    if batch:
        plan.add(batch)
        _save_progress(job, progress=done + len(batch))
    return plan


# ------------------------------------------------------------------------------ housekeeping


def import_job_delete(*, job: ImportJob, actor: User) -> None:
    if job.created_by_id != actor.pk:
        raise PermissionDenied
    if job.is_working:
        raise ValidationError(_("This import is still working; wait until it has finished."), code="transition")
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
