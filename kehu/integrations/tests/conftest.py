"""Fixtures of the import/export tests: a private transfer directory per test, file builders."""

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

FILES = Path(__file__).parent / "files"


@pytest.fixture(autouse=True)
def _transfer_dir(settings, tmp_path):
    settings.KEHU_TRANSFER_DIR = tmp_path / "transfer"


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    import csv

    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def fixture_file(name: str) -> bytes:
    return (FILES / name).read_bytes()


def run_import(
    actor, name: str, data: bytes, mapping: dict | None = None, choices: dict | None = None, duplicates="", values=None
):
    """Upload → mapping (the guessed one unless given) → values → preview → choices → run, through the services."""
    job = preview_import(actor, name, data, mapping, values=values)
    return finish_import(actor, job, choices, duplicates)


def preview_import(actor, name: str, data: bytes, mapping: dict | None = None, values: dict | None = None, **create):
    """Upload and preview (the preview task runs when the mapping is committed). When the file has
    picklist values that are none of the choices, `values` is the value step's answer (none given:
    they stay unmatched, and their rows get a warning)."""
    from django.test import TestCase

    from kehu.integrations.models import ImportJob, ImportStatus
    from kehu.integrations.services import import_job_create, import_job_set_mapping, import_job_set_values

    job = import_job_create(actor=actor, uploaded=upload(name, data), **create)
    with TestCase.captureOnCommitCallbacks(execute=True):
        import_job_set_mapping(job=job, actor=actor, mapping=mapping if mapping is not None else job.mapping)
    job = ImportJob.objects.get(pk=job.pk)
    if job.status == ImportStatus.VALUES:
        with TestCase.captureOnCommitCallbacks(execute=True):
            import_job_set_values(job=job, actor=actor, values=values or {})
        job = ImportJob.objects.get(pk=job.pk)
    return job


def finish_import(actor, job, choices: dict | None = None, duplicates=""):
    from django.test import TestCase

    from kehu.integrations.models import ImportJob
    from kehu.integrations.services import import_job_choose, import_job_start

    if choices or duplicates:
        import_job_choose(job=job, actor=actor, rows=choices or {}, duplicates=duplicates)
    with TestCase.captureOnCommitCallbacks(execute=True):
        import_job_start(job=job, actor=actor)
    return ImportJob.objects.get(pk=job.pk)
