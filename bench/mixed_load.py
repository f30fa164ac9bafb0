"""Mixed load on PostgreSQL: reads and writes of several people at once, with the task workers on.

    .venv/bin/python bench/mixed_load.py                      # the 1M data set of `make bench-pg`
    .venv/bin/python bench/mixed_load.py --customers 20000 --leads 10000 --opportunities 6000 --seconds 20

Uses the data and the PostgreSQL database of `bench/run.py --database postgres` (generated and
loaded first when missing). Starts granian with 2 web worker processes and 2 task workers
(`manage.py db_worker`, as scripts/run.sh starts them), then for `--seconds` runs `--clients`
threads, each signed in as one of the sales reps and managers (through the login form for the
pages, with an API token for the writes), each doing 80% reads (customer list, search, 360° page,
board, lead list, quote and order lists) and 20% writes that commit (customers, activities, leads,
deals, quotes, orders with a line, payments), picked at random by weight. Reports throughput,
p50/p95 per kind, rejected writes (400/409/422: a validation answer, such as a payment larger than
what is due) and errors (any other answer that is not 2xx/3xx, and broken connections); then waits
for the task workers to drain the queue and reports how long that took. Writes
bench/results/mixed-latest.md. The data the writes add stays in the benchmark database (small
next to it); reload it (delete var/bench-pg/kehu_c<N>.json) for a pristine copy.
"""

import argparse
import http.server
import json
import random
import subprocess
import sys
import threading
import time
import urllib.parse
from datetime import date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # noqa: E402  (the harness of bench/run.py: data, server, client, percentiles)

ROOT = run.ROOT
PEOPLE = ["rep1", "manager1", "rep2", "manager2", "rep3"]  # the demo's reps and managers: each owns customers
READS = {
    "customer list": 15,
    "search": 15,
    "360° page": 12,
    "board": 10,
    "lead list": 10,
    "quote list": 9,
    "order list": 9,
}
WRITES = {
    "new customer": 3,
    "log activity": 5,
    "new lead": 3,
    "new deal": 3,
    "new quote": 2,
    "new order": 2,
    "payment": 2,
}
EXPECTED_REJECTIONS = {400, 409, 422}
# Webhooks of the events the writes announce: each is a task for the workers (a signed POST to the
# sink below, on loopback), so the writes queue real work.
HOOKED_EVENTS = ["lead.created", "payment.received"]


class Sink(http.server.ThreadingHTTPServer):
    """The webhook receiver: answers 204 and counts."""

    daemon_threads = True
    received = 0

    def __init__(self):
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (the name http.server calls)
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                sink.received += 1
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        super().__init__((run.HOST, 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


def subscribe(port: int, sink: Sink) -> tuple[run.Client, dict, int]:
    """A webhook subscription to the sink, made by the administrator through the API."""
    api = run.Client(port)
    status, body = api.request(
        "POST",
        "/api/v1/auth/token",
        json.dumps({"username": "admin", "password": run.PASSWORD}),
        {"Content-Type": "application/json"},
    )
    if status != 200:
        raise SystemExit(f"no API token for admin: HTTP {status}")
    headers = {"Authorization": "Bearer " + json.loads(body)["token"], "Content-Type": "application/json"}
    url = f"http://{run.HOST}:{sink.server_address[1]}/hook"
    status, body = api.request(
        "POST",
        "/api/v1/webhooks/subscriptions",
        json.dumps({"url": url, "events": HOOKED_EVENTS, "description": "mixed load"}),
        headers,
    )
    if status != 201:
        raise SystemExit(f"webhook subscription: HTTP {status} {body[:300]!r}")
    return api, headers, json.loads(body)["id"]


class Person:
    """One signed-in person: a page client (session) and an API client (token), and what they see."""

    def __init__(self, port: int, username: str, terms: list[str]):
        self.username = username
        self.pages = run.log_in(port, username)
        self.api = run.Client(port)
        status, body = self.api.request(
            "POST",
            "/api/v1/auth/token",
            json.dumps({"username": username, "password": run.PASSWORD}),
            {"Content-Type": "application/json"},
        )
        if status != 200:
            raise SystemExit(f"no API token for {username}: HTTP {status} {body[:200]!r}")
        self.headers = {"Authorization": "Bearer " + json.loads(body)["token"], "Content-Type": "application/json"}
        self.terms = terms
        items = self.get_json("/api/v1/customers/?limit=100")["items"]
        self.customers = [c["id"] for c in items]
        if not self.customers:
            raise SystemExit(f"{username} sees no customers")
        specs = self.get_json("/api/v1/catalog/specifications?q=" + urllib.parse.quote("a"))
        if not specs:
            specs = self.get_json("/api/v1/catalog/specifications?q=1")
        self.specifications = [s["id"] for s in specs][:20]

    def get_json(self, path: str):
        status, body = self.api.request("GET", path, None, self.headers)
        if status != 200:
            raise SystemExit(f"GET {path} as {self.username}: HTTP {status} {body[:300]!r}")
        return json.loads(body)

    def post(self, path: str, payload: dict) -> tuple[int, bytes]:
        return self.api.request("POST", path, json.dumps(payload, default=str), self.headers)

    def do(self, kind: str, rnd: random.Random, serial: str) -> tuple[int, bytes]:
        customer = rnd.choice(self.customers)
        if kind == "customer list":
            return self.pages.get("/customers/")
        if kind == "search":
            return self.pages.get("/customers/?q=" + urllib.parse.quote(rnd.choice(self.terms)))
        if kind == "360° page":
            return self.pages.get(f"/customers/{customer}/")
        if kind == "board":
            return self.pages.get("/sales/")
        if kind == "lead list":
            return self.pages.get("/leads/")
        if kind == "quote list":
            return self.pages.get("/quotes/")
        if kind == "order list":
            return self.pages.get("/orders/")
        if kind == "new customer":
            return self.post(
                "/api/v1/customers/",
                {
                    "name": f"压测客户{serial}有限公司",
                    "city": "苏州",
                    "phone": f"0512-6{serial[-7:]}",
                    "allow_duplicate": True,
                },
            )
        if kind == "log activity":
            return self.post(
                "/api/v1/activities/",
                {"customer_id": customer, "kind": "call", "subject": f"电话回访 {serial}", "content": "压测"},
            )
        if kind == "new lead":
            return self.post(
                "/api/v1/leads",
                {"company_name": f"压测线索{serial}公司", "contact_name": "王先生", "phone": f"139{serial[-8:]}"},
            )
        if kind == "new deal":
            return self.post(
                "/api/v1/sales/opportunities",
                {"customer_id": customer, "name": f"压测商机{serial}", "amount": str(rnd.randint(1, 500) * 1000)},
            )
        if kind == "new quote":
            return self.post("/api/v1/quotes", {"customer_id": customer, "title": f"压测报价{serial}"})
        if kind == "new order":
            lines = (
                [{"specification_id": rnd.choice(self.specifications), "quantity": "2"}] if self.specifications else []
            )
            return self.post("/api/v1/orders", {"customer_id": customer, "lines": lines})
        if kind == "payment":
            return self.post(
                "/api/v1/receivables/payments",
                {"customer_id": customer, "amount": str(rnd.randint(1, 50) * 100), "received_on": str(date.today())},
            )
        raise ValueError(kind)


def start_task_workers(env: dict, n: int) -> list[subprocess.Popen]:
    log = open(run.BENCH_VAR / "task-workers.log", "w")  # noqa: SIM115 (closed with the processes)
    return [
        subprocess.Popen(
            [run.PYTHON, "manage.py", "db_worker", "--queue-name", "*", "--no-reload"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for _ in range(n)
    ]


def queue_counts(con) -> dict[str, int]:
    return dict(
        con.execute("SELECT status, COUNT(*) FROM django_tasks_database_dbtaskresult GROUP BY status").fetchall()
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--heavy-timeline", type=int, default=10_000)
    parser.add_argument("--leads", type=int, default=500_000)
    parser.add_argument("--opportunities", type=int, default=300_000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=8, help="client threads, each one signed-in person")
    parser.add_argument("--workers", type=int, default=2, help="granian web worker processes")
    parser.add_argument("--task-workers", type=int, default=2, help="db_worker processes")
    parser.add_argument("--drain-timeout", type=float, default=300.0)
    args = parser.parse_args()

    run.BENCH_VAR.mkdir(parents=True, exist_ok=True)
    run.RESULTS.mkdir(parents=True, exist_ok=True)
    db = run.db_path(args.customers)
    env = run.env_for(db)
    run.prepare_database(args, env, db)
    if args.leads or args.opportunities:
        run.prepare_sales(args, env, db)
    sharing = run.prepare_sharing(db)
    lite = run.read_connection(db)
    terms = [term for _label, term, _n in run.pick_terms(lite)]
    lite.close()
    env, _pg_info = run.prepare_postgres(args, env, db, sharing)
    con = run.pg_connection(env["DATABASE_URL"])
    before = queue_counts(con)
    run.manage(env, "collectstatic", "--noinput", "-v0")

    port = run.free_port()
    print(f"Starting granian ({args.workers} workers) and {args.task_workers} task workers…", flush=True)
    server = run.start_server(env, port, args.workers)
    workers = start_task_workers(env, args.task_workers)
    sink = Sink()
    samples: dict[str, list[float]] = {k: [] for k in [*READS, *WRITES]}
    rejected: dict[str, int] = {k: 0 for k in WRITES}
    errors: dict[str, int] = {k: 0 for k in samples}
    first_failure: dict[str, str] = {}
    lock = threading.Lock()
    try:
        admin, admin_headers, subscription = subscribe(port, sink)
        people = [Person(port, PEOPLE[i % len(PEOPLE)], terms) for i in range(args.clients)]
        kinds = list(READS) + list(WRITES)
        weights = list(READS.values()) + list(WRITES.values())
        load_before = run.load_average()
        deadline = time.monotonic() + args.seconds
        barrier = threading.Barrier(args.clients + 1)

        def client(i: int) -> None:
            person, rnd, n = people[i], random.Random(i), 0
            barrier.wait()
            while time.monotonic() < deadline:
                kind = rnd.choices(kinds, weights)[0]
                n += 1
                serial = f"{i:02d}{n:06d}{int(time.time()) % 100000:05d}"
                started = time.perf_counter()
                try:
                    status, body = person.do(kind, rnd, serial)
                except OSError as exc:
                    status, body = 0, str(exc).encode()
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    if 200 <= status < 400:
                        samples[kind].append(elapsed)
                    elif kind in WRITES and status in EXPECTED_REJECTIONS:
                        rejected[kind] += 1
                        first_failure.setdefault(kind, f"HTTP {status} {body[:200].decode(errors='replace')}")
                    else:
                        errors[kind] += 1
                        first_failure.setdefault(kind, f"HTTP {status} {body[:200].decode(errors='replace')}")

        threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(args.clients)]
        for t in threads:
            t.start()
        barrier.wait()
        began = time.monotonic()
        for t in threads:
            t.join(args.seconds + 120)
        elapsed = time.monotonic() - began
        load_during = run.load_average()
        for p in people:
            p.pages.close()
            p.api.close()

        # The task workers keep running until everything the writes queued is done.
        drain_started = time.monotonic()
        while time.monotonic() - drain_started < args.drain_timeout:
            waiting = {k: v for k, v in queue_counts(con).items() if k in ("READY", "RUNNING")}
            if not waiting:
                break
            time.sleep(0.5)
        drain = time.monotonic() - drain_started
        after = queue_counts(con)
        admin.request("DELETE", f"/api/v1/webhooks/subscriptions/{subscription}", None, admin_headers)
        admin.close()
    finally:
        run.stop_server(server)
        for w in workers:
            w.terminate()
        for w in workers:
            try:
                w.wait(30)
            except subprocess.TimeoutExpired:
                w.kill()
        con.close()
        run.stop_postgres()

    done = {k: after.get(k, 0) - before.get(k, 0) for k in sorted(set(after) | set(before))}
    left = after.get("READY", 0) + after.get("RUNNING", 0)
    total_ok = sum(len(s) for s in samples.values())
    total_err = sum(errors.values())
    total_rej = sum(rejected.values())
    lines = [
        f"# Kehu mixed load on PostgreSQL — {datetime.now().strftime('%Y-%m-%d %H:%M')}",
        "",
        f"- data: {args.customers:,} customers (database {run.pg_name(args.customers)}); PostgreSQL "
        f"{run.pg_version()}; machine: {run.machine()}; commit {run.git_commit()}",
        f"- {args.workers} granian web workers, {args.task_workers} task workers (db_worker), {args.clients} clients "
        f"({', '.join(sorted({p.username for p in people}))}) for {elapsed:.0f} s on loopback; "
        f"load average before {load_before}, at the end {load_during}",
        f"- **{total_ok / elapsed:,.1f} req/s** answered 2xx/3xx ({total_ok:,} requests), "
        f"{total_rej} rejected writes (400/409/422), **{total_err} errors**",
        f"- tasks: {', '.join(f'{k} {v:+,}' for k, v in done.items()) or 'none'} during the run; "
        f"queue {'drained' if not left else f'NOT drained ({left} left)'} {drain:.1f} s after the clients stopped; "
        f"the webhook sink received {sink.received} deliveries ({', '.join(HOOKED_EVENTS)})",
        "",
        "| kind | share | done | req/s | p50 ms | p95 ms | rejected | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for kind, weight in [*READS.items(), *WRITES.items()]:
        s = samples[kind]
        lines.append(
            f"| {'read' if kind in READS else 'write'}: {kind} | {weight}% | {len(s):,} | {len(s) / elapsed:.1f} | "
            f"{run.fmt(run.pct(s, 0.5)) if s else '—'} | {run.fmt(run.pct(s, 0.95)) if s else '—'} | "
            f"{rejected.get(kind, '')} | {errors[kind]} |"
        )
    reads = [x for k in READS for x in samples[k]]
    writes = [x for k in WRITES for x in samples[k]]
    for name, s in (("all reads", reads), ("all writes", writes)):
        if s:
            lines.append(
                f"| {name} | | {len(s):,} | {len(s) / elapsed:.1f} | {run.fmt(run.pct(s, 0.5))} | "
                f"{run.fmt(run.pct(s, 0.95))} | | |"
            )
    if first_failure:
        lines += ["", "First failure of each kind:", ""]
        lines += [f"- {kind}: `{text.replace('`', "'").replace(chr(10), ' ')}`" for kind, text in first_failure.items()]
    report = "\n".join(lines) + "\n"
    print()
    print(report)
    (run.RESULTS / "mixed-latest.md").write_text(report)
    print("Written to bench/results/mixed-latest.md")
    missing = [k for k in WRITES if not samples[k]]
    if total_err or left or missing:
        raise SystemExit(
            f"mixed load: {total_err} errors, {left} tasks left, writes that never succeeded: {missing or 'none'}"
        )


if __name__ == "__main__":
    main()
