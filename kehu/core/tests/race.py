"""Many writers at the same moment, for the tests that no write is lost (PLT-5).

`production_database(tmp_path)`: SQLite's in-memory test database (shared cache) answers
concurrent writers with "table is locked" at once, where the real file database in WAL mode waits
(busy timeout, IMMEDIATE transactions: config/settings.py). So on SQLite the writers run on a
file copy of the test database opened with the production settings, and the result is copied
back for the assertions. On PostgreSQL the writers use the test database itself (the test must
commit: `django_db(transaction=True)`).

`race(n, fn)`: n threads released together by a barrier; `fn(i)` runs in thread i on its own
connection, which it closes. `race_processes(processes, threads, fn)`: the same across forked
processes (processes × threads writers, each on its own connection; the parent's connections are
closed before forking so no child shares one). Both answer the outcomes in index order, with the
seconds the race took (`.seconds`).
"""

import contextlib
import multiprocessing
import queue
import sqlite3
import threading
import time
import traceback
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import close_old_connections, connection, connections
from django.urls import get_resolver

WAIT = 60  # seconds any writer may wait for the others (the barrier, the joins)


@dataclass(frozen=True)
class Outcome:
    """What writer `index` got: the value `fn` returned, or the class name and text of what it raised."""

    index: int
    value: object = None
    error: str = ""
    message: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


class Outcomes(list):
    seconds: float = 0.0

    @property
    def won(self) -> list[Outcome]:
        return [o for o in self if o.ok]

    @property
    def lost(self) -> list[Outcome]:
        return [o for o in self if not o.ok]

    def errors(self) -> set[str]:
        """The distinct (class name, message) of the writers that raised."""
        return {(o.error, o.message) for o in self.lost}


@contextlib.contextmanager
def production_database(tmp_path):
    if connection.vendor != "sqlite":
        yield
        return
    path = str(tmp_path / "race.sqlite3")
    connection.ensure_connection()
    with contextlib.closing(sqlite3.connect(path)) as target:
        connection.connection.backup(target)
        target.execute("PRAGMA journal_mode=WAL")  # once, before the writers open it together
    settings = connections.settings["default"]
    saved = settings["NAME"]
    settings["NAME"] = path
    try:
        yield
    finally:
        settings["NAME"] = saved
        with contextlib.closing(sqlite3.connect(path)) as source:
            source.backup(connection.connection)


def _attempt(index: int, fn, barrier) -> Outcome:
    try:
        barrier.wait(WAIT)
        return Outcome(index, value=fn(index))
    except ValidationError as exc:
        return Outcome(index, error=type(exc).__name__, message=" ".join(str(m) for m in exc.messages))
    except Exception as exc:  # noqa: BLE001 - every other exception is a failure the test reports
        return Outcome(index, error=type(exc).__name__, message=f"{exc}\n{traceback.format_exc()}")
    finally:
        connections.close_all()  # this thread's connections


def _threads(indexes, fn, barrier, put) -> None:
    threads = [threading.Thread(target=lambda i=i: put(_attempt(i, fn, barrier))) for i in indexes]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT)


def _sorted(found, started) -> Outcomes:
    outcomes = Outcomes(sorted(found, key=lambda o: o.index))
    outcomes.seconds = time.perf_counter() - started
    close_old_connections()
    return outcomes


def _warm() -> None:
    """Load what a running server has loaded before its first request (the URL configuration imports
    every view), so the race measures the writes and not one writer's imports."""
    get_resolver().reverse_dict  # noqa: B018


def race(n: int, fn) -> Outcomes:
    """`fn(i)` for i in 0..n-1, each in its own thread, all starting together."""
    _warm()
    found: list[Outcome] = []
    lock = threading.Lock()

    def put(outcome):
        with lock:
            found.append(outcome)

    started = time.perf_counter()
    _threads(range(n), fn, threading.Barrier(n), put)
    assert len(found) == n, f"{n - len(found)} writers did not finish"
    return _sorted(found, started)


def race_processes(processes: int, threads: int, fn) -> Outcomes:
    """`fn(i)` for i in 0..processes×threads-1: `threads` threads in each of `processes` forked
    processes, all starting together. `fn`'s value must pickle (it comes back through a queue)."""
    _warm()
    context = multiprocessing.get_context("fork")
    n = processes * threads
    barrier = context.Barrier(n)
    results = context.Queue()
    if connection.vendor != "sqlite":
        # A child must not share the parent's connection. (SQLite's in-memory test database must
        # stay open: the children's threads open the file copy instead.)
        connections.close_all()

    def child(first):
        _threads(range(first, first + threads), fn, barrier, results.put)

    started = time.perf_counter()
    children = [context.Process(target=child, args=(p * threads,)) for p in range(processes)]
    for p in children:
        p.start()
    found = []
    try:
        for _ in range(n):
            found.append(results.get(timeout=WAIT))
    except queue.Empty:
        pass
    for p in children:
        p.join(WAIT)
    assert len(found) == n, f"{n - len(found)} writers did not finish"
    assert [p.exitcode for p in children] == [0] * processes
    return _sorted(found, started)
