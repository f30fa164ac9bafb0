"""Export policy (ACC-5): the one door every export goes through.

Taking data out of Kehu — a list as .xlsx or CSV, contact cards, a report — is decided here:

- who may: each kind of export names the permission it needs (`customers.export_customer`, …);
  the roles hold them (kehu.users.roles, ADR 0007);
- large exports (more rows than KEHU_EXPORT_REASON_ROWS, default 500) need a reason typed by the
  person, which is kept in the audit trail;
- how much: a person makes at most KEHU_EXPORT_LIMIT_PER_HOUR exports (default 10) and
  KEHU_EXPORT_ROWS_PER_HOUR rows (default 50,000) in any sixty minutes; past that the export is
  refused (HTTP 429) and nothing is produced;
- every export is written to the audit trail with its kind, count, format, filters and reason
  (`export_log`), background exports when their file is written.

The apps register their kinds when they load (`register`), as they register event kinds, so
`core` imports nobody. The hour's usage is read from the audit trail, plus the exports still
being written by a task (`register_pending`), so a burst of queued jobs counts at once.

The usual call sequence in a view: `export_check(user, kind, rows=None)` as soon as the view
knows the kind (permission and the number of exports), count or build the rows, then
`export_require(user, kind, rows, reason)` and finally `export_log(...)` with the count written.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kehu.core.audit import audit_export
from kehu.core.models import AuditAction, AuditEntry
from kehu.core.text import text_problem

WINDOW = timedelta(hours=1)
REASON_MAX_LENGTH = 500


@dataclass(frozen=True)
class ExportKind:
    code: str  # "customers": stored in the audit summary
    perm: str  # the permission a person needs: "customers.export_customer"
    label: Any  # a lazy translation naming what is exported: "the customer list"
    target_type: str  # the audit entry's record type: "customers.customer"
    personal: bool = False  # it holds personal information (PIPL): names, phones of people


class Verdict:
    ALLOWED = "allowed"
    NEEDS_REASON = "needs_reason"
    RATE_LIMITED = "rate_limited"
    FORBIDDEN = "forbidden"


STATUS = {Verdict.ALLOWED: 200, Verdict.NEEDS_REASON: 400, Verdict.RATE_LIMITED: 429, Verdict.FORBIDDEN: 403}


@dataclass(frozen=True)
class ExportDecision:
    verdict: str
    message: str = ""  # why not, in the active language
    reason: str = ""  # the reason as it will be kept (stripped)
    retry_after: int = 0  # seconds until a refused export may be tried again (rate limit)
    rows: int | None = None

    @property
    def allowed(self) -> bool:
        return self.verdict == Verdict.ALLOWED

    @property
    def status(self) -> int:
        return STATUS[self.verdict]


class ExportRefusedError(Exception):
    """An export that needs a reason or is past the hour's limit; `decision` says which and why."""

    def __init__(self, decision: ExportDecision):
        super().__init__(decision.message)
        self.decision = decision


@dataclass(frozen=True)
class Usage:
    exports: int
    rows: int
    moments: tuple[tuple[datetime, int], ...]  # (when, rows) of each export in the window, oldest first


_kinds: dict[str, ExportKind] = {}
_pending: list[Callable[[Any, datetime], list[tuple[datetime, int]]]] = []


def register(*kinds: ExportKind) -> None:
    """Declare an app's export kinds (from its AppConfig.ready; repeatable)."""
    for kind in kinds:
        known = _kinds.get(kind.code)
        if known is not None and known != kind:
            raise ValueError(f"Export kind {kind.code!r} is registered twice with different settings.")
        _kinds[kind.code] = kind


def register_pending(function: Callable[[Any, datetime], list[tuple[datetime, int]]]) -> None:
    """`function(user, since)` lists (created, expected rows) of the user's exports still being written
    (their audit row comes when the file is done)."""
    if function not in _pending:
        _pending.append(function)


def get_kind(code: "str | ExportKind") -> ExportKind:
    if isinstance(code, ExportKind):
        return code
    kind = _kinds.get(code)
    if kind is None:
        raise ValueError(f"Unknown export kind {code!r}: register it in its app first.")
    return kind


def kinds() -> list[ExportKind]:
    return list(_kinds.values())


def kind_for(code: str = "", target_type: str = "") -> ExportKind | None:
    """The kind of a stored audit entry (by its code, else by its record type), None if unknown."""
    if code in _kinds:
        return _kinds[code]
    return next((k for k in _kinds.values() if k.target_type == target_type), None)


def may_export(user, kind: "str | ExportKind") -> bool:
    """Whether the user's role holds the kind's permission (templates use `perms` for the same)."""
    return bool(getattr(user, "is_authenticated", False)) and user.has_perm(get_kind(kind).perm)


def reason_rows() -> int:
    return int(getattr(settings, "KEHU_EXPORT_REASON_ROWS", 500))


def limit_exports() -> int:
    return int(getattr(settings, "KEHU_EXPORT_LIMIT_PER_HOUR", 10))


def limit_rows() -> int:
    return int(getattr(settings, "KEHU_EXPORT_ROWS_PER_HOUR", 50_000))


def usage(user, *, now: datetime | None = None) -> Usage:
    """The user's exports in the last hour: audited ones and those still being written."""
    now = now or timezone.now()
    since = now - WINDOW
    found = [
        (at, changes.get("rows") if isinstance(changes, dict) and isinstance(changes.get("rows"), int) else 0)
        for at, changes in AuditEntry.objects.filter(actor_id=user.pk, action=AuditAction.EXPORT, at__gt=since)
        .order_by("at")
        .values_list("at", "changes")
    ]
    for function in _pending:
        found.extend(function(user, since))
    found.sort(key=lambda pair: pair[0])
    return Usage(exports=len(found), rows=sum(n for _at, n in found), moments=tuple(found))


def count_cap(user) -> int:
    """How many rows are worth counting before `export_check`: one past the reason threshold or past
    what the hour still allows, whichever is more (so a million-row list is not counted in full)."""
    return max(reason_rows(), limit_rows() - usage(user).rows) + 1


def _number(n: int) -> str:
    return formats.number_format(n, use_l10n=True, force_grouping=True)


def _until(moment: datetime, now: datetime) -> tuple[str, int]:
    free_at = moment + WINDOW
    seconds = max(int((free_at - now).total_seconds()) + 1, 1)
    return formats.time_format(timezone.localtime(free_at), "H:i"), seconds


def _rate_limited(used: Usage, rows: int | None, now: datetime) -> ExportDecision | None:
    most, most_rows = limit_exports(), limit_rows()
    if used.exports >= most:
        # Free again when enough of the hour's exports have left the window.
        at, seconds = _until(used.moments[used.exports - most][0], now)
        message = ngettext(
            "You have made %(n)s export in the last hour, the most allowed. Try again after %(time)s.",
            "You have made %(n)s exports in the last hour, the most allowed. Try again after %(time)s.",
            used.exports,
        ) % {"n": _number(used.exports), "time": at}
        return ExportDecision(Verdict.RATE_LIMITED, message, retry_after=seconds, rows=rows)
    if rows is None or used.rows + rows <= most_rows:
        return None
    if rows > most_rows:
        message = _(
            "This export has more than %(limit)s rows, the most that may be exported in an hour. "
            "Narrow the filters and export in parts."
        ) % {"limit": _number(most_rows)}
        return ExportDecision(Verdict.RATE_LIMITED, message, retry_after=int(WINDOW.total_seconds()), rows=rows)
    # The moment enough earlier rows leave the window for this export to fit.
    left = used.rows
    moment = used.moments[-1][0]
    for at, n in used.moments:
        left -= n
        if left + rows <= most_rows:
            moment = at
            break
    at, seconds = _until(moment, now)
    message = _(
        "You may export %(left)s more rows in this hour (at most %(limit)s an hour), and this export has more. "
        "Try again after %(time)s, or narrow the filters."
    ) % {"left": _number(max(most_rows - used.rows, 0)), "limit": _number(most_rows), "time": at}
    return ExportDecision(Verdict.RATE_LIMITED, message, retry_after=seconds, rows=rows)


def export_check(user, kind: "str | ExportKind", rows: int | None = None, reason: str = "") -> ExportDecision:
    """May `user` export `rows` rows of `kind` now, with this reason? rows=None: the count is not
    known yet (permission and the number of exports are checked, the rows later)."""
    kind = get_kind(kind)
    if not may_export(user, kind):
        return ExportDecision(
            Verdict.FORBIDDEN, _("Your role may not export %(what)s.") % {"what": kind.label}, rows=rows
        )
    now = timezone.now()
    refused = _rate_limited(usage(user, now=now), rows, now)
    if refused is not None:
        return refused
    reason = (reason or "").strip()
    problem = text_problem(reason, multiline=True, max_length=REASON_MAX_LENGTH)
    if problem:
        return ExportDecision(Verdict.NEEDS_REASON, problem, rows=rows)
    if rows is not None and rows > reason_rows() and not reason:
        message = _(
            "This export has %(n)s rows. Exports of more than %(limit)s rows need a reason: "
            "say why you need the data (it is kept in the audit trail)."
        ) % {"n": _number(rows), "limit": _number(reason_rows())}
        return ExportDecision(Verdict.NEEDS_REASON, message, rows=rows)
    return ExportDecision(Verdict.ALLOWED, reason=reason, rows=rows)


def export_require(user, kind: "str | ExportKind", rows: int | None = None, reason: str = "") -> str:
    """`export_check` that raises: PermissionDenied (403) or ExportRefusedError; answers the kept reason."""
    decision = export_check(user, kind, rows, reason)
    if decision.verdict == Verdict.FORBIDDEN:
        raise PermissionDenied(decision.message)
    if not decision.allowed:
        raise ExportRefusedError(decision)
    return decision.reason


def export_log(
    *,
    actor,
    kind: "str | ExportKind",
    rows: int,
    reason: str = "",
    fmt: str = "",
    filters: dict | None = None,
    **extra,
) -> AuditEntry:
    """The audit row of one export: kind, format, exact count, filters, reason and anything else
    the app keeps (a job id, a report's period)."""
    kind = get_kind(kind)
    summary: dict = {"kind": kind.code}
    if fmt:
        summary["format"] = fmt
    summary["rows"] = int(rows)
    if filters is not None:
        summary["filters"] = filters
    summary.update(extra)
    if reason:
        summary["reason"] = reason
    return audit_export(actor=actor, target_type=kind.target_type, summary=summary)
