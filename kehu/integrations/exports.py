"""Exports (INT-1): the filtered customer list as CSV (UTF-8 with BOM, so Excel shows Chinese)
or .xlsx, and contacts as vCard 3.0. Scope and masking as on screen; every export is audited.

The columns carry the import's field labels, so an exported file imports again as it is."""

import csv
import io
import logging
from collections.abc import Iterator
from dataclasses import asdict

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core.checkpoints import checkpoint
from kehu.core.exports import count_cap, export_log, export_require
from kehu.core.exports import may_export as policy_may_export
from kehu.core.masking import mask
from kehu.core.pagination import capped_count
from kehu.core.spreadsheet_safety import csv_row, xlsx_row
from kehu.customers import selectors as customer_selectors
from kehu.customers.models import Contact, Customer, Medium
from kehu.customers.points import points_of
from kehu.customers.search import search_candidates
from kehu.customers.sharing import member_sees_sensitive
from kehu.integrations import storage
from kehu.integrations.export_kinds import CONTACTS, CUSTOMERS
from kehu.integrations.fields import FIELDS
from kehu.integrations.models import ExportJob, ExportStatus, FileFormat
from kehu.integrations.vcard_write import content_line, escape, point_lines
from kehu.users.language import in_language_of
from kehu.users.models import User

log = logging.getLogger(__name__)

CUSTOMER_COLUMNS = [
    "name",
    "kind",
    "segment",
    "industry",
    "tier",
    "channel_level",
    "status",
    "source",
    "region",
    "city",
    "address",
    "phone",
    "email",
    "website",
    "credit_code",
    "owner",
    "notes",
]
CONTACT_COLUMNS = ["contact_name", "contact_position", "contact_mobile", "contact_office_phone", "contact_email"]
COLUMNS = CUSTOMER_COLUMNS + CONTACT_COLUMNS
MASKED = {"phone", "contact_mobile", "contact_office_phone"}
CHUNK = 2000


def may_export(user: User) -> bool:
    return policy_may_export(user, CUSTOMERS)


def may_export_contacts(user: User) -> bool:
    return policy_may_export(user, CONTACTS)


def sync_limit() -> int:
    """Up to this many rows download at once; more are written by a task."""
    return int(getattr(settings, "KEHU_EXPORT_SYNC_ROWS", 2000))


def export_queryset(user: User, filters: customer_selectors.CustomerFilters):
    """Every customer the list at /customers/ would show with these filters (all pages)."""
    qs = customer_selectors.customer_list(user, filters)
    if filters.q:
        _candidates, _complete, every = search_candidates(filters.q)
        qs = qs.filter(every)
    return qs.select_related("owner")


def _display(customer: Customer, name: str) -> str:
    if name == "owner":
        return customer.owner.username if customer.owner else ""
    field = customer._meta.get_field(name)
    if field.choices:
        return str(getattr(customer, f"get_{name}_display")()) if getattr(customer, name) else ""
    value = getattr(customer, name)
    return "" if value is None else str(value)


def customer_rows(user: User, qs) -> Iterator[list[str]]:
    """Rows of text in COLUMNS order, masked where the user may not see phones; the primary
    (else the first) contact of each customer fills the contact columns."""
    sensitive_all = user.is_superuser or user.has_perm("customers.view_sensitive")
    last_pk = None
    base = qs.order_by("pk")
    while True:
        page = list(base.filter(pk__gt=last_pk)[:CHUNK] if last_pk else base[:CHUNK])
        if not page:
            return
        last_pk = page[-1].pk
        contacts: dict[int, Contact] = {}
        for contact in Contact.objects.filter(customer_id__in=[c.pk for c in page], deleted_at__isnull=True).order_by(
            "customer_id", "-is_primary", "pk"
        ):
            contacts.setdefault(contact.customer_id, contact)
        for customer in page:
            sensitive = sensitive_all or customer.owner_id == user.pk or member_sees_sensitive(user, customer.pk)
            contact = contacts.get(customer.pk)
            values = {name: _display(customer, name) for name in CUSTOMER_COLUMNS}
            values.update(
                contact_name=contact.name if contact else "",
                contact_position=contact.position if contact else "",
                contact_mobile=contact.mobile if contact else "",
                contact_office_phone=contact.office_phone if contact else "",
                contact_email=contact.email if contact else "",
            )
            if not sensitive:
                for name in MASKED:
                    values[name] = mask(values[name])
            yield [values[name] for name in COLUMNS]


def header_row() -> list[str]:
    return [str(FIELDS[name].label) for name in COLUMNS]


def write_csv(out, rows: Iterator[list[str]]) -> int:
    """Cells through `csv_row`: no formula from user data, no control character (see spreadsheet_safety)."""
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(csv_row(header_row()))
    n = 0
    for row in rows:
        writer.writerow(csv_row(row))
        n += 1
    return n


def write_xlsx(path, rows: Iterator[list[str]]) -> int:
    """Every value a text cell exactly as stored (see spreadsheet_safety)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Customers")[:31])
    sheet.append(xlsx_row(sheet, header_row()))
    n = 0
    for row in rows:
        sheet.append(xlsx_row(sheet, row))
        n += 1
    workbook.save(path)
    return n


def _filters_summary(filters: customer_selectors.CustomerFilters) -> dict:
    return {k: v for k, v in asdict(filters).items() if v not in ("", None) and k != "sort"}


def export_count(actor: User, filters: customer_selectors.CustomerFilters) -> int:
    """The rows of this export, counted as far as the export policy needs (see `count_cap`)."""
    return capped_count(export_queryset(actor, filters), cap=max(count_cap(actor), sync_limit()))[0]


def export_customers(
    *, actor: User, filters: customer_selectors.CustomerFilters, fmt: str, reason: str = ""
) -> tuple[bytes | None, ExportJob | None]:
    """Through the export policy: (the file, None) for a small export, (None, the job) for a large one.
    Raises PermissionDenied, or ExportRefusedError (needs a reason, past the hour's limit): nothing is made."""
    export_require(actor, CUSTOMERS)
    rows = export_count(actor, filters)
    reason = export_require(actor, CUSTOMERS, rows, reason)
    if rows >= sync_limit():
        return None, export_job_create(actor=actor, filters=filters, fmt=fmt, reason=reason, expected_rows=rows)
    data, _count = export_customers_now(actor=actor, filters=filters, fmt=fmt, reason=reason)
    return data, None


def export_customers_now(
    *, actor: User, filters: customer_selectors.CustomerFilters, fmt: str, reason: str = ""
) -> tuple[bytes, int]:
    """A small export as bytes, audited (the policy was asked by `export_customers`)."""
    if not may_export(actor):
        raise PermissionDenied
    rows = customer_rows(actor, export_queryset(actor, filters))
    if fmt == FileFormat.XLSX:
        buffer = io.BytesIO()
        count = write_xlsx(buffer, rows)
        data = buffer.getvalue()
    else:
        text = io.StringIO()
        count = write_csv(text, rows)
        data = text.getvalue().encode("utf-8")
    export_log(actor=actor, kind=CUSTOMERS, rows=count, reason=reason, fmt=fmt, filters=_filters_summary(filters))
    return data, count


@transaction.atomic
def export_job_create(
    *, actor: User, filters: customer_selectors.CustomerFilters, fmt: str, reason: str = "", expected_rows: int = 0
) -> ExportJob:
    if not may_export(actor):
        raise PermissionDenied
    job = ExportJob.objects.create(
        created_by=actor, format=fmt, filters=asdict(filters), reason=reason, expected_rows=expected_rows
    )
    from kehu.integrations.tasks import export_run

    transaction.on_commit(lambda: export_run.enqueue(job.pk))
    return job


def export_job_run(job_id: int) -> None:
    job = ExportJob.objects.select_related("created_by").get(pk=job_id)
    if job.status != ExportStatus.QUEUED:
        return
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.RUNNING)
    actor = job.created_by
    try:
        if not may_export(actor):
            raise PermissionDenied
        filters = customer_selectors.CustomerFilters(**job.filters)
        rows = customer_rows(actor, export_queryset(actor, filters))
        suffix = ".xlsx" if job.format == FileFormat.XLSX else ".csv"
        relative, path = storage.new_path("exports", suffix)
        if job.format == FileFormat.XLSX:
            count = write_xlsx(path, rows)
        else:
            with open(path, "w", encoding="utf-8", newline="") as out:
                count = write_csv(out, rows)
        checkpoint("export.written")
        with transaction.atomic():
            export_log(
                actor=actor,
                kind=CUSTOMERS,
                rows=count,
                reason=job.reason,
                fmt=job.format,
                filters=_filters_summary(filters),
                job=job.pk,
            )
            ExportJob.objects.filter(pk=job.pk).update(
                status=ExportStatus.DONE, row_count=count, stored_path=relative, finished_at=timezone.now()
            )
    except Exception as exc:  # noqa: BLE001 - recorded on the job
        if not isinstance(exc, PermissionDenied):
            log.exception("Export %s failed", job.pk)
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportStatus.FAILED,
            error=_("The export failed. Try again, or ask your administrator."),
            finished_at=timezone.now(),
        )


def export_job_requeue(job_id: int) -> None:
    """The worker writing the file died (kehu.core.lost_tasks): the job waits to be written again from
    the start (the half-written file is left to the cleanup; nothing was logged as exported)."""
    ExportJob.objects.filter(pk=job_id, status=ExportStatus.RUNNING).update(status=ExportStatus.QUEUED, row_count=0)


def export_job_lost(job_id: int, *, reason) -> None:
    """The worker died on every try: the job says why, and the person starts the export again."""
    job = ExportJob.objects.select_related("created_by").filter(pk=job_id).first()
    if job is None or job.status not in (ExportStatus.QUEUED, ExportStatus.RUNNING):
        return
    with in_language_of(job.created_by):
        # One message, so Chinese joins its sentences without a space.
        error = _("%(reason)s No file was made; start the export again.") % {"reason": reason}
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.FAILED, error=error, finished_at=timezone.now())


def export_file_name(fmt: str) -> str:
    return f"customers-{timezone.localtime():%Y%m%d-%H%M}.{'xlsx' if fmt == FileFormat.XLSX else 'csv'}"


# ------------------------------------------------------------------------------ vCard

COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "令狐", "慕容", "司徒", "夏侯", "尉迟", "公孙")


def split_name(name: str) -> tuple[str, str]:
    """(family, given): Chinese names family first (compound surnames kept together), others last word."""
    name = name.strip()
    if name and all("\u4e00" <= ch <= "\u9fff" for ch in name) and 2 <= len(name) <= 4:
        cut = 2 if name[:2] in COMPOUND_SURNAMES and len(name) > 2 else 1
        return name[:cut], name[cut:]
    parts = name.split()
    if len(parts) >= 2:
        return parts[-1], " ".join(parts[:-1])
    return name, ""


def contact_vcard(contact: Contact, *, sensitive: bool) -> str:
    """One contact as vCard 3.0 with every phone, e-mail and messaging account, typed and labelled.
    Private values (phones, messaging accounts, birthday, home address) only for those who may
    see them: a vCard with masked numbers would dial nobody. Control characters stored before the
    input rule are dropped by `escape` (they would break address books)."""
    points = points_of(contact)
    if not sensitive:
        points = [p for p in points if p.medium == Medium.EMAIL]
    family, given = split_name(contact.name)
    org = escape(contact.customer.name) + (f";{escape(contact.department)}" if contact.department else "")
    lines = [
        "BEGIN:VCARD\r\n",
        "VERSION:3.0\r\n",
        "PRODID:-//Kehu//Kehu CRM//EN\r\n",
        content_line("N", f"{escape(family)};{escape(given)};;;"),
        content_line("FN", escape(contact.name)),
        content_line("ORG", org),
    ]
    if contact.position:
        lines.append(content_line("TITLE", escape(contact.position)))
    lines += point_lines(points)
    if sensitive:
        if contact.birthday:
            lines.append(content_line("BDAY", contact.birthday.isoformat()))
        elif contact.birthday_month and contact.birthday_day:
            # Without its year, as vCard 4.0 and Google write it (and Kehu reads it back).
            lines.append(content_line("BDAY", f"--{contact.birthday_month:02d}-{contact.birthday_day:02d}"))
        if contact.address:
            lines.append(content_line("ADR", f";;{escape(contact.address)};;;;", ";TYPE=HOME"))
    customer = contact.customer
    if customer.address or customer.city or customer.region:
        adr = ";".join(["", "", escape(customer.address), escape(customer.city), escape(customer.region), "", ""])
        lines.append(content_line("ADR", adr, ";TYPE=WORK"))
    lines.append("END:VCARD\r\n")
    return "".join(lines)


def export_vcards(*, actor: User, contacts: list[Contact], what: str, reason: str = "") -> str:
    """vCards of contacts the caller already read through a visibility selector, through the export
    policy (PermissionDenied, ExportRefusedError); audited."""
    reason = export_require(actor, CONTACTS, len(contacts), reason)
    sensitive_all = actor.is_superuser or actor.has_perm("customers.view_sensitive")
    text = "".join(contact_vcard(c, sensitive=sensitive_all or c.customer.owner_id == actor.pk) for c in contacts)
    export_log(
        actor=actor,
        kind=CONTACTS,
        rows=len(contacts),
        reason=reason,
        fmt="vcard",
        what=what,
        ids=[c.pk for c in contacts][:200],
    )
    return text
