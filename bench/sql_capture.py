"""Print, as JSON, the SQL that each page runs for one user (used by bench/run.py).

    python bench/sql_capture.py USERNAME '{"label": "/customers/?q=..."}'

Runs the real views through Django's test client inside this process, with the environment
(KEHU_VAR_DIR, DATABASE_URL) of the benchmark database, and records every query each page
sends: {"label": {"status": 200, "queries": ["SELECT ...", ...]}}. The SQL has its
parameters inlined by the database backend, so it can be replayed and explained as is.
"""

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def main() -> None:
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from kehu.users.models import User

    username, pages = sys.argv[1], json.loads(sys.argv[2])
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(username=username))
    out = {}
    for label, path in pages.items():
        client.get(path)  # the first request fills caches (content types, translations)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
        out[label] = {"status": response.status_code, "queries": [q["sql"] for q in captured.captured_queries]}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
