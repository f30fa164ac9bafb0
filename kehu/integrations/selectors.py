"""Reads of import and export jobs: a job is its creator's own workspace."""

from django.db.models import QuerySet
from django.http import Http404

from kehu.integrations.models import ExportJob, ImportJob, ImportRow
from kehu.users.models import User


def import_job_qs_visible_to(user: User) -> QuerySet[ImportJob]:
    if not user.is_authenticated:
        return ImportJob.objects.none()
    return ImportJob.objects.filter(created_by=user)


def import_job_get(user: User, pk) -> ImportJob:
    try:
        return import_job_qs_visible_to(user).get(pk=int(pk))
    except (ImportJob.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


def export_job_qs_visible_to(user: User) -> QuerySet[ExportJob]:
    if not user.is_authenticated:
        return ExportJob.objects.none()
    return ExportJob.objects.filter(created_by=user)


def export_job_get(user: User, pk) -> ExportJob:
    try:
        return export_job_qs_visible_to(user).get(pk=int(pk))
    except (ExportJob.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


ROW_FILTERS = ("all", "errors", "warnings", "duplicates", "create", "update", "skip", "not_records")


def import_rows(job: ImportJob, *, show: str = "all", offset: int = 0, limit: int = 50) -> tuple[list[ImportRow], bool]:
    """One page of staged rows (and whether more follow), optionally only errors, warnings,
    duplicates, an action, or the rows that are not records (notes, totals, repeated headers)."""
    qs = ImportRow.objects.filter(job=job)
    if show == "errors":
        qs = qs.exclude(errors={})
    elif show == "warnings":
        qs = qs.exclude(warnings={})
    elif show == "not_records":
        qs = qs.exclude(skip_reason="")
    elif show == "duplicates":
        qs = qs.exclude(matches=[])
    elif show in ("create", "update", "skip"):
        qs = qs.filter(action=show)
    rows = list(qs.order_by("number")[offset : offset + limit + 1])
    return rows[:limit], len(rows) > limit


def recent_jobs(user: User, limit: int = 20) -> tuple[list[ImportJob], list[ExportJob]]:
    return (
        list(import_job_qs_visible_to(user).order_by("-created_at", "-id")[:limit]),
        list(export_job_qs_visible_to(user).order_by("-created_at", "-id")[:limit]),
    )
