"""Web worker memory: resident size of each granian worker after start and after serving pages.

    make bench-memory                                   # = .venv/bin/python bench/memory_bench.py
    .venv/bin/python bench/memory_bench.py --source var/kehu.sqlite3   # a copy of that database instead
    .venv/bin/python bench/memory_bench.py --pdf        # also a quote's PDF at the end (WeasyPrint loads)

Serves Kehu as `scripts/run.sh` does (granian, WSGI, config.wsgi, 2 workers, one blocking thread
each, production settings) on a database of its own: a fresh one with the demo data in a temporary
KEHU_VAR_DIR, or a copy of `--source` there (the original is never opened for writing). Reads each
worker's VmRSS, VmHWM (the peak) and RssAnon (its own memory, without shared file pages) from
/proc: once the port answers to a connect (no request served yet), after the first request (the
URLs and the views load then), after a round of pages signed in as manager1, and after the API's
documentation and lists (the API loads on a worker's first /api/ request). Prints a Markdown table.
Target: ≤ 100 MiB resident per worker serving the pages, the peak included. See bench/README.md.
"""

import argparse
import json
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as bench  # noqa: E402 (the harness's client, server and /proc helpers)

ROOT = bench.ROOT
TARGET_MIB = 100.0

# The pages signed in as manager1; `{customer}` etc. are filled from the lists' first links.
PAGES = [
    "/",
    "/customers/",
    "/customers/?q=%E7%A7%91%E6%8A%80",  # 科技
    "/customers/{customer}/",
    "/activities/",
    "/leads/",
    "/sales/",
    "/sales/forecast/",
    "/quotes/",
    "/quotes/{quote}/",
    "/quotes/{quote}/document/",
    "/orders/",
    "/orders/{order}/",
    "/contracts/",
    "/invoices/",
    "/receivables/plans/",
    "/receivables/reports/ageing/",
    "/dealer-plans/",
    "/service/tickets/",
    "/approvals/",
    "/notifications/",
    "/catalog/",
    "/pool/",
]
# The API loads in a worker on its first /api/ request (config/urls.py): measured after the pages.
API_DOCS = ["/api/v1/docs"]
# Loaded with a bearer token (the API does not read the session).
API_PAGES = ["/api/v1/customers/", "/api/v1/activities/", "/api/v1/quotes"]


def prepare(args, var: Path) -> dict:
    db = var / "kehu.sqlite3"
    if args.source:
        source = Path(args.source).resolve()
        for suffix in ("", "-wal"):
            if Path(f"{source}{suffix}").exists():
                shutil.copyfile(f"{source}{suffix}", f"{db}{suffix}")
    env = bench.env_for(db)
    env["KEHU_VAR_DIR"] = str(var)
    bench.manage(env, "migrate", "--noinput", "-v0")
    if not args.source:
        bench.manage(env, "demo_data", "--if-empty")
    bench.manage(env, "collectstatic", "--noinput", "-v0")
    return env


def start(env: dict, port: int, workers: int, log: Path) -> subprocess.Popen:
    """granian as scripts/run.sh starts it; returns once the port accepts connections."""
    env = {"MALLOC_MMAP_THRESHOLD_": "1048576", **env}  # as run.sh sets it
    proc = subprocess.Popen(
        [
            bench.GRANIAN,
            *("--interface", "wsgi", "config.wsgi:application", "--host", bench.HOST, "--port", str(port)),
            *("--workers", str(workers), "--blocking-threads", "1", "--workers-kill-timeout", "5"),
            *("--no-access-log", "--log-level", "warning"),
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"granian exited ({proc.returncode}); see {log}")
        try:
            with socket.create_connection((bench.HOST, port), timeout=1):
                pass
        except OSError:
            time.sleep(0.1)
            continue
        # Workers load the WSGI application before they take connections; wait until each has.
        if len(worker_pids(proc)) >= workers:
            return proc
        time.sleep(0.1)
    bench.stop_server(proc)
    raise SystemExit(f"the server did not start within 60 s; see {log}")


def worker_pids(proc: subprocess.Popen) -> list[int]:
    return sorted(pid for pid in bench.descendants(proc.pid) if _is_python(pid))


def _is_python(pid: int) -> bool:
    try:
        return "granian" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False


def snapshot(pids: list[int]) -> dict[int, tuple[float, float, float]]:
    return {pid: bench.rss_mib(pid) for pid in pids}


def fill(pages: list[str], client: "bench.Client") -> list[str]:
    ids = {}
    for key, listing in (("customer", "/customers/"), ("quote", "/quotes/"), ("order", "/orders/")):
        _status, body = client.get(listing)
        found = re.search(rf'href="/{listing.strip("/")}/(\d+)/"'.encode(), body)
        ids[key] = found.group(1).decode() if found else None
    return [page.format(**ids) for page in pages if all(ids[k] for k in re.findall(r"{(\w+)}", page))]


def api_token(port: int) -> str:
    client = bench.Client(port)
    body = json.dumps({"username": bench.USER, "password": bench.PASSWORD})
    status, data = client.request("POST", "/api/v1/auth/token", body, {"Content-Type": "application/json"})
    client.close()
    if status != 200:
        raise SystemExit(f"POST /api/v1/auth/token answered {status}")
    return json.loads(data)["token"]


def browse(port: int, cookies: dict, pages: list[str], clients: int, rounds: int, token: str = "") -> list[str]:
    """Every page `rounds` times from `clients` connections at once (so every worker serves them)."""
    problems: list[str] = []
    headers = {"Authorization": f"Bearer {token}"} if token else {}

    def work() -> None:
        client = bench.Client(port, cookies)
        for _ in range(rounds):
            for page in pages:
                status, _ = client.request("GET", page, headers=headers)
                if status != 200:
                    problems.append(f"{page}: HTTP {status}")
        client.close()

    threads = [threading.Thread(target=work) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(set(problems))


def trace(client: "bench.Client", pages: list[str], pids: list[int], token: str = "") -> None:
    """Each page once, in order, on one connection: how much each raises the serving worker's RSS."""
    before = snapshot(pids)
    for page in pages:
        client.request("GET", page, headers={"Authorization": f"Bearer {token}"} if page in API_PAGES else {})
        after = snapshot(pids)
        for pid in pids:
            grown = after[pid][0] - before[pid][0]
            if abs(grown) >= 0.5 or after[pid][1] > before[pid][1]:
                print(f"  {page}: RSS {grown:+.1f} MiB to {after[pid][0]:.0f} (peak {after[pid][1]:.0f})")
        before = after


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", help="copy this SQLite database instead of generating the demo data")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5, help="times each client loads every page")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--pdf", action="store_true", help="finally load a quote's PDF (loads WeasyPrint)")
    parser.add_argument("--trace", action="store_true", help="also print each page's growth of the peak")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data directory")
    args = parser.parse_args()

    var = Path(tempfile.mkdtemp(prefix="kehu-memory-"))
    proc = None
    rows: list[tuple[str, dict]] = []
    try:
        print(f"preparing {var} ...", file=sys.stderr)
        env = prepare(args, var)
        port = bench.free_port()
        proc = start(env, port, args.workers, var / "server.log")
        time.sleep(1.0)
        pids = worker_pids(proc)
        rows.append(("after start (no request yet)", snapshot(pids)))
        # One request per connection until every worker has served one: the first loads the URLs.
        for _ in range(4 * args.workers):
            bench.Client(port).get("/accounts/login/")
        rows.append(("after the first requests (login page)", snapshot(pids)))
        client = bench.log_in(port)
        pages = fill(PAGES, client)
        if args.trace:
            trace(client, pages, pids)
        problems = browse(port, client.cookies, pages, args.clients, args.rounds)
        rows.append((f"after {len(pages)} pages × {args.rounds} × {args.clients} clients", snapshot(pids)))
        token = api_token(port)
        if args.trace:
            trace(client, API_DOCS + API_PAGES, pids, token)
        problems += browse(port, client.cookies, API_DOCS, args.clients, 1)
        problems += browse(port, {}, API_PAGES, args.clients, args.rounds, token=token)
        pages += API_DOCS + API_PAGES
        rows.append((f"then the API: its docs and {len(API_PAGES)} lists × {args.rounds}", snapshot(pids)))
        if args.pdf:
            pdf = [p + "pdf/" for p in pages if p.endswith("/document/")]
            problems += browse(port, client.cookies, pdf, args.clients, 1)
            rows.append(("after a quote's PDF (WeasyPrint loaded)", snapshot(pids)))
    finally:
        if proc is not None:
            bench.stop_server(proc)
        if not args.keep:
            shutil.rmtree(var, ignore_errors=True)

    head = " | ".join(f"worker {i + 1}: RSS / peak / own" for i in range(len(pids)))
    print(f"\n| moment | {head} |")
    print("| --- |" + " ---: |" * len(pids))
    worst = {"pages": 0.0, "api": 0.0}
    for label, values in rows:
        cells = []
        part = "api" if label.startswith("then the API") else "pages" if not label.startswith("after a quote") else ""
        for pid in pids:
            rss, hwm, anon = values.get(pid, (0.0, 0.0, 0.0))
            if part:
                worst[part] = max(worst[part], rss, hwm)
            cells.append(f"{rss:.0f} / {hwm:.0f} / {anon:.0f} MiB")
        print(f"| {label} | " + " | ".join(cells) + " |")
    verdict = "ok" if worst["pages"] <= TARGET_MIB else "✗ over"
    print(
        f"\nlargest RSS or peak serving the pages: {worst['pages']:.0f} MiB (target ≤ {TARGET_MIB:.0f} MiB: {verdict})"
    )
    print(f"largest RSS or peak once the API was served too: {worst['api']:.0f} MiB")
    print(f"pages ({len(pages)}): " + ", ".join(pages))
    if problems:
        print("problems: " + "; ".join(problems))


if __name__ == "__main__":
    main()
