#!/usr/bin/env bash
# make run: migrate, load demo data once, then serve Kehu and a task worker until Ctrl-C.
set -euo pipefail
PORT=${1:-${PORT:-8000}}
PY=.venv/bin/python
export KEHU_ALLOWED_HOSTS=${KEHU_ALLOWED_HOSTS:-localhost,127.0.0.1,[::1]}
# The demo prints mail (reset links, invitations) to this terminal unless EMAIL_URL says otherwise.
export EMAIL_URL=${EMAIL_URL:-console:}
$PY manage.py migrate --noinput -v0
$PY manage.py demo_data --if-empty
$PY manage.py collectstatic --noinput -v0

pids=()
stop() { trap - INT TERM EXIT; kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; echo "Kehu stopped."; }
trap stop INT TERM EXIT
$PY manage.py db_worker --queue-name '*' --no-reload &
pids+=($!)
.venv/bin/granian --interface wsgi config.wsgi:application --host 127.0.0.1 --port "$PORT" \
  --workers "${KEHU_WEB_WORKERS:-2}" --blocking-threads 1 --log-level warning &
pids+=($!)
echo "Kehu is running on http://127.0.0.1:$PORT — sign in as manager1 / kehu-demo. Ctrl-C stops it."
wait -n "${pids[@]}"
