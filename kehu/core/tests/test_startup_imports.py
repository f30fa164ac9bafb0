"""A web worker starts without the heavy libraries: they load inside the functions that use them.

WeasyPrint with its fonts and images, the spreadsheet readers and writers, the analytics stack and
the document libraries cost tens of MiB each per process; a worker that never makes a PDF or reads a
workbook must not carry them (bench/memory_bench.py measures the whole worker).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

# Top-level modules that must not be imported while Django sets up, the URLs load and the API loads.
HEAVY_MODULES = [
    "weasyprint",  # PDF (quotes, contracts, statements, service notes)
    "pydyf",
    "fontTools",
    "cssselect2",
    "tinycss2",
    "pyphen",
    "PIL",  # images: logos, photos of service visits
    "openpyxl",  # spreadsheets
    "python_calamine",
    "xlwt",
    "xlrd",
    "numpy",  # analytics
    "scipy",
    "sklearn",
    "pandas",
    "segno",  # QR codes
    "icalendar",  # calendar feed
    "vobject",
    "docx",  # contract documents
    "docxtpl",
    "lxml",
    "reportlab",
]

# Set Django up as the WSGI server does, import the root URLs, resolve every pattern's view (so each
# app's views, their imports and the API routers load) and import the API package; print what loaded.
PROBE = """
import json, sys
import config.wsgi
from django.urls import URLResolver, get_resolver
import kehu.api
import kehu.api.urls

def views(resolver):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from views(pattern)
        else:
            yield pattern.callback

count = sum(1 for view in views(get_resolver()) if callable(view))
print(json.dumps({"views": count, "modules": sorted(sys.modules)}))
"""


def _start_up(tmp_path: Path) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "KEHU_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'startup.sqlite3'}",
        "KEHU_DEBUG": "0",
        "PYTHONPATH": str(settings.BASE_DIR),
    }
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_heavy_libraries_stay_out_of_a_starting_web_worker(tmp_path):
    loaded = _start_up(tmp_path)
    assert loaded["views"] > 500  # every app's views and the API's operations really loaded
    assert "kehu.api.urls" in loaded["modules"] and "kehu.quotes.document" in loaded["modules"]
    heavy = sorted({name.split(".")[0] for name in loaded["modules"]} & set(HEAVY_MODULES))
    assert heavy == []
