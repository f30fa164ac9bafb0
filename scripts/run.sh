#!/usr/bin/env bash
# make run: migrate, load demo data once, then serve Kehu and a task worker until Ctrl-C.
set -euo pipefail
PORT=${1:-${PORT:-8000}}
PY=.venv/bin/python
export KEHU_ALLOWED_HOSTS=${KEHU_ALLOWED_HOSTS:-localhost,127.0.0.1,[::1]}
# The demo prints mail (reset links, invitations) to this terminal unless EMAIL_URL says otherwise.
export EMAIL_URL=${EMAIL_URL:-console:}
# Blocks of 1 MiB and more (a password hash's 19 MiB, a big result) go back to the system when freed;
# glibc's moving threshold would otherwise keep them in each process's heap for good.
export MALLOC_MMAP_THRESHOLD_=${MALLOC_MMAP_THRESHOLD_:-1048576}
$PY manage.py migrate --noinput -v0
# Demo data goes only into an empty database; KEHU_DEMO=0 starts a real installation instead,
# whose first visit opens the set-up page.
if [ "${KEHU_DEMO:-1}" != 0 ]; then
  $PY manage.py demo_data --if-empty
fi
$PY manage.py collectstatic --noinput -v0

pids=()
stop() {
  trap - INT TERM EXIT
  kill "${pids[@]}" 2>/dev/null || true
  # Give them 10 s to finish their requests and tasks, then end whatever is left.
  for _ in $(seq 100); do kill -0 "${pids[@]}" 2>/dev/null || break; sleep 0.1; done
  pkill -KILL -P "$$" 2>/dev/null || true
  wait 2>/dev/null || true
  echo "Kehu stopped."
}
trap stop INT TERM EXIT
$PY manage.py db_worker --queue-name '*' --no-reload &
pids+=($!)
# Periodic jobs (pool recycle, tier suggestions, overdue checks) are enqueued by one scheduler, which also
# finds the tasks of a worker that died (kill -9, out of memory): failed with the reason, resumed or retried.
$PY manage.py run_scheduler &
pids+=($!)
# A web worker that dies is started again (its request's transaction was rolled back by the database).
.venv/bin/granian --interface wsgi config.wsgi:application --host 127.0.0.1 --port "$PORT" \
  --workers "${KEHU_WEB_WORKERS:-2}" --blocking-threads 1 --workers-kill-timeout 5 --respawn-failed-workers \
  --log-level warning &
pids+=($!)
echo "Kehu is running on http://127.0.0.1:$PORT (demo: sign in as manager1 / kehu-demo). Ctrl-C stops it."
wait -n "${pids[@]}"
