"""Imports (INT-1): upload → column mapping → preview (staged rows with errors and duplicate
matches, a choice per row) → run. Every write goes through here.

Bulk, but through the customers app's own rules: values are cleaned by
`kehu.customers.services.customer_clean` / `contact_clean`, duplicates are found by
`kehu.customers.dedupe.find_duplicates_many` (set-based), the search tables are filled in
bulk, and every created or changed customer gets its timeline entry (IMPORTED) and audit
entry. The run applies all rows in one transaction: a failure leaves nothing behind.
The slow parts (reading, cleaning, matching, preparing) happen before that transaction, with
progress committed as they go, so the write lock is held only for the inserts.
"""

import logging
import os
import time
from dataclasses import dataclass, field
from datetime import date
from types import SimpleNamespace

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core.audit import snapshot
from kehu.core.models import AuditAction, AuditEntry
from kehu.customers.dedupe import find_duplicates_many
from kehu.customers.models import Contact, Customer, TimelineEntry, TimelineKind
from kehu.customers.normalise import normalise_name
from kehu.customers.search import BIGRAM_TABLE, TRIGRAM_TABLE, bigrams, search_index_update, search_text_for
from kehu.customers.selectors import customer_qs_visible_to, person_name_key
from kehu.customers.services import CONTACT_FIELDS, CUSTOMER_FIELDS, contact_clean, customer_clean
from kehu.integrations import storage
from kehu.integrations.bulk import Inserter
from kehu.integrations.fields import FIELDS, CellError, guess_mapping, header_signature, parse_cell
from kehu.integrations.models import FileFormat, ImportJob, ImportMapping, ImportRow, ImportStatus, RowAction
from kehu.integrations.readers import VCARD_FIELDS, Table, UnreadableFileError, detect_format
from kehu.users.models import User
from kehu.users.selectors import assignable_owners

log = logging.getLogger(__name__)

BATCH = 2000
MAX_MATCHES = 5


def max_bytes() -> int:
    return int(getattr(settings, "KEHU_IMPORT_MAX_BYTES", 50 * 1024 * 1024))


def max_rows() -> int:
    return int(getattr(settings, "KEHU_IMPORT_MAX_ROWS", 200_000))


def may_import(user: User) -> bool:
    return user.has_perm("integrations.import_customers") and user.has_perm("customers.add_customer")


def may_map_owner(user: User) -> bool:
    """Who assigns customers from the pool may give imported rows to others, or leave them ownerless."""
    return user.has_perm("pool.assign_customer")


def _check_job(job: ImportJob, actor: User, *statuses) -> None:
    if job.created_by_id != actor.pk or not may_import(actor):
        raise PermissionDenied
    if statuses and job.status not in statuses:
        raise ValidationError(
            _("This import is %(status)s: that step is not possible now.")
            % {"status": job.get_status_display().lower()}
        )


def _file_error(message: str) -> ValidationError:
    return ValidationError({"file": [message]})


# ------------------------------------------------------------------------------ upload


@transaction.atomic
def import_job_create(*, actor: User, uploaded) -> ImportJob:
    """Store the upload privately, read its headers and guess (or recall) the column mapping."""
    if not may_import(actor):
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
    signature = header_signature(headers)
    remembered = ImportMapping.objects.filter(signature=signature).first()
    if fmt == FileFormat.VCARD:
        mapping, from_memory = {str(i): f for i, f in enumerate(VCARD_FIELDS)}, False
    elif remembered is not None:
        mapping, from_memory = remembered.mapping, True
    else:
        mapping, from_memory = guess_mapping(headers), False
    if not may_map_owner(actor):
        mapping = {col: f for col, f in mapping.items() if f != "owner"}
    return ImportJob.objects.create(
        created_by=actor,
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
        if name not in FIELDS:
            errors.append(_("Unknown field %(field)s.") % {"field": str(name)[:40]})
            continue
        if name == "owner" and not may_map_owner(actor):
            errors.append(_("Only people who assign customers may import an owner column."))
            continue
        if name in seen:
            errors.append(
                _("“%(field)s” is chosen for two columns: %(a)s and %(b)s.")
                % {"field": FIELDS[name].label, "a": job.headers[int(seen[name])], "b": job.headers[index]}
            )
            continue
        seen[name] = str(index)
        clean[str(index)] = name
    if not errors and "name" not in seen and "contact_name" not in seen:
        errors.append(_("Choose the column with the customer name (or the contact name)."))
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


@dataclass
class Staged:
    """A row on its way into ImportRow (plain, cheaper than a model instance at 100k rows)."""

    number: int
    values: dict
    errors: dict
    action: str = RowAction.CREATE
    matches: list = field(default_factory=list)
    target_id: int | None = None

    def as_row(self, job_id: int) -> dict:
        return {
            "job_id": job_id,
            "number": self.number,
            "values": self.values,
            "errors": self.errors,
            "matches": self.matches,
            "action": self.action,
            "target_id": self.target_id,
        }


class _Stager:
    """Turns file rows into staged rows: parsed, cleaned by the customers app's rules, with owner and errors."""

    def __init__(self, job: ImportJob, actor: User):
        self.job = job
        self.actor = actor
        self.mapping = [(int(col), FIELDS[name]) for col, name in job.mapping.items()]
        self.owner_mapped = "owner" in job.mapping.values() and may_map_owner(actor)
        self.owners = {u.username.lower(): u for u in assignable_owners(actor)} if self.owner_mapped else {}
        self.customer_fields = {f.attr for _i, f in self.mapping if f.model is Customer} | {"name", "kind"}
        self.contact_fields = {f.attr for _i, f in self.mapping if f.model is Contact} | {"name"}
        # One record of each kind, reset for every row: a model instance per row costs more than its checks.
        self.customer = Customer()
        self.contact = Contact()
        self.customer_defaults = {
            f.attname: f.get_default() for f in Customer._meta.concrete_fields if f.name in self.customer_fields
        }
        self.contact_defaults = {
            f.attname: f.get_default() for f in Contact._meta.concrete_fields if f.name in self.contact_fields
        }

    def stage(self, number: int, cells: list[str] | None) -> Staged:
        errors: dict[str, list[str]] = {}
        customer: dict = {}
        contact: dict = {}
        owner_name = ""
        if cells is None:
            return Staged(number, {}, {"__all__": [_("This vCard could not be read.")]}, RowAction.SKIP)
        for index, fld in self.mapping:
            text = cells[index].strip() if index < len(cells) else ""
            if not text:
                continue
            if fld.name == "owner":
                owner_name = text
                continue
            try:
                value = parse_cell(fld, text)
            except CellError as exc:
                errors[fld.name] = [str(exc)]
                continue
            (customer if fld.model is Customer else contact)[fld.attr] = value
        if not customer.get("name") and contact.get("name"):
            customer["name"] = contact["name"]
            customer.setdefault("kind", "person")
        owner = self.actor
        if self.owner_mapped:
            owner = None
            if owner_name:
                owner = self.owners.get(owner_name.lower())
                if owner is None:
                    errors["owner"] = [_("“%(name)s” is not a user you may give customers to.") % {"name": owner_name}]
        record = self.customer
        for name, value in self.customer_defaults.items():
            setattr(record, name, value)
        for name, value in customer.items():
            setattr(record, name, value)
        record.owner = owner
        try:
            customer_clean(record, owner_required=not self.owner_mapped, fields=self.customer_fields)
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                errors.setdefault(name, []).extend(messages)
        customer = {k: getattr(record, k) for k in customer}
        if contact:
            person = self.contact
            for name, value in self.contact_defaults.items():
                setattr(person, name, value)
            for name, value in contact.items():
                setattr(person, name, value)
            try:
                contact_clean(person, fields=self.contact_fields)
            except ValidationError as exc:
                for name, messages in exc.message_dict.items():
                    errors.setdefault(f"contact_{name}", []).extend(messages)
            contact = {k: _plain(getattr(person, k)) for k in contact}
        values = {
            "customer": customer,
            "contact": contact,
            "owner": owner.username if owner else "",
            "name_key": record.name_key,
        }
        return Staged(number, values, errors, RowAction.SKIP if errors else RowAction.CREATE)


def _plain(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


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
    table = Table(path, job.format)
    stager = _Stager(job, actor)
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
    _save_progress(job, step="match")
    matched = _match(to_match, actor)
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


def _match(rows: list[tuple[int, dict]], actor: User) -> dict[int, tuple[list, int | None]]:
    """{row number: (matches, the first match in the user's scope)} for rows that look like a
    customer in the database (any scope) or like an earlier row of the file."""
    queries = [
        {
            "name_key": values.get("name_key"),
            "name": values["customer"].get("name", ""),
            "phones": [
                values["customer"].get("phone", ""),
                values["contact"].get("mobile", ""),
                values["contact"].get("office_phone", ""),
            ],
            "emails": [values["customer"].get("email", ""), values["contact"].get("email", "")],
            "credit_code": values["customer"].get("credit_code", ""),
        }
        for _number, values in rows
    ]
    found = find_duplicates_many(queries) if queries else []
    ids = sorted({pk for matches in found for pk in matches})
    visible = set()
    names = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        visible |= set(customer_qs_visible_to(actor).filter(pk__in=chunk).values_list("pk", flat=True))
        for c in (
            Customer.objects.filter(pk__in=chunk)
            .select_related("owner")
            .only("pk", "name", "owner__username", "owner__first_name", "owner__last_name")
        ):
            names[c.pk] = (c.name, c.owner.display_name if c.owner else "")
    first_rows: dict[str, int] = {}  # name key → first row of the file with it
    result = {}
    for (number, values), matches in zip(rows, found, strict=True):
        ranked = sorted(matches, key=lambda pk: (-len(matches[pk]), "credit_code" not in matches[pk], -pk))
        found_here = [
            {"id": pk, "name": names[pk][0], "owner": names[pk][1], "reasons": matches[pk], "in_scope": pk in visible}
            for pk in ranked[:MAX_MATCHES]
            if pk in names
        ]
        key = values.get("name_key") or normalise_name(values["customer"].get("name", ""))
        if key and key in first_rows:
            found_here.append({"row": first_rows[key], "reasons": ["name"]})
        elif key:
            first_rows[key] = number
        if found_here:
            target = next((m["id"] for m in found_here if m.get("in_scope")), None)
            result[number] = (found_here, target)
    return result


# ------------------------------------------------------------------------------ choices


BULK_CHOICES = ("skip_duplicates", "update_duplicates", "create_duplicates")


@transaction.atomic
def import_job_choose(*, job: ImportJob, actor: User, rows: dict | None = None, duplicates: str = "") -> dict:
    """Per-row choices {row number: create|update|skip} and/or one choice for every row with
    duplicates. Rows with errors stay skipped; update needs a match in the user's scope."""
    _check_job(job, actor, ImportStatus.PREVIEW)
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
            errors[str(number)] = [_("There is no customer of yours to update for this row.")]
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


class _Plan:
    def __init__(self):
        self.new_customers: list[dict] = []
        self.new_contacts: list[tuple[dict, object]] = []  # (contact row, its customer: row dict or Customer)
        self.changed_customers: dict[int, Customer] = {}
        self.changed_contacts: list[Contact] = []
        self.customer_changes: dict[int, dict] = {}
        self.contact_changes: dict[int, dict] = {}
        self.skipped = 0


def import_job_run(job_id: int) -> None:
    """The task: prepare every chosen row (progress committed per batch), then write them all
    in one transaction. Any failure rolls the whole import back and marks the job failed."""
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if job.status != ImportStatus.QUEUED:
        return
    actor = job.created_by
    _save_progress(job, status=ImportStatus.RUNNING, step="prepare", progress=0)
    try:
        if not may_import(actor):
            raise PermissionDenied
        started = time.monotonic()
        plan = _prepare(job, actor)
        _save_progress(job, step="write")
        writing = time.monotonic()
        with transaction.atomic():
            report = _write(job, actor, plan)
        # How long the preparation took, and how long the write transaction held the database.
        report["seconds"] = {"prepare": round(writing - started, 1), "write": round(time.monotonic() - writing, 1)}
    except Exception as exc:  # noqa: BLE001 - the job records every failure; nothing was written
        if not isinstance(exc, (ValidationError, PermissionDenied)):
            log.exception("Import %s failed", job.pk)
        if isinstance(exc, ValidationError):
            message = " ".join(exc.messages)
        elif isinstance(exc, PermissionDenied):
            message = _("You may no longer import customers.")
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


def _prepare(job: ImportJob, actor: User) -> _Plan:
    plan = _Plan()
    owners = {u.username.lower(): u for u in assignable_owners(actor)}
    may_pool = may_map_owner(actor) and "owner" in job.mapping.values()
    may_change = actor.has_perm("customers.change_customer")
    done = 0
    now = timezone.now()
    rows = (
        ImportRow.objects.filter(job=job)
        .order_by("number")
        .values_list("number", "values", "errors", "action", "target_id")
    )
    batch: list[tuple] = []

    def flush():
        nonlocal done
        _prepare_batch(actor, plan, batch, owners, may_pool, may_change, now)
        done += len(batch)
        batch.clear()
        _save_progress(job, progress=done)

    for row in rows.iterator(chunk_size=BATCH):
        batch.append(row)
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    return plan


def _owner_of(number, owner_name, owners, may_pool):
    if owner_name:
        owner = owners.get(owner_name.lower())
        if owner is None:
            raise ValidationError(
                _("Row %(row)s: “%(name)s” may no longer receive customers from you.")
                % {"row": number, "name": owner_name}
            )
        return owner
    if may_pool:
        return None
    raise ValidationError(_("Row %(row)s has no owner.") % {"row": number})


def _prepare_batch(actor, plan, batch, owners, may_pool, may_change, now) -> None:
    wanted = {t for _n, _v, e, a, t in batch if a == RowAction.UPDATE and not e and t}
    targets, contacts = {}, {}
    if wanted:
        if not may_change:
            raise PermissionDenied
        targets = {c.pk: c for c in customer_qs_visible_to(actor).filter(pk__in=wanted).select_related("owner")}
        for contact in Contact.objects.filter(customer_id__in=list(targets), deleted_at__isnull=True).order_by("pk"):
            contacts.setdefault(contact.customer_id, []).append(contact)
    for number, values, errors, action, target_id in batch:
        if errors or action == RowAction.SKIP:
            plan.skipped += 1
            continue
        customer_values = values.get("customer", {})
        contact_values = values.get("contact", {})
        owner = _owner_of(number, values.get("owner", ""), owners, may_pool)
        if action == RowAction.CREATE:
            customer = {
                **customer_values,
                "owner_id": owner.pk if owner else None,
                "created_by_id": actor.pk,
                "created_at": now,
                "updated_at": now,
                "name_key": values.get("name_key") or normalise_name(customer_values["name"]),
            }
            people = []
            if contact_values:
                contact = {**contact_values, "is_primary": True, "created_at": now, "updated_at": now}
                if contact.get("birthday"):
                    contact["birthday"] = date.fromisoformat(contact["birthday"])
                plan.new_contacts.append((contact, customer))
                people = [SimpleNamespace(**{"mobile": "", "office_phone": "", **contact})]
            customer["search_text"] = search_text_for(
                SimpleNamespace(name=customer["name"], phone=customer.get("phone", "")), people
            )
            customer["search_bigrams"] = bigrams(customer["search_text"])  # not a column: for the FTS table
            plan.new_customers.append(customer)
            continue
        customer = plan.changed_customers.get(target_id) or targets.get(target_id)
        if customer is None:
            raise ValidationError(
                _("Row %(row)s: the customer to update is gone or no longer yours.") % {"row": number}
            )
        before = snapshot(customer, CUSTOMER_FIELDS)
        for name, value in customer_values.items():
            if name != "kind":
                setattr(customer, name, value)
        if values.get("owner") and owner is not None and customer.owner_id != owner.pk:
            customer.owner = owner
        changes = {k: [before[k], v] for k, v in snapshot(customer, CUSTOMER_FIELDS).items() if before[k] != v}
        if changes:
            customer.name_key = normalise_name(customer.name)
            plan.customer_changes.setdefault(customer.pk, {}).update(changes)
        plan.changed_customers[customer.pk] = customer
        if contact_values.get("name"):
            _plan_contact(plan, customer, contact_values, contacts, now)


def _plan_contact(plan, customer, contact_values, contacts, now) -> None:
    key = person_name_key(contact_values["name"])
    existing = next((c for c in contacts.get(customer.pk, []) if person_name_key(c.name) == key), None)
    if existing is None:
        contact = {**contact_values, "created_at": now, "updated_at": now}
        if contact.get("birthday"):
            contact["birthday"] = date.fromisoformat(contact["birthday"])
        contacts.setdefault(customer.pk, []).append(Contact(name=contact["name"]))
        plan.new_contacts.append((contact, customer))
        return
    before = snapshot(existing, CONTACT_FIELDS)
    for name, value in contact_values.items():
        setattr(existing, name, date.fromisoformat(value) if name == "birthday" and value else value)
    change = {k: [before[k], v] for k, v in snapshot(existing, CONTACT_FIELDS).items() if before[k] != v}
    if change:
        plan.contact_changes.setdefault(existing.pk, {}).update(change)
        if existing not in plan.changed_contacts:
            plan.changed_contacts.append(existing)


def _customer_id(customer) -> int:
    return customer["id"] if isinstance(customer, dict) else customer.pk


def _write(job: ImportJob, actor: User, plan: _Plan) -> dict:
    now = timezone.now()
    customers = Inserter(Customer, with_ids=True)
    for customer, pk in zip(plan.new_customers, customers.allocate_ids(len(plan.new_customers)), strict=True):
        customer["id"] = pk
    customers.insert(plan.new_customers)
    contacts = Inserter(Contact, with_ids=True)
    for (contact, customer), pk in zip(plan.new_contacts, contacts.allocate_ids(len(plan.new_contacts)), strict=True):
        contact["id"] = pk
        contact["customer_id"] = _customer_id(customer)
    contacts.insert(c for c, _customer in plan.new_contacts)
    if connection.vendor == "sqlite" and plan.new_customers:
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {TRIGRAM_TABLE}(rowid, body) VALUES (%s, %s)",
                [(c["id"], c["search_text"]) for c in plan.new_customers],
            )
            cursor.executemany(
                f"INSERT INTO {BIGRAM_TABLE}(rowid, body) VALUES (%s, %s)",
                [(c["id"], c["search_bigrams"]) for c in plan.new_customers],
            )
    touched = {c.pk for _contact, c in plan.new_contacts if not isinstance(c, dict)}
    to_update = [c for c in plan.changed_customers.values() if c.pk in plan.customer_changes or c.pk in touched]
    for customer in to_update:
        customer.version += 1
        customer.updated_at = now
    if to_update:
        Customer.objects.bulk_update(to_update, [*CUSTOMER_FIELDS, "name_key", "version", "updated_at"], batch_size=500)
    for contact in plan.changed_contacts:
        contact.version += 1
        contact.updated_at = now
    if plan.changed_contacts:
        Contact.objects.bulk_update(plan.changed_contacts, [*CONTACT_FIELDS, "version", "updated_at"], batch_size=500)
    if to_update:
        search_index_update([c.pk for c in to_update])
    summary = (_("Imported from %(file)s") % {"file": job.file_name})[:300]

    def timeline(pk, action, **extra):
        return {
            "customer_id": pk,
            "kind": TimelineKind.IMPORTED,
            "actor_id": actor.pk,
            "summary": summary,
            "subject_type": "customers.customer",
            "subject_id": pk,
            "payload": {"job": job.pk, "action": action, **extra},
            "occurred_at": now,
        }

    Inserter(TimelineEntry).insert(
        [timeline(c["id"], "create") for c in plan.new_customers]
        + [timeline(c.pk, "update", fields=sorted(plan.customer_changes.get(c.pk, {}))) for c in to_update]
    )

    def audit(action, target_type, pk, name, changes):
        return {
            "actor_id": actor.pk,
            "action": action,
            "target_type": target_type,
            "target_id": pk,
            "target_repr": name[:200],
            "changes": {**changes, "import": [None, job.pk]},
            "at": now,
        }

    created_fields = [f for f in CUSTOMER_FIELDS if f != "owner"]
    owner_names = {u.pk: str(u) for u in User.objects.filter(pk__in={c["owner_id"] for c in plan.new_customers})}
    rows = [
        audit(
            AuditAction.CREATE,
            "customers.customer",
            c["id"],
            c["name"],
            {
                **{k: [None, c[k]] for k in created_fields if c.get(k) not in ("", None)},
                **({"owner": [None, owner_names[c["owner_id"]]]} if c["owner_id"] else {}),
            },
        )
        for c in plan.new_customers
    ]
    rows += [
        audit(AuditAction.CREATE, "customers.contact", c["id"], c["name"], {"name": [None, c["name"]]})
        for c, _customer in plan.new_contacts
    ]
    rows += [
        audit(AuditAction.UPDATE, "customers.customer", pk, plan.changed_customers[pk].name, changes)
        for pk, changes in plan.customer_changes.items()
    ]
    rows += [
        audit(AuditAction.UPDATE, "customers.contact", c.pk, c.name, plan.contact_changes[c.pk])
        for c in plan.changed_contacts
    ]
    Inserter(AuditEntry).insert(rows)
    return {
        "created": len(plan.new_customers),
        "updated": len(plan.changed_customers),
        "skipped": plan.skipped,
        "contacts_created": len(plan.new_contacts),
        "contacts_updated": len(plan.changed_contacts),
    }


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
