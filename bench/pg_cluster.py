"""A private PostgreSQL cluster for the benchmarks, kept under var/bench-pg/ between runs.

Like scripts/with-postgres.sh (same binaries, loopback only, trust authentication, run as the
`postgres` user when we are root), but the data directory stays, so a second run reuses the loaded
databases. Two sets of settings: `load` (fsync off, minimal WAL: a crash while loading only costs
the load, which is started again) and `serve` (durable, sized for a 2-core / 24 GiB machine).

    python bench/pg_cluster.py start|stop|status
"""

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_VAR = ROOT / "var" / "bench-pg"
PGDATA = PG_VAR / "data"
HOST = "127.0.0.1"

# Both modes: memory for a 24 GiB machine that also runs the web and task workers.
COMMON = {
    "listen_addresses": HOST,
    "shared_buffers": "2GB",
    "effective_cache_size": "12GB",
    "work_mem": "32MB",
    "maintenance_work_mem": "1GB",
    "max_connections": "100",
    "random_page_cost": "1.1",  # SSD: an index read costs little more than a sequential one
    "max_wal_size": "8GB",
    "checkpoint_timeout": "30min",
    "max_parallel_maintenance_workers": "2",
    "max_parallel_workers_per_gather": "2",
    "timezone": "UTC",
}
# Only while COPY fills the tables: nothing there is worth an fsync.
LOAD = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "autovacuum": "off",
}
SERVE = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}


def pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    if not found:
        raise SystemExit("PostgreSQL server not installed (apt install postgresql)")
    return found[-1]


def as_pg(*args: str, **kwargs) -> subprocess.CompletedProcess:
    command = [str(a) for a in args]
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    return subprocess.run(command, check=True, text=True, **kwargs)


def running_port() -> int | None:
    pid_file = PGDATA / "postmaster.pid"
    if not pid_file.exists():
        return None
    lines = pid_file.read_text().splitlines()
    try:
        os.kill(int(lines[0]), 0)
    except (OSError, ValueError, IndexError):
        return None
    return int(lines[3]) if len(lines) > 3 else None


def mode() -> str | None:
    marker = PG_VAR / "mode"
    return marker.read_text().strip() if marker.exists() and running_port() else None


def free_port() -> int:
    for port in range(55632, 55732):
        with socket.socket() as s:
            try:
                s.bind((HOST, port))
            except OSError:
                continue
            return port
    raise SystemExit("no free port for PostgreSQL between 55632 and 55731")


def init() -> None:
    if (PGDATA / "PG_VERSION").exists():
        return
    PG_VAR.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(PG_VAR, "postgres", "postgres")
    as_pg(
        pg_bin() / "initdb", "-D", PGDATA, "-U", "postgres", "--auth-local=trust", "--auth-host=trust",
        "-E", "UTF8", "--locale=C.UTF-8", stdout=subprocess.DEVNULL,
    )  # fmt: skip


def start(purpose: str = "serve") -> int:
    """Start the cluster with the settings for `purpose` ("load" or "serve"); returns its port.
    A cluster already running with the other settings is restarted."""
    if mode() == purpose:
        return running_port()
    if running_port():
        stop()
    init()
    settings = {**COMMON, **(LOAD if purpose == "load" else SERVE), "port": str(free_port())}
    options = " ".join(f"-c {k}={v}" for k, v in settings.items()) + f" -k {PG_VAR}"
    as_pg(
        pg_bin() / "pg_ctl", "-D", PGDATA, "-l", PG_VAR / "server.log", "-w", "-t", "300", "-o", options, "start",
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    (PG_VAR / "mode").write_text(purpose)
    port = running_port()
    psql("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'kehu') THEN "
         "CREATE ROLE kehu LOGIN CREATEDB PASSWORD 'kehu'; END IF; END $$")  # fmt: skip
    return port


def stop() -> None:
    if running_port():
        as_pg(pg_bin() / "pg_ctl", "-D", PGDATA, "-m", "fast", "-w", "stop", stdout=subprocess.DEVNULL)
        os.sync()  # pages written with fsync off reach the disk before anyone relies on them
    (PG_VAR / "mode").unlink(missing_ok=True)


def psql(sql: str, database: str = "postgres") -> str:
    return as_pg(
        pg_bin() / "psql", "-X", "-q", "-At", "-h", HOST, "-p", str(running_port()), "-U", "postgres",
        "-d", database, "-c", sql, stdout=subprocess.PIPE,
    ).stdout  # fmt: skip


def database_url(name: str) -> str:
    return f"postgres://kehu:kehu@{HOST}:{running_port()}/{name}"


def has_database(name: str) -> bool:
    return psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'").strip() == "1"


def create_database(name: str) -> None:
    if has_database(name):
        psql(f'DROP DATABASE "{name}" WITH (FORCE)')
    psql(f'CREATE DATABASE "{name}" OWNER kehu')


def version() -> str:
    return subprocess.run(
        [pg_bin() / "postgres", "--version"], text=True, capture_output=True, check=True
    ).stdout.split()[2]


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "status"
    if command == "start":
        print(f"PostgreSQL {version()} on {HOST}:{start(sys.argv[2] if len(sys.argv) > 2 else 'serve')}")
    elif command == "stop":
        stop()
    else:
        port = running_port()
        print(f"running on {HOST}:{port} ({mode()} settings)" if port else "not running")
