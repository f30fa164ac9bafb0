"""Throughput of the customer list: 8 clients at once against granian, signed in as a manager.

    .venv/bin/python bench/throughput_bench.py                  # 10 s per run, 8 clients
    .venv/bin/python bench/throughput_bench.py --seconds 30 --clients 8
    .venv/bin/python bench/throughput_bench.py --customers 100000   # no 1M database: generate one

Data: when the 1M benchmark database of `bench/run.py` exists (`var/bench/customers-1000000.sqlite3`
here or in `--source`), a COPY of it in `--dir` (default /tmp/kehu-throughput; made once and reused:
delete it to copy afresh) is migrated and served: the original is never opened. Without one, a
database of `--customers` generated customers is made there with `manage.py demo_data`.

Serves it as `scripts/run.sh` does (granian, WSGI, 2 workers, one blocking thread each, production
settings), signs in as manager1 through the login form, warms up, then runs `--clients` threads,
each with its own keep-alive `http.client` connection, requesting `GET /customers/` for `--seconds`:
requests per second, p50 / p95 / max latency at the client, errors (any answer but 200). The trivial
page (`/accounts/ping/`) is run the same way as the ceiling of the stack. Target: ≥ 300 req/s for the
list on the 2-core machine. The clients share the machine with the server, so figures are lower
bounds; compare runs on the same machine only. See bench/README.md.
"""

import argparse
import os
import shutil
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as bench  # noqa: E402 (the harness's client, server and /proc helpers)

TARGET_RPS = 300.0


def database(args) -> tuple[Path, bool]:
    """The database to serve and whether it is the copy of the 1M set."""
    work = Path(args.dir)
    work.mkdir(parents=True, exist_ok=True)
    source = Path(args.source) if args.source else bench.db_path(1_000_000)
    if source.exists() and not args.customers:
        copy = work / source.name
        if not copy.exists():
            free = shutil.disk_usage(work).free
            if free < source.stat().st_size * 1.2:
                raise SystemExit(f"not enough free space in {work} for a copy of {source}")
            print(f"copying {source} to {copy} ...", file=sys.stderr)
            for suffix in ("-wal", "-shm"):
                Path(f"{copy}{suffix}").unlink(missing_ok=True)
            shutil.copyfile(source, copy)
            if Path(f"{source}-wal").exists():
                shutil.copyfile(f"{source}-wal", f"{copy}-wal")
        return copy, True
    db = work / f"customers-{args.customers or 100_000}.sqlite3"
    return db, False


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes have used (from /proc/PID/stat)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def latencies_run(port: int, cookies: dict, path: str, clients: int, seconds: float, workers: list[int]) -> dict:
    """`clients` threads with a keep-alive connection each, as fast as they can for `seconds`;
    also the CPU time the server's workers and this client spent per request, which a busy machine
    does not inflate the way it does the wall clock."""
    samples: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    start = threading.Barrier(clients + 1)
    deadline = [0.0]

    def work(i: int) -> None:
        client = bench.Client(port, cookies)
        client.get(path)  # the connection is open and the worker warm before the clock starts
        start.wait()
        while time.monotonic() < deadline[0]:
            began = time.perf_counter()
            try:
                status, _ = client.get(path)
            except OSError:
                status = 0
            if status == 200:
                samples[i].append((time.perf_counter() - began) * 1000)
            else:
                errors[i] += 1
        client.close()

    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    deadline[0] = time.monotonic() + seconds
    start.wait()
    began = time.monotonic()
    server_cpu, client_cpu = cpu_seconds(workers), time.process_time()
    for t in threads:
        t.join(seconds + 120)
    elapsed = time.monotonic() - began
    server_cpu, client_cpu = cpu_seconds(workers) - server_cpu, time.process_time() - client_cpu
    done = sorted(s for per in samples for s in per)
    count = max(1, len(done) + sum(errors))
    return {
        "server_cpu": server_cpu / count * 1000,
        "client_cpu": client_cpu / count * 1000,
        "rps": len(done) / elapsed,
        "requests": len(done),
        "errors": sum(errors),
        "p50": bench.pct(done, 0.50) if done else 0.0,
        "p95": bench.pct(done, 0.95) if done else 0.0,
        "max": done[-1] if done else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", help="the 1M database to copy (default: var/bench/customers-1000000.sqlite3)")
    parser.add_argument("--dir", default="/tmp/kehu-throughput", help="where the copy or generated data lives")
    parser.add_argument("--customers", type=int, help="generate this many customers instead of copying")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--user", default=bench.USER)
    args = parser.parse_args()

    db, copied = database(args)
    env = bench.env_for(db)
    env["KEHU_VAR_DIR"] = str(Path(args.dir))
    env.setdefault("MALLOC_MMAP_THRESHOLD_", "1048576")  # as scripts/run.sh sets it
    bench.manage(env, "migrate", "--noinput", "-v0")
    if not copied:
        bench.manage(env, "demo_data", "--if-empty", "--customers", str(args.customers or 100_000))
        # The planner statistics, as the daily job keeps them (without them SQLite may sort the scope).
        bench.manage(env, "shell", "-c", "from kehu.core.dbstats import refresh_statistics; refresh_statistics()")
    bench.manage(env, "collectstatic", "--noinput", "-v0")

    port = bench.free_port()
    bench.BENCH_VAR = Path(args.dir)  # the server's log goes beside the data
    proc = bench.start_server(env, port, args.workers)
    results = {}
    try:
        client = bench.log_in(port, args.user)
        for path in ("/customers/", "/accounts/ping/"):
            for _ in range(20):
                status, _ = client.get(path)
                if status != 200:
                    raise SystemExit(f"GET {path} answered {status}")
        workers = bench.descendants(proc.pid)
        for name, path in (("customer list", "/customers/"), ("trivial page", "/accounts/ping/")):
            results[name] = latencies_run(port, client.cookies, path, args.clients, args.seconds, workers)
        memory = [bench.rss_mib(pid) for pid in workers]
    finally:
        bench.stop_server(proc)

    print(f"\n{db.name} ({'copy of the 1M set' if copied else 'generated'}), signed in as {args.user}, ")
    print(
        f"{args.clients} clients × {args.seconds:.0f} s, {args.workers} granian workers, load {os.getloadavg()[0]:.1f}\n"
    )
    print("| page | req/s | p50 | p95 | max | requests | errors | server CPU / req | client CPU / req | target |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, r in results.items():
        target = f"≥ {TARGET_RPS:.0f} req/s" if name == "customer list" else ""
        miss = " ✗" if name == "customer list" and r["rps"] < TARGET_RPS else ""
        print(
            f"| {name} | {r['rps']:.0f}{miss} | {r['p50']:.1f} ms | {r['p95']:.1f} ms | {r['max']:.1f} ms "
            f"| {r['requests']} | {r['errors']} | {r['server_cpu']:.2f} ms | {r['client_cpu']:.2f} ms | {target} |"
        )
    print(
        "\nweb workers after the runs, RSS / peak / own: "
        + ", ".join(f"{rss:.0f} / {hwm:.0f} / {anon:.0f} MiB" for rss, hwm, anon in memory)
    )
    cores = os.cpu_count() or 1
    print(
        f"\nCPU-bound ceiling on {cores} otherwise idle cores (cores ÷ (server + client CPU per request)): "
        + ", ".join(
            f"{name} {cores * 1000 / (r['server_cpu'] + r['client_cpu']):.0f} req/s" for name, r in results.items()
        )
    )


if __name__ == "__main__":
    main()
