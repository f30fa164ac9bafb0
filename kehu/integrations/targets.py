"""What an import fills (INT-1): customers and contacts, leads, … Each kind of record is an
"import target": its fields and header synonyms, how a row is staged and cleaned by that app's
own rules, how duplicates are found, and how the chosen rows are written. The machinery
(upload, mapping memory, preview task, choices, run, progress, report) is shared and lives in
`kehu.integrations.services`; a target only answers these questions.

Apps register their target in `AppConfig.ready()`, so this package never imports the apps
built on it (the leads app registers its target from `kehu.leads.imports`).
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from kehu.core.text import printable
from kehu.integrations.fields import HeaderIndex, ImportField, guess_columns
from kehu.integrations.models import ImportJob, ImportRow, RowAction

CUSTOMERS = "customers"


def _storable(value):
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {_storable(k): _storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_storable(v) for v in value]
    return value


@dataclass
class Staged:
    """A row on its way into ImportRow (plain, cheaper than a model instance at 100k rows)."""

    number: int
    values: dict
    errors: dict
    action: str = RowAction.CREATE
    matches: list = field(default_factory=list)
    target_id: int | None = None
    warnings: dict = field(default_factory=dict)
    skip_reason: str = ""

    def as_row(self, job_id: int) -> dict:
        values, errors = self.values, self.errors
        if errors:
            # A refused row keeps what it said for the preview, less what no JSON column on
            # PostgreSQL can hold (a NUL): the error already names the character.
            values, errors = _storable(values), _storable(errors)
        return {
            "job_id": job_id,
            "number": self.number,
            "values": values,
            "errors": errors,
            "warnings": self.warnings,
            "skip_reason": self.skip_reason,
            "matches": self.matches,
            "action": self.action,
            "target_id": self.target_id,
        }


class ImportPlan:
    """The chosen rows of a run, prepared batch by batch outside the write transaction, then
    written at once inside it. `add` may raise ValidationError (a row gone stale) or
    PermissionDenied: the run then fails and nothing is written."""

    def add(self, batch: list[tuple]) -> None:
        """`batch`: (number, values, errors, action, target_id) of staged rows, in file order."""
        raise NotImplementedError

    def write(self) -> dict:
        """Write everything (inside the run's transaction); the report: created, updated, skipped, …"""
        raise NotImplementedError


class ImportTarget:
    """One kind of record an import can create or update. Subclasses set the attributes and
    implement the methods that raise NotImplementedError."""

    name: str = ""  # stored on ImportJob.target
    label: object = ""  # "Customers and contacts" (lazy translated)
    title: object = ""  # "Import customers and contacts": the choice on the upload page
    fields: dict[str, ImportField] = {}
    order: int = 100  # place in the choice on the upload page
    list_url_name: str = ""  # where the report sends the user afterwards
    list_label: object = ""  # "Go to the customers"
    record_label: object = ""  # heading of the record column in the preview ("Customer")
    # Whether the stager reads a vCard whole (vcard.CardCells.card) instead of its mapped columns:
    # the mapping page then says what is read rather than offering columns to map.
    reads_whole_vcards: bool = False
    # Messages that name the kind of record.
    required_message: object = ""  # no column to name the record
    no_update_message: object = ""  # "update" chosen for a row without a match in the user's scope
    no_longer_message: object = ""  # the user lost the permission before the run
    owner_message: object = ""  # an owner column mapped by someone who may not assign

    # ---- who
    def may_import(self, user) -> bool:
        raise NotImplementedError

    def may_map_owner(self, user) -> bool:
        """Whether the user may import an owner column (give rows to others, or leave them unowned)."""
        return False

    def owner_hint(self, with_owner: bool) -> str:
        """What happens to the owner of imported records, shown above the mapping."""
        return ""

    # ---- mapping
    def guess_mapping(self, headers: list[str]) -> dict[str, str]:
        return guess_columns(headers, self.fields)

    def header_matcher(self):
        """A test whether a column name names one of the fields: finds the header row of a sheet."""
        index = HeaderIndex(self.fields)
        return lambda header: index.field_for(header) is not None

    def vcard_mapping(self) -> dict[str, str]:
        """{column index: field} for the columns a vCard file is read into (readers.VCARD_FIELDS)."""
        return {}

    def mapping_errors(self, used: set[str]) -> list[str]:
        """Messages when the mapped fields are not enough to make a record."""
        return []

    # ---- preview
    def stager(self, job: ImportJob, actor):
        """An object whose `stage(number, cells)` turns one file row into a Staged row: picklist values
        read through `job.value_mapping`, unmatched ones left empty with a warning (not an error)."""
        raise NotImplementedError

    def match(self, rows: list[tuple[int, dict]], actor) -> dict[int, tuple[list, int | None]]:
        """{row number: (matches, the first match the user may update)} for rows without errors
        that look like an existing record or like an earlier row of the file. Set-based."""
        raise NotImplementedError

    def row_view(self, row: ImportRow) -> dict:
        """What the preview and report show of a staged row: number, name, contact, phone, owner,
        matches (each with a `url` when the user may open it)."""
        raise NotImplementedError

    # ---- run
    def plan(self, job: ImportJob, actor) -> ImportPlan:
        raise NotImplementedError


_TARGETS: dict[str, ImportTarget] = {}


def register(target: ImportTarget) -> None:
    _TARGETS[target.name] = target


def get_target(name: str) -> ImportTarget | None:
    return _TARGETS.get(name)


def all_targets() -> list[ImportTarget]:
    return sorted(_TARGETS.values(), key=lambda t: (t.order, t.name))


def targets_for(user) -> list[ImportTarget]:
    """The targets a user may import, in the order of the upload page."""
    if not getattr(user, "is_authenticated", False):
        return []
    return [t for t in all_targets() if t.may_import(user)]


def choices_of(targets: Iterable[ImportTarget]) -> list[tuple[str, str]]:
    return [(t.name, t.title) for t in targets]
