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


def _start_up(tmp_path: Path, probe: str = PROBE) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "KEHU_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'startup.sqlite3'}",
        "KEHU_DEBUG": "0",
        "PYTHONPATH": str(settings.BASE_DIR),
    }
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_heavy_libraries_stay_out_of_a_starting_web_worker(tmp_path):
    loaded = _start_up(tmp_path)
    assert loaded["views"] > 500  # every app's views and the API's operations really loaded
    assert "kehu.api.urls" in loaded["modules"] and "kehu.quotes.document" in loaded["modules"]
    heavy = sorted({name.split(".")[0] for name in loaded["modules"]} & set(HEAVY_MODULES))
    assert heavy == []


# The pages' views and names without the API: django-ninja and pydantic (about 30 MiB with the
# routers' schemas) load only when a path under /api/ is resolved or an API name reversed.
PAGES_PROBE = """
import json, sys
import config.wsgi
from django.urls import URLResolver, get_resolver, reverse
from kehu.core.lazy_urls import LazyURLResolver

API = ("ninja", "pydantic", "pydantic_core")
loaded = lambda: sorted(name for name in sys.modules if name.split(".")[0] in API)

def views(resolver):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, LazyURLResolver):
            continue
        if isinstance(pattern, URLResolver):
            yield from views(pattern)
        else:
            yield pattern.callback

count = sum(1 for view in views(get_resolver()) if callable(view))
page = reverse("customers:customer-list")
before = loaded()
api = reverse("api:openapi-json")
match = get_resolver().resolve("/api/v1/customers/")
print(json.dumps({"views": count, "page": page, "before": before, "api": api,
                  "api_view": match.url_name, "after": loaded()}))
"""


def test_the_api_loads_on_its_first_use_not_with_the_pages(tmp_path):
    loaded = _start_up(tmp_path, PAGES_PROBE)
    assert loaded["views"] > 400 and loaded["page"] == "/customers/"
    assert loaded["before"] == []
    assert loaded["api"] == "/api/v1/openapi.json" and loaded["api_view"]
    assert {"ninja", "pydantic"} <= {name.split(".")[0] for name in loaded["after"]}


# Which pydantic models are built (validator and serializer made) after the API loads, and after one
# operation's answer is made: each builds on its first use (kehu/core/api.py, `defer_build`).
BUILT_PROBE = """
import json
import config.wsgi
from django.urls import get_resolver
from pydantic import BaseModel

def models(cls=BaseModel):
    for sub in cls.__subclasses__():
        yield sub
        yield from models(sub)

def built():
    return sorted({f"{m.__module__}.{m.__qualname__}" for m in models() if m.__pydantic_complete__})

get_resolver().resolve("/api/v1/customers/")
loaded, before = len(set(models())), built()
from kehu.customers.api import CustomerOut
CustomerOut.model_json_schema()
print(json.dumps({"models": loaded, "before": before, "after": built()}))
"""


def test_the_api_schemas_build_on_first_use(tmp_path):
    loaded = _start_up(tmp_path, BUILT_PROBE)
    assert loaded["models"] > 1000  # the routers' schemas and django-ninja's models of each operation
    assert [name for name in loaded["before"] if name.startswith("kehu.") or name.startswith("abc.")] == []
    assert "kehu.customers.api.CustomerOut" in loaded["after"]
    assert len(loaded["after"]) < len(loaded["before"]) + 20
