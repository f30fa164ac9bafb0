"""Kehu benchmark: a million customers on SQLite behind the production server.

    .venv/bin/python bench/run.py                 # 1M customers / 2M contacts / 5M activities
    .venv/bin/python bench/run.py --customers 20000   # a quick check of the harness
    .venv/bin/python bench/run.py --database postgres   # the same data and pages on PostgreSQL

Generates (once) a database under var/bench/, starts granian on loopback with the production
settings, signs in as manager1 and measures pages, the SQL behind them, throughput and worker
memory. Prints a Markdown table and writes it to bench/results/latest.md. See bench/README.md.

With `--database postgres` the same SQLite data is loaded by COPY into a private PostgreSQL cluster
under var/bench-pg/ (bench/pg_load.py, once) and the same pages are measured there; the SQL replay
uses EXPLAIN (ANALYZE, BUFFERS) and the table goes to bench/results/latest-pg.md.
"""

import argparse
import http.client
import json
import os
import platform
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_VAR = ROOT / "var" / "bench"
PG_VAR = ROOT / "var" / "bench-pg"
RESULTS = ROOT / "bench" / "results"
PYTHON = sys.executable
GRANIAN = str(Path(PYTHON).parent / "granian")
HOST = "127.0.0.1"
USER, PASSWORD = "manager1", "kehu-demo"

# What we aim for on a 2-core machine at 1M customers (p95 in ms, or req/s, or MiB).
# The foundation's targets, with every feature on (p95 in ms, throughput with 8 clients, RSS per worker).
TARGETS = {
    "customer list": 20.0,
    "search": 25.0,
    "360° page": 25.0,
    "lead list": 25.0,
    "board": 60.0,
    "forecast": 60.0,
    "ping": None,  # the trivial page is a floor, not a goal
    "sql": None,  # SQL rows are floors too
    "match": None,
    "list_rps": 300.0,  # issue 14 raised it from 150
    "ping_rps": 600.0,
    "rss": 100.0,
}


def page_target(label: str) -> float | None:
    return next((target for prefix, target in TARGETS.items() if label.startswith(prefix)), None)


# ---------------------------------------------------------------- database


def db_path(customers: int) -> Path:
    return BENCH_VAR / f"customers-{customers}.sqlite3"


def env_for(db: Path) -> dict:
    env = dict(os.environ)
    env.update(
        KEHU_VAR_DIR=str(BENCH_VAR),
        DATABASE_URL=f"sqlite:///{db}",
        KEHU_DEBUG="0",
        PYTHONUNBUFFERED="1",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    return env


def manage(env: dict, *args: str, capture: bool = False) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        text=True,
        stdout=subprocess.PIPE if capture else None,
    )
    return result.stdout or ""


def count_customers(db: Path) -> int:
    if not db.exists():
        return -1
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
            return con.execute("SELECT COUNT(*) FROM customers_customer").fetchone()[0]
    except sqlite3.Error:
        return -1


def prepare_database(args, env: dict, db: Path) -> dict:
    """Generate the data set unless the database already holds it; returns its description."""
    marker = db.with_suffix(".json")
    info = json.loads(marker.read_text()) if marker.exists() else {}
    if count_customers(db) == args.customers and info.get("customers") == args.customers:
        print(
            f"Using {db.relative_to(ROOT)} ({args.customers:,} customers, generated in "
            f"{info.get('generate_seconds', 0):.0f} s)"
        )
        manage(env, "migrate", "-v0")
        return info
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    marker.unlink(missing_ok=True)
    print(f"Generating {args.customers:,} customers into {db.relative_to(ROOT)}…", flush=True)
    manage(env, "migrate", "-v0")
    started = time.monotonic()
    proc = subprocess.Popen(
        [
            PYTHON,
            "manage.py",
            "demo_data",
            "--customers",
            str(args.customers),
            "--contacts-per-customer",
            "2",
            "--activities-per-customer",
            "5",
            "--heavy-timeline",
            str(args.heavy_timeline),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    output = []
    for line in proc.stdout:
        print(line, end="", flush=True)
        output.append(line)
    if proc.wait() != 0:
        raise SystemExit("demo_data failed")
    text = "".join(output)
    heavy = re.search(r"heavy timeline customer: (\d+)", text)
    loaded = re.search(r"Loaded ([\d,]+) customers, ([\d,]+) contacts, ([\d,]+) activities and ([\d,]+)", text)
    info = {
        "customers": args.customers,
        "heavy_customer_id": int(heavy.group(1)) if heavy else None,
        "generate_seconds": round(time.monotonic() - started, 1),
        "rows": [int(g.replace(",", "")) for g in loaded.groups()] if loaded else [],
    }
    marker.write_text(json.dumps(info))
    return info


def prepare_sales(args, env: dict, db: Path) -> dict:
    """Leads, opportunities, more reps and targets on top of the customers (once; see sales_data.py)."""
    marker = db.with_name(db.stem + "-sales.json")
    info = json.loads(marker.read_text()) if marker.exists() else {}
    if info.get("leads") == args.leads and info.get("opportunities") == args.opportunities:
        print(f"Using the sales layer ({args.leads:,} leads, {args.opportunities:,} opportunities)")
        return info
    if info:
        raise SystemExit(f"{db.name} holds another sales layer ({marker.name}); delete both to regenerate")
    print(f"Adding {args.leads:,} leads and {args.opportunities:,} opportunities…", flush=True)
    info = sales_data(env, "--leads", str(args.leads), "--opportunities", str(args.opportunities))
    marker.write_text(json.dumps(info))
    return info


def bench_script(env: dict, script: str, *options: str) -> str:
    """Run bench/<script> with the benchmark's environment; what it printed (its last line is JSON)."""
    return subprocess.run(
        [PYTHON, str(ROOT / "bench" / script), *options],
        cwd=ROOT,
        env=env,
        check=True,
        text=True,
        stdout=subprocess.PIPE,
    ).stdout


def last_json(out: str) -> dict:
    return json.loads(out.strip().splitlines()[-1])


def sales_data(env: dict, *options: str) -> dict:
    """Run bench/sales_data.py with the benchmark's environment; the JSON line it ends with."""
    return last_json(bench_script(env, "sales_data.py", *options))


def check_sales(args, env: dict) -> dict:
    """Count what the sales pages will show the benchmark's user and stop loudly when the data is
    less than the run claims (a layer skipped or cut short must not pass as a measurement)."""
    seen = sales_data(env, "--check", USER)
    problems = []
    if seen["leads"] < args.leads:
        problems.append(f"{seen['leads']:,} benchmark leads in the database, {args.leads:,} expected")
    if seen["opportunities"] < args.opportunities:
        problems.append(
            f"{seen['opportunities']:,} benchmark opportunities in the database, {args.opportunities:,} expected"
        )
    # The team holds about half of the layer; a tenth is the least that still measures it.
    if seen["leads_open_visible"] < args.leads // 10:
        problems.append(f"{USER} sees only {seen['leads_open_visible']:,} open leads")
    if seen["board_cards_counted"] < args.opportunities // 10:
        problems.append(f"{USER}'s board counts only {seen['board_cards_counted']:,} open opportunities")
    if problems:
        raise SystemExit("The sales pages would be measured on less data than claimed: " + "; ".join(problems))
    return seen


SHARING_USER = "rep1"
GM_USER = "gm"  # the general manager: every customer, lead and deal of the company
SHARED_WITH_REP = 200  # customers of the other sales department on rep1's account teams
SHARED_PER_COLLEAGUE = 100  # and as many on the teams of up to 10 more people in manager1's scope


def prepare_sharing(db: Path) -> dict:
    """Account teams (once, idempotent): rep1 and up to 10 colleagues in manager1's scope are members
    of customers owned outside that scope, so rep1's list holds 200 shared customers and manager1's
    scope about 1,200 (past the 1,000 ids read as a literal list: the subquery form is measured)."""
    con = sqlite3.connect(db, timeout=60)
    try:
        ids = dict(
            con.execute("SELECT username, id FROM users_user WHERE username IN (?, ?, 'admin')", [USER, SHARING_USER])
        )
        path = con.execute(
            "SELECT d.path FROM users_user u JOIN users_department d ON d.id = u.department_id WHERE u.username = ?",
            [USER],
        ).fetchone()
        if SHARING_USER not in ids or USER not in ids or not path:
            return {}
        inside = [
            row[0]
            for row in con.execute(
                "SELECT u.id FROM users_user u JOIN users_department d ON d.id = u.department_id "
                "WHERE d.path LIKE ? AND u.is_active ORDER BY u.id",
                [path[0] + "%"],
            )
        ]
        members = [ids[SHARING_USER]] + [u for u in inside if u not in (ids[SHARING_USER], ids[USER])][:10]
        marks = ",".join("?" * len(inside))
        outside = [
            row[0]
            for row in con.execute(
                f"SELECT id FROM customers_customer WHERE owner_id NOT IN ({marks}) AND deleted_at IS NULL "
                f"AND id % 331 = 7 ORDER BY id LIMIT ?",
                [*inside, SHARED_WITH_REP + SHARED_PER_COLLEAGUE * (len(members) - 1)],
            )
        ]
        now = datetime.now().astimezone().isoformat(sep=" ")
        rows, at = [], 0
        for i, member in enumerate(members):
            n = SHARED_WITH_REP if i == 0 else SHARED_PER_COLLEAGUE
            rows += [
                (cid, member, "service_specialist", None, ids.get("admin"), now, now, 1) for cid in outside[at : at + n]
            ]
            at += n
        with con:
            con.executemany(
                "INSERT OR IGNORE INTO customers_accountteammember "
                "(customer_id, user_id, role, ends_on, added_by_id, created_at, updated_at, version) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            con.execute("ANALYZE customers_accountteammember")
        mine = con.execute(
            "SELECT COUNT(*) FROM customers_accountteammember WHERE user_id = ?", [ids[SHARING_USER]]
        ).fetchone()[0]
        team = con.execute(
            f"SELECT COUNT(DISTINCT customer_id) FROM customers_accountteammember WHERE user_id IN ({marks})", inside
        ).fetchone()[0]
        return {"rep_shared": mine, "team_shared": team}
    finally:
        con.close()


def heavy_customer(db: Path, info: dict) -> int | None:
    if info.get("heavy_customer_id"):
        return info["heavy_customer_id"]
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        row = con.execute(
            "SELECT customer_id FROM customers_timelineentry GROUP BY customer_id ORDER BY COUNT(*) DESC LIMIT 1"
        ).fetchone()
    return row[0] if row else None


def pg_name(customers: int) -> str:
    return f"kehu_c{customers}"


def prepare_postgres(args, env: dict, db: Path, sharing: dict) -> tuple[dict, dict]:
    """Load the SQLite data set into PostgreSQL (once: `var/bench-pg/<database>.json` marks a
    complete load of the same customers and account teams), start the cluster with its serving
    settings and migrate; returns the environment for PostgreSQL and the load's summary."""
    sys.path.insert(0, str(ROOT / "bench"))
    import pg_cluster

    name = pg_name(args.customers)
    marker = PG_VAR / f"{name}.json"
    info = json.loads(marker.read_text()) if marker.exists() else {}
    pg_cluster.init()
    loaded = info.get("customers") == args.customers and info.get("sharing") == sharing
    if loaded:
        pg_cluster.start("serve")
        loaded = pg_cluster.has_database(name)
    if not loaded:
        marker.unlink(missing_ok=True)
        print(f"Loading {db.relative_to(ROOT)} into PostgreSQL database {name} by COPY…", flush=True)
        out = bench_script(env, "pg_load.py", str(db), name)
        print(out, end="")
        info = {**last_json(out), "customers": args.customers, "sharing": sharing}
        marker.write_text(json.dumps(info))
    else:
        print(f"Using PostgreSQL database {name} (loaded by COPY in {info.get('total_seconds', 0):.0f} s)")
    pg_cluster.start("serve")  # durable settings from here on
    pg_env = {**env, "DATABASE_URL": pg_cluster.database_url(name)}
    manage(pg_env, "migrate", "-v0")
    return pg_env, info


def stop_postgres() -> None:
    """The cluster holds 2 GB of shared buffers: stopped after each run (its data stays)."""
    sys.path.insert(0, str(ROOT / "bench"))
    import pg_cluster

    pg_cluster.stop()


def pg_connection(url: str):
    import psycopg

    con = psycopg.connect(url, autocommit=True)
    return con


def replayable(con, statements: list[str]) -> list[str]:
    """The statements to replay: on PostgreSQL the reads only (a savepoint needs a transaction,
    and a page's writes, such as the session's, are not its reading cost)."""
    if isinstance(con, sqlite3.Connection):
        return statements
    return [sql for sql in statements if sql.lstrip().upper().startswith(("SELECT", "WITH"))]


def read_connection(db: Path) -> sqlite3.Connection:
    """A read-only connection with the settings' pragmas, for the bare SQL timings."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, check_same_thread=False)
    for pragma in ("cache_size=-65536", "mmap_size=1073741824", "temp_store=MEMORY"):
        con.execute(f"PRAGMA {pragma}")
    # The functions Django gives its SQLite connections (date truncation in the forecast's SQL).
    from django.db.backends.sqlite3._functions import register

    register(con)
    return con


def pick_terms(con: sqlite3.Connection) -> list[tuple[str, str, int]]:
    """Search terms found in the data: (label, term, number of customers matching)."""

    def matches(term: str) -> int:
        table = "customer_search_bi" if len(term) == 2 else "customer_search_tri"
        quoted = '"' + term.replace('"', '""') + '"'
        return con.execute(f"SELECT COUNT(*) FROM {table} WHERE {table} MATCH ?", [quoted]).fetchone()[0]

    top = con.execute("SELECT MAX(id) FROM customers_customer").fetchone()[0] or 0
    sample = []
    for k in range(1, 41):
        row = con.execute(
            "SELECT id, name, city FROM customers_customer WHERE id >= ? AND kind = 'company' "
            "AND segment IN ('industrial', 'dealer') ORDER BY id LIMIT 1",
            [top * k // 41],
        ).fetchone()
        if row:
            sample.append(row)
    rare = None
    for _pk, name, city in sample:
        term = name[len(city) : len(city) + 2]
        n = matches(term)
        if n and (rare is None or n < rare[2]):
            rare = ("rare 2 characters", term, n)
    _pk, name, city = sample[len(sample) // 2]
    long_term = name[: len(city) + 2]
    mobile = con.execute(
        "SELECT mobile FROM customers_contact WHERE customer_id = ? AND mobile != '' LIMIT 1", [_pk]
    ).fetchone()
    terms = [
        rare,
        ("common 2 characters", "科技", matches("科技")),
        ("4 characters", long_term, matches(long_term)),
        ("common 4 characters", "精密机械", matches("精密机械")),
    ]
    if mobile:
        fragment = mobile[0][3:10]
        terms.append(("phone fragment", fragment, matches(fragment)))
    return [t for t in terms if t]


def time_sql(con: sqlite3.Connection, statements: list[str], warmup: int, runs: int) -> list[float]:
    for _ in range(warmup):
        for sql in statements:
            con.execute(sql).fetchall()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        for sql in statements:
            con.execute(sql).fetchall()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def explain(con, sql: str) -> str:
    if not isinstance(con, sqlite3.Connection):
        return explain_pg(con, sql)
    try:
        rows = con.execute("EXPLAIN QUERY PLAN " + sql).fetchall()
    except sqlite3.Error as exc:
        return f"(cannot explain: {exc})"
    return "\n".join(f"{'  ' * _depth(rows, r)}{r[3]}" for r in rows)


def explain_pg(con, sql: str) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) runs the statement: inside a transaction that is rolled back."""
    import psycopg

    try:
        with con.transaction(force_rollback=True):
            return "\n".join(row[0] for row in con.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql).fetchall())
    except psycopg.Error as exc:
        return f"(cannot explain: {exc})"


def _depth(rows, row) -> int:
    parents = {r[0]: r[1] for r in rows}
    depth, parent = 0, row[1]
    while parent in parents:
        depth, parent = depth + 1, parents[parent]
    return depth


# ---------------------------------------------------------------- HTTP


class Client:
    """One keep-alive HTTP/1.1 connection with a cookie jar, like one browser tab."""

    def __init__(self, port: int, cookies: dict | None = None):
        self.port = port
        self.cookies = dict(cookies or {})
        self.conn = http.client.HTTPConnection(HOST, port, timeout=60)

    def request(self, method: str, path: str, body: str | None = None, headers: dict | None = None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                break
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = http.client.HTTPConnection(HOST, self.port, timeout=60)
                if attempt:
                    raise
        for header in response.msg.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, data

    def get(self, path: str):
        return self.request("GET", path)

    def close(self) -> None:
        self.conn.close()


def log_in(port: int, user: str = USER) -> Client:
    client = Client(port)
    status, body = client.get("/accounts/login/")
    if status != 200:
        raise SystemExit(f"GET /accounts/login/ answered {status}")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    if not token:
        raise SystemExit("no CSRF token on the login page")
    form = urllib.parse.urlencode(
        {"username": user, "password": PASSWORD, "csrfmiddlewaretoken": token.group(1).decode()}
    )
    status, _body = client.request(
        "POST",
        "/accounts/login/",
        form,
        {"Content-Type": "application/x-www-form-urlencoded", "Referer": f"http://{HOST}:{port}/accounts/login/"},
    )
    if status != 302 or "sessionid" not in client.cookies:
        raise SystemExit(f"logging in as {user} failed (HTTP {status})")
    return client


def time_page(client: Client, path: str, warmup: int, runs: int) -> tuple[list[float], str]:
    """Latencies in ms of `runs` sequential requests; the second value names a failure."""
    for _ in range(warmup):
        status, _ = client.get(path)
        if status != 200:
            return [], f"HTTP {status}"
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        status, _ = client.get(path)
        samples.append((time.perf_counter() - started) * 1000)
        if status != 200:
            return [], f"HTTP {status}"
    return samples, ""


def throughput(port: int, cookies: dict, path: str, clients: int, seconds: float) -> tuple[float, int]:
    """Requests per second from `clients` threads, each with its own connection; and the errors."""
    done, errors = [0] * clients, [0] * clients
    deadline = time.monotonic() + seconds
    start = threading.Barrier(clients + 1)

    def work(i: int) -> None:
        client = Client(port, cookies)
        start.wait()
        while time.monotonic() < deadline:
            try:
                status, _ = client.get(path)
            except OSError:
                status = 0
            if status == 200:
                done[i] += 1
            else:
                errors[i] += 1
        client.close()

    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    start.wait()
    began = time.monotonic()
    for t in threads:
        t.join(seconds + 120)
    return sum(done) / (time.monotonic() - began), sum(errors)


# ---------------------------------------------------------------- server


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start_server(env: dict, port: int, workers: int) -> subprocess.Popen:
    log = open(BENCH_VAR / "server.log", "w")  # noqa: SIM115 (closed with the process)
    proc = subprocess.Popen(
        [
            GRANIAN,
            "--interface",
            "wsgi",
            "config.wsgi:application",
            "--host",
            HOST,
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--blocking-threads",
            "1",
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"granian exited ({proc.returncode}); see var/bench/server.log")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=5)
            conn.request("GET", "/accounts/login/")
            if conn.getresponse().status == 200:
                conn.close()
                return proc
        except OSError:
            time.sleep(0.2)
    stop_server(proc)
    raise SystemExit("the server did not answer within 60 s; see var/bench/server.log")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the group holds only the server we started
        proc.wait(10)


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    found, queue = [], [pid]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


def rss_mib(pid: int) -> tuple[float, float, float]:
    """(VmRSS, VmHWM, RssAnon) in MiB. VmRSS counts the database pages SQLite maps into the
    process (mmap_size), which the page cache shares; RssAnon is the worker's own memory."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssAnon"):
            values[key] = int(value.split()[0]) / 1024
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0), values.get("RssAnon", 0.0)


# ---------------------------------------------------------------- report


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def fmt(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}" if value < 1000 else f"{value:,.0f}"


class Table:
    def __init__(self):
        self.rows: list[tuple] = []

    def latency(
        self, name: str, samples: list[float], target: float | None, floor: float | None = None, failure: str = ""
    ) -> None:
        if failure or not samples:
            self.rows.append((name, failure or "no data", "", "", f"≤ {fmt(target, 0)} ms" if target else "", ""))
            return
        p50, p95 = pct(samples, 0.5), pct(samples, 0.95)
        mark = "" if target is None or p95 <= target else " ✗"
        self.rows.append(
            (
                name,
                fmt(p50, 2 if p50 < 10 else 1),
                fmt(p95, 2 if p95 < 10 else 1) + mark,
                "",
                f"≤ {fmt(target, 0)} ms" if target else "",
                fmt(floor, 2) if floor is not None else "",
            )
        )

    def rate(self, name: str, rps: float, errors: int, target: float, floor: float | None = None) -> None:
        mark = "" if rps >= target else " ✗"
        note = f" ({errors} errors)" if errors else ""
        self.rows.append(
            (
                name,
                "",
                "",
                f"{rps:,.0f}{mark}{note}",
                f"≥ {target:,.0f} req/s",
                f"{floor:,.0f}" if floor is not None else "",
            )
        )

    def other(self, name: str, value: str, target: str) -> None:
        self.rows.append((name, value, "", "", target, ""))

    def markdown(self) -> str:
        lines = [
            "| measurement | p50 ms | p95 ms | req/s | target | floor |",
            "| --- | ---: | ---: | ---: | --- | ---: |",
        ]
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        return "\n".join(lines)


def machine() -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPU ({cpu or platform.machine()}), Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"


def pg_version() -> str:
    sys.path.insert(0, str(ROOT / "bench"))
    import pg_cluster

    return pg_cluster.version()


def load_average() -> str:
    return " / ".join(f"{v:.1f}" for v in os.getloadavg())


def bare_match(term: str, postgres: bool) -> str:
    """The search index lookup alone, capped at the 2,000 newest like the page's candidates."""
    if postgres:
        if len(term) <= 2:  # the bigram array index (customers migration 0014)
            where = f"kehu_search_grams(search_text) @> ARRAY['{term}']::text[]"
        else:  # pg_trgm
            where = f"search_text LIKE '%{term}%'"
        return f"SELECT id FROM customers_customer WHERE {where} AND deleted_at IS NULL ORDER BY id DESC LIMIT 2000"
    table_name = "customer_search_bi" if len(term) == 2 else "customer_search_tri"
    quoted = '"' + term.replace('"', '""') + '"'
    return f"SELECT rowid FROM {table_name} WHERE {table_name} MATCH '{quoted}' ORDER BY rowid DESC LIMIT 2000"


def git_commit() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True, capture_output=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, text=True, capture_output=True
        ).stdout.strip()
        return head + (" with uncommitted changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "?"


# ---------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--heavy-timeline", type=int, default=10_000)
    parser.add_argument("--leads", type=int, default=500_000, help="leads in the sales layer (0: none)")
    parser.add_argument("--opportunities", type=int, default=300_000, help="opportunities in the sales layer")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients for throughput")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each throughput run")
    parser.add_argument("--workers", type=int, default=2, help="granian worker processes")
    parser.add_argument(
        "--database", choices=["sqlite", "postgres"], default="sqlite", help="postgres: the same data loaded by COPY"
    )
    args = parser.parse_args()
    args.requests = max(1, min(args.requests, 100_000))
    args.seconds = max(1.0, min(args.seconds, 600.0))

    BENCH_VAR.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    db = db_path(args.customers)
    env = env_for(db)
    info = prepare_database(args, env, db)
    heavy = heavy_customer(db, info)
    sales = prepare_sales(args, env, db) if args.leads or args.opportunities else {}
    seen = check_sales(args, env) if sales else {}
    sharing = prepare_sharing(db)
    con = read_connection(db)
    terms = pick_terms(con)  # from the SQLite data, which PostgreSQL holds a copy of: the same terms
    postgres = args.database == "postgres"
    pg_info = {}
    if postgres:
        env, pg_info = prepare_postgres(args, env, db, sharing)
        if sales:
            seen = check_sales(args, env)  # counted again, on PostgreSQL
        con.close()
        con = pg_connection(env["DATABASE_URL"])
    print("Search terms: " + ", ".join(f"{label} {term!r} ({n:,} matches)" for label, term, n in terms))

    # Every page for a manager (the main figures), a rep and the general manager (whole company).
    list_label = "customer list"
    if sharing:
        list_label += f" ({USER}; {sharing['team_shared']:,} customers shared with the team)"
    pages = {list_label: "/customers/"}
    for label, term, n in terms:
        pages[f"search, {label} “{term}” ({n:,})"] = "/customers/?q=" + urllib.parse.quote(term)
    if heavy:
        pages[f"360° page, {args.heavy_timeline:,}-entry timeline (#{heavy})"] = f"/customers/{heavy}/"
    if sales:
        pages[f"lead list by score ({seen['leads_open_visible']:,} open leads in scope)"] = "/leads/?sort=score"
        pages[f"board of the team's pipeline ({seen['board_cards_counted']:,} open deals in scope)"] = "/sales/"
        pages[f"forecast page ({seen['opportunities_visible']:,} deals in scope)"] = "/sales/forecast/"
    pages["trivial authenticated page"] = "/accounts/ping/"
    others = {SHARING_USER: {}, GM_USER: {}}
    shared = f", {sharing['rep_shared']:,} shared customers" if sharing else ""
    others[SHARING_USER][f"customer list as {SHARING_USER}{shared}"] = "/customers/"
    others[GM_USER][f"customer list as {GM_USER}, whole company"] = "/customers/"
    for who in others:
        others[who][f"search as {who}, “科技”"] = "/customers/?q=" + urllib.parse.quote("科技")
        if heavy:
            others[who][f"360° page as {who}"] = f"/customers/{heavy}/"
    if sales:
        for who in others:
            covered = sales_data(env, "--check", who)
            others[who][f"lead list by score as {who} ({covered['leads_open_visible']:,} open leads)"] = (
                "/leads/?sort=score"
            )
            others[who][f"board as {who} ({covered['board_cards_counted']:,} open deals)"] = "/sales/"
            if who != SHARING_USER:  # a rep has no forecast page
                others[who][f"forecast page as {who} ({covered['opportunities_visible']:,} deals)"] = "/sales/forecast/"

    print("collectstatic…", flush=True)
    manage(env, "collectstatic", "--noinput", "-v0")
    print("Capturing the SQL each page runs…", flush=True)
    captured = {}
    for who, its_pages in [(USER, pages), *others.items()]:
        capture = subprocess.run(
            [PYTHON, str(ROOT / "bench" / "sql_capture.py"), who, json.dumps(its_pages)],
            cwd=ROOT,
            env=env,
            text=True,
            capture_output=True,
        )
        if capture.returncode != 0:
            print(capture.stderr[-2000:])
        else:
            captured.update(json.loads(capture.stdout))

    port = free_port()
    print(f"Starting granian ({args.workers} workers) on {HOST}:{port}…", flush=True)
    server = start_server(env, port, args.workers)
    table = Table()
    explains = []
    try:
        client = log_in(port)
        results = {}
        for label, path in pages.items():
            samples, failure = time_page(client, path, args.warmup, args.requests)
            results[label] = (samples, failure)
            shown = failure or f"p50 {pct(samples, 0.5):.1f} ms, p95 {pct(samples, 0.95):.1f} ms"
            print(f"  {label}: {shown}", flush=True)
        for who, its_pages in others.items():
            other_client = log_in(port, who)
            for label, path in its_pages.items():
                samples, failure = time_page(other_client, path, args.warmup, args.requests)
                results[label] = (samples, failure)
                shown = failure or f"p50 {pct(samples, 0.5):.1f} ms, p95 {pct(samples, 0.95):.1f} ms"
                print(f"  {label}: {shown}", flush=True)
            other_client.close()
            pages = {**pages, **its_pages}
        ping = results.get("trivial authenticated page", ([], ""))[0]
        ping_p50 = pct(ping, 0.5) if ping else None

        sql_p50 = {}
        for label in pages:
            queries = replayable(con, captured.get(label, {}).get("queries", []))
            sql_samples = time_sql(con, queries, args.warmup, args.requests) if queries else []
            sql_p50[label] = pct(sql_samples, 0.5) if sql_samples else None
            results[f"sql:{label}"] = (sql_samples, len(queries))
            for sql in queries:
                explains.append((label, sql, explain(con, sql)))

        for label in pages:
            samples, failure = results[label]
            if label == "trivial authenticated page":
                table.latency(label, samples, TARGETS["ping"], None, failure)
                continue
            floor = None
            if ping_p50 is not None and sql_p50.get(label) is not None:
                floor = ping_p50 + sql_p50[label]
            table.latency(label, samples, page_target(label), floor, failure)
        for label in pages:
            sql_samples, n = results[f"sql:{label}"]
            if sql_samples:
                table.latency(f"SQL of {label} ({n} queries)", sql_samples, TARGETS["sql"])

        # The bare queries behind the list and the search, written out by hand.
        path = con.execute(
            "SELECT d.path, u.id FROM users_user u JOIN users_department d ON d.id = u.department_id "
            f"WHERE u.username = '{USER}'",
        ).fetchone()
        if path:
            scoped = (
                "SELECT c.id, c.name, c.city, c.tier, c.updated_at FROM customers_customer c "
                "LEFT JOIN users_user o ON o.id = c.owner_id LEFT JOIN users_department d ON d.id = o.department_id "
                f"WHERE (c.owner_id = {path[1]} OR d.path LIKE '{path[0]}%' ESCAPE '\\') AND c.deleted_at IS NULL "
                "ORDER BY c.updated_at DESC, c.id DESC LIMIT 25"
            )
            table.latency(
                "bare SQL: scoped list, newest 25",
                time_sql(con, [scoped], args.warmup, args.requests),
                TARGETS["match"],
            )
            explains.append(("bare SQL: scoped list", scoped, explain(con, scoped)))
        for _label, term, n in terms:
            match = bare_match(term, postgres)
            table.latency(
                f"bare SQL: {'index lookup' if postgres else 'FTS MATCH'} “{term}” ({n:,})",
                time_sql(con, [match], args.warmup, args.requests),
                TARGETS["match"],
            )
            if postgres:
                explains.append((f"bare SQL: index lookup “{term}”", match, explain(con, match)))

        print(f"Throughput: {args.clients} clients × {args.seconds:.0f} s…", flush=True)
        ping_rps, ping_errors = throughput(port, client.cookies, "/accounts/ping/", args.clients, args.seconds)
        list_rps, list_errors = throughput(port, client.cookies, "/customers/", args.clients, args.seconds)
        table.rate(
            f"throughput: customer list, {args.clients} clients", list_rps, list_errors, TARGETS["list_rps"], ping_rps
        )
        table.rate(f"throughput: trivial page, {args.clients} clients", ping_rps, ping_errors, TARGETS["ping_rps"])

        workers = [pid for pid in descendants(server.pid) if Path(f"/proc/{pid}/status").exists()]
        memory = [rss_mib(pid) for pid in workers]
        memory = [m for m in memory if m[0] > 20] or memory  # worker processes, not helper threads' shells
        if memory:
            worst = max(m[0] for m in memory)
            table.other(
                f"web worker RSS (VmRSS) per process, MiB; own memory (RssAnon) "
                f"{' / '.join(f'{m[2]:.0f}' for m in memory)}, peak {max(m[1] for m in memory):.0f}",
                " / ".join(f"{m[0]:.0f}" for m in memory) + (" ✗" if worst > TARGETS["rss"] else ""),
                f"≤ {TARGETS['rss']:.0f} MiB each",
            )
        client.close()
    finally:
        stop_server(server)
        con.close()

    rows = info.get("rows") or []
    counts = (
        f"{rows[0]:,} customers, {rows[1]:,} contacts, {rows[2]:,} activities, {rows[3]:,} timeline entries"
        if len(rows) == 4
        else f"{args.customers:,} customers"
    )
    if sales:
        counts += (
            f"; sales layer: {seen['leads']:,} leads, {seen['opportunities']:,} opportunities over "
            f"{sales['reps']} reps, loaded in {sales['load_seconds']:.0f} s; forecast refresh (the periodic task) "
            f"{sales['forecast_refresh_seconds']:.1f} s when loaded"
        )
    if postgres:
        counts += (
            f"; copied from that SQLite database into PostgreSQL {pg_version()} by COPY in "
            f"{pg_info.get('total_seconds', 0):.0f} s ({pg_info.get('copy_seconds', 0):.0f} s COPY, "
            f"{pg_info.get('index_seconds', 0):.0f} s keys and indexes, {pg_info.get('fk_seconds', 0):.0f} s "
            f"foreign keys, {pg_info.get('vacuum_seconds', 0):.0f} s VACUUM ANALYZE)"
        )
    header = [
        f"# Kehu benchmark{' on PostgreSQL' if postgres else ''} — {datetime.now().strftime('%Y-%m-%d %H:%M')}",
        "",
        f"- data: {counts}; generated in {info.get('generate_seconds', 0):.0f} s",
        f"- machine: {machine()}; commit {git_commit()}; load average at the end {load_average()}",
        f"- database: {'PostgreSQL ' + pg_version() + ' (var/bench-pg/, shared_buffers 2GB, fsync on)' if postgres else 'SQLite ' + sqlite3.sqlite_version}",
        f"- server: granian WSGI, {args.workers} workers × 1 blocking thread, KEHU_DEBUG=0, signed in as {USER} "
        f"(sales manager, scope 华东销售部 and below)",
        f"- latency: {args.requests} sequential requests after {args.warmup} warm-up, one keep-alive connection; "
        f"throughput: {args.clients} clients for {args.seconds:.0f} s each",
        "- floor: for a page, the trivial page's p50 plus the page's own SQL p50; for the list's throughput, "
        "the trivial page's req/s; ✗ marks a missed target",
        "",
        "",
    ]
    report = "\n".join(header) + table.markdown() + "\n"
    plans = ["", "## Query plans", ""]
    seen = set()
    for label, sql, plan in explains:
        if sql in seen or "django_session" in sql or sql.startswith(("SAVEPOINT", "RELEASE")):
            continue
        seen.add(sql)
        shown = sql if len(sql) < 600 else sql[:600] + " …"
        plans += [f"**{label}**", "", "```sql", shown, "```", "```", plan, "```", ""]
    print()
    print(report)
    out = RESULTS / ("latest-pg.md" if postgres else "latest.md")
    out.write_text(report + "\n".join(plans))
    print(f"Written to {out.relative_to(ROOT)} (with the query plans).")
    if postgres:
        stop_postgres()


if __name__ == "__main__":
    main()
