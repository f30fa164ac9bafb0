"""Import and export jobs (INT-1): an uploaded file, its column mapping, the staged rows with
their errors and duplicate matches, the progress the page polls, and the report."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class FileFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "Excel (.xlsx)"
    XLS = "xls", "Excel 97–2003 (.xls)"
    ODS = "ods", "OpenDocument (.ods)"
    VCARD = "vcard", "vCard"


class ImportStatus(models.TextChoices):
    MAPPING = "mapping", _("Map the columns")
    VALUES = "values", _("Match the values")
    PREVIEWING = "previewing", _("Checking the rows")
    PREVIEW = "preview", _("Review the rows")
    QUEUED = "queued", _("Waiting to run")
    RUNNING = "running", _("Importing")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class RowAction(models.TextChoices):
    CREATE = "create", _("Create")
    UPDATE = "update", _("Update")
    SKIP = "skip", _("Skip")


class ImportJob(models.Model):
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    file_name = models.CharField(_("file"), max_length=255)
    # What the file imports: the name of a registered import target (kehu.integrations.targets).
    target = models.CharField(_("what it imports"), max_length=20, default="customers")
    # Relative to the private transfer directory under KEHU_VAR_DIR (never served).
    stored_path = models.CharField(max_length=255, blank=True)
    format = models.CharField(_("format"), max_length=10, choices=FileFormat.choices)
    encoding = models.CharField(max_length=20, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=ImportStatus.choices, default=ImportStatus.MAPPING)
    # Where the records are: the sheet of a workbook (and every sheet, for the choice:
    # [{"name", "hidden", "rows"}]), the number of the header row and how many rows it spans.
    sheet = models.CharField(max_length=100, blank=True)
    sheets = models.JSONField(default=list, blank=True)
    header_row = models.PositiveIntegerField(default=1)
    header_depth = models.PositiveSmallIntegerField(default=1)
    headers = models.JSONField(default=list)
    signature = models.CharField(max_length=64, blank=True)
    # {column index as text: field name}; unmapped columns are absent.
    mapping = models.JSONField(default=dict, blank=True)
    mapping_remembered = models.BooleanField(default=False)
    # Picklist values that are none of the choices, per field: {field: {normalised value: choice,
    # or "" to leave the field empty}}, and what the file holds of them for the value step:
    # {field: [{"value": as written, "key": normalised, "count": rows, "guess": choice}]}.
    value_mapping = models.JSONField(default=dict, blank=True)
    unmatched = models.JSONField(default=dict, blank=True)
    # Rows in the file (without the header) and how far the current step is.
    total_rows = models.PositiveIntegerField(default=0)
    progress = models.PositiveIntegerField(default=0)
    step = models.CharField(max_length=20, blank=True)
    # {"created": n, "updated": n, "skipped": n, "errors": n, "duplicates": n, ...}
    report = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        indexes = [models.Index(fields=["created_by", "-created_at"], name="import_job_user_idx")]

    def __str__(self) -> str:
        return self.file_name

    @property
    def percent(self) -> int:
        if not self.total_rows:
            return 100 if self.status == ImportStatus.DONE else 0
        return min(100, int(self.progress * 100 / self.total_rows))

    @property
    def target_label(self) -> str:
        from kehu.integrations.targets import get_target

        target = get_target(self.target)
        return str(target.label) if target else self.target

    @property
    def is_working(self) -> bool:
        return self.status in (ImportStatus.PREVIEWING, ImportStatus.QUEUED, ImportStatus.RUNNING)


class ImportRow(models.Model):
    """One data row of an import, staged by the preview: cleaned values, errors, matches, choice."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="rows")
    number = models.PositiveIntegerField()  # the line/record number the user sees in the file
    # Shaped by the job's target; customers: {"customer": {…}, "contact": {…}, "owner": username or ""}
    values = models.JSONField(default=dict)
    # {field: [messages]}; a row with errors is never imported.
    errors = models.JSONField(default=dict, blank=True)
    # {field: [messages]}: imported all the same, with that field left empty.
    warnings = models.JSONField(default=dict, blank=True)
    # Why a row of the file is not a record (kehu.integrations.layout: note, total, header).
    skip_reason = models.CharField(max_length=10, blank=True)
    # [{"id": …, "name": …, "owner": …, "reasons": […], "in_scope": bool}]
    matches = models.JSONField(default=list, blank=True)
    action = models.CharField(max_length=10, choices=RowAction.choices, default=RowAction.CREATE)
    target_id = models.BigIntegerField(null=True, blank=True)  # the record (customer, lead) an update applies to

    class Meta:
        indexes = [models.Index(fields=["job", "number"], name="import_row_job_idx")]
        ordering = ["number"]

    def __str__(self) -> str:
        return f"{self.job_id}:{self.number}"


class ImportMapping(models.Model):
    """A column mapping remembered for files with the same headers (the header signature), with
    the value mapping of its picklist columns and where the header was ({"sheet", "header_row",
    "header_depth"}: tried first on the next workbook with a sheet of that name)."""

    signature = models.CharField(max_length=64, unique=True)
    headers = models.JSONField(default=list)
    mapping = models.JSONField(default=dict)
    value_mapping = models.JSONField(default=dict, blank=True)
    layout = models.JSONField(default=dict, blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.signature[:12]


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting to run")
    RUNNING = "running", _("Exporting")
    DONE = "done", _("Ready to download")
    FAILED = "failed", _("Failed")


class ExportJob(models.Model):
    """A large export written by a task; the file waits in the private directory for its owner."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    format = models.CharField(_("format"), max_length=10, choices=FileFormat.choices)
    filters = models.JSONField(default=dict, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    row_count = models.PositiveIntegerField(default=0)
    stored_path = models.CharField(max_length=255, blank=True)
    error = models.TextField(blank=True)
    # Export controls (ACC-5): the reason typed for a large export, and the rows counted when it was
    # allowed (they count against the hour's limit until the file is written and audited).
    reason = models.TextField(_("reason"), blank=True, default="")
    expected_rows = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        indexes = [models.Index(fields=["created_by", "-created_at"], name="export_job_user_idx")]

    def __str__(self) -> str:
        return f"{self.get_format_display()} {self.created_at:%Y-%m-%d %H:%M}"
