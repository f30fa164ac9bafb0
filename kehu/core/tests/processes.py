"""Real processes for the crash tests: a task worker or a web server on the test's database,
stopped at a named point of a write (kehu.core.checkpoints) and killed there with SIGKILL.

The test prepares its data through the services, with its own connection (`transactional_db`:
committed, so other processes see it). `SharedDatabase.publish()` hands it to the processes and
`collect()` takes their work back for the assertions:

- SQLite: the test database lives in memory, so `publish` copies it into a file with SQLite's
  online backup and the processes run on that file with the production settings (WAL, IMMEDIATE
  transactions); `collect` copies the file back over the test's database.
- PostgreSQL (`scripts/with-postgres.sh`): the processes use the test database itself; `collect`
  waits until the server has ended the killed processes' sessions (rolling their transactions back).
"""

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[3]  # the project, where manage.py is
PYTHON = sys.executable
DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "email"]}}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SharedDatabase:
    def __init__(self, directory: Path):
        self.dir = directory
        self.pause_dir = directory / "pause"
        self.pause_dir.mkdir(parents=True, exist_ok=True)
        (directory / "var").mkdir(exist_ok=True)
        self.file = directory / "kehu.sqlite3"
        self.processes: list[subprocess.Popen] = []

    @property
    def is_sqlite(self) -> bool:
        return connection.vendor == "sqlite"

    def url(self) -> str:
        if self.is_sqlite:
            return f"sqlite:///{self.file}"
        s = connection.settings_dict
        return f"postgres://{s['USER']}:{s['PASSWORD']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"

    def env(self, pause_at: str = "", **extra) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("KEHU_TEST_PAUSE", "PYTEST", "DJANGO_"))}
        env.update(
            DATABASE_URL=self.url(),
            DJANGO_SETTINGS_MODULE="config.settings",
            KEHU_VAR_DIR=str(self.dir / "var"),
            KEHU_SECRET_KEY=settings.SECRET_KEY,  # the sessions the test signs in are valid there
            KEHU_ALLOWED_HOSTS="127.0.0.1,localhost",
            EMAIL_URL=f"file:{self.dir / 'mail'}",
            PYTHONUNBUFFERED="1",
        )
        if pause_at:
            env.update(KEHU_TEST_PAUSE_AT=pause_at, KEHU_TEST_PAUSE_DIR=str(self.pause_dir))
        env.update(extra)
        return env

    # ------------------------------------------------------------------ the data, both ways

    def publish(self) -> None:
        if not self.is_sqlite:
            return
        connection.ensure_connection()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.file}{suffix}").unlink(missing_ok=True)
        target = sqlite3.connect(self.file)
        try:
            connection.connection.backup(target)
        finally:
            target.close()

    def collect(self) -> None:
        self.stop_all()
        if self.is_sqlite:
            source = sqlite3.connect(self.file, timeout=20)  # until the killed server's children are gone
            try:
                # Reads through the write-ahead log: what the killed process had not committed is not there.
                source.backup(connection.connection)
            finally:
                source.close()
            return
        # The server notices a killed client's closed socket and rolls its transaction back.
        with connection.cursor() as cursor:
            for _ in range(200):
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
                if cursor.fetchone()[0] == 0:
                    return
                time.sleep(0.05)
        raise AssertionError("the killed processes' database sessions did not end")

    # ------------------------------------------------------------------ processes

    def manage(self, *args: str, timeout: float = 120, pause_at: str = "") -> str:
        """Run a management command to its end; its output (it must succeed)."""
        done = subprocess.run(
            [PYTHON, "manage.py", *args],
            cwd=ROOT,
            env=self.env(pause_at),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert done.returncode == 0, f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def start(self, argv: list[str], name: str, pause_at: str = "") -> subprocess.Popen:
        log = open(self.dir / f"{name}.log", "wb")  # noqa: SIM115 - the process writes it until it ends
        process = subprocess.Popen(
            argv, cwd=ROOT, env=self.env(pause_at), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        process.log_path = self.dir / f"{name}.log"
        self.processes.append(process)
        return process

    def worker(self, pause_at: str = "") -> subprocess.Popen:
        """A long-running task worker, as `make run` starts it."""
        return self.start(
            [PYTHON, "manage.py", "db_worker", "--queue-name", "default", "--no-reload", "--no-startup-delay",
             "--interval", "0.2"],
            "worker",
            pause_at,
        )  # fmt: skip

    def web(self, pause_at: str = "") -> tuple[subprocess.Popen, str]:
        """Granian with one web worker process, restarted when it dies (as scripts/run.sh serves)."""
        port = free_port()
        process = self.start(
            [str(Path(PYTHON).parent / "granian"), "--interface", "wsgi", "config.wsgi:application", "--host",
             "127.0.0.1", "--port", str(port), "--workers", "1", "--blocking-threads", "1",
             "--respawn-failed-workers", "--respawn-interval", "0.5", "--log-level", "warning"],
            "web",
            pause_at,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        return process, f"http://127.0.0.1:{port}"

    def wait_for_pause(self, point: str, process: subprocess.Popen, timeout: float = 60, answers=()) -> int:
        """Wait until a process stops at `point`; the id of the process that stopped there.
        `answers`: where a request sent to it puts its answer (one there: it never stopped)."""
        marker = self.pause_dir / point.partition(":")[0]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if marker.exists() and marker.read_text():
                return int(marker.read_text())
            if process.poll() is not None:
                break
            assert not answers, f"answered instead of stopping at {point}: {str(answers)[:2000]}"
            time.sleep(0.05)
        raise AssertionError(f"never reached {point}:\n{process.log_path.read_text(errors='replace')[-3000:]}")

    def kill(self, pid: int) -> None:
        os.kill(pid, signal.SIGKILL)
        for process in self.processes:
            if process.pid == pid:
                process.wait(timeout=10)
                return
        deadline = time.monotonic() + 10  # a child (a web worker): gone once /proc says so
        while Path(f"/proc/{pid}").exists() and "Z" not in _state(pid) and time.monotonic() < deadline:
            time.sleep(0.02)

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        self.processes.clear()


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


def http(method: str, url: str, *, data: dict | None = None, headers: dict | None = None, timeout: float = 30):
    """(status, body) of one request; (None, reason) when the connection broke."""
    body = None
    headers = dict(headers or {})
    if data is not None:
        from urllib.parse import urlencode

        body = urlencode(data, doseq=True).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 - loopback only
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as exc:
        return None, str(exc)


def wait_until_served(url: str, headers: dict, timeout: float = 60) -> tuple[int, str]:
    deadline = time.monotonic() + timeout
    while True:
        status, body = http("GET", url, headers=headers, timeout=10)
        if status is not None or time.monotonic() > deadline:
            return status, body
        time.sleep(0.2)


def session_headers(user) -> dict:
    """Cookies of a signed-in session and a CSRF token, for form posts to a web process."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "kehu.users.backends.RoleBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    token = "k" * 32
    return {"Cookie": f"sessionid={session.session_key}; csrftoken={token}", "X-CSRFToken": token}


def as_json(text: str):
    return json.loads(text)


@pytest.fixture
def shared_db(transactional_db, tmp_path):
    """A database the test shares with real processes (see SharedDatabase); they end with the test."""
    shared = SharedDatabase(tmp_path)
    yield shared
    shared.stop_all()


def use_the_task_worker(settings) -> None:
    """Tasks enqueued by the test from now on wait in the database for a real worker."""
    settings.TASKS = DB_TASKS
