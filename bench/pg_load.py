"""Load the SQLite benchmark database into the private PostgreSQL cluster by COPY.

    python bench/pg_load.py var/bench/customers-1000000.sqlite3 kehu_c1000000

Used by `bench/run.py --database postgres` (which generates the SQLite data first). Starts the
cluster of bench/pg_cluster.py with its load settings (fsync off), creates the database afresh,
migrates it (so its schema is exactly the app's), then for every table both databases hold:
drops the keys, unique constraints, indexes and foreign keys, streams the SQLite rows in with
psycopg's COPY, and builds them again (the foreign keys validated). Then it sets every sequence
past the largest id and runs VACUUM ANALYZE (statistics, and the visibility map that index-only
scans need). The search structures on PostgreSQL are the pg_trgm and bigram GIN indexes on
`customers_customer.search_text`, which the generator fills on SQLite too: they are rebuilt with
the other indexes. Prints the time of each step and table, and the JSON summary on its last line.
"""

import json
import os
import sqlite3
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import pg_cluster  # noqa: E402

BATCH = 20_000
SKIP = {"django_migrations"}  # the migrate we just ran wrote the same rows


def converters(table: str, columns: list[str]) -> list:
    """Per column, a function turning the SQLite value into one COPY accepts, or None when the
    value goes as it is. Text COPY already takes SQLite's 0/1 booleans, JSON text, ISO datetimes
    (the session is in UTC, as Django stores them), decimals, hex UUIDs and bytes; what remains
    is a duration, stored as microseconds."""
    from django.apps import apps

    fields = {}
    for model in apps.get_models(include_auto_created=True):
        if model._meta.db_table == table:
            fields = {f.column: f for f in model._meta.concrete_fields}
    out = []
    for column in columns:
        field = fields.get(column)
        kind = field.get_internal_type() if field else ""
        if kind == "DurationField":
            out.append(lambda v: None if v is None else timedelta(microseconds=int(v)))
        elif kind == "BooleanField":
            out.append(lambda v: None if v is None else bool(v))
        else:
            out.append(None)
    return out


def schema_objects(cursor) -> tuple[list, list]:
    """(constraints, indexes) of the public schema, as statements that create them again."""
    cursor.execute(
        "SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE connamespace = 'public'::regnamespace AND contype IN ('p', 'u', 'f') ORDER BY conname"
    )
    constraints = cursor.fetchall()
    cursor.execute(
        "SELECT i.tablename, i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = 'public' "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname "
        "AND c.connamespace = 'public'::regnamespace) ORDER BY i.indexname"
    )
    return constraints, cursor.fetchall()


def copy_table(pg, lite: sqlite3.Connection, table: str) -> int:
    with pg.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' "
            "AND table_name = %s ORDER BY ordinal_position",
            [table],
        )
        columns = [r[0] for r in cursor.fetchall()]
    convert = converters(table, columns)
    changing = [(i, f) for i, f in enumerate(convert) if f]
    quoted = ", ".join(f'"{c}"' for c in columns)
    rows = lite.execute(f'SELECT {quoted} FROM "{table}"')
    n = 0
    with pg.transaction(), pg.cursor() as cursor:
        # Emptied in the transaction that fills it: with wal_level=minimal the COPY writes no WAL.
        cursor.execute(f'TRUNCATE "{table}"')
        with cursor.copy(f'COPY "{table}" ({quoted}) FROM STDIN') as copy:
            while batch := rows.fetchmany(BATCH):
                if changing:
                    for row in batch:
                        row = list(row)
                        for i, f in changing:
                            row[i] = f(row[i])
                        copy.write_row(row)
                else:
                    for row in batch:
                        copy.write_row(row)
                n += len(batch)
    return n


def rebuild(url: str, work: list[tuple[str, list[str]]], timings: dict) -> None:
    """Run each table's statements (its key, unique constraints, indexes) in two connections,
    the biggest tables first: two cores, and statements on different tables do not wait."""
    import psycopg

    lock = threading.Lock()

    def worker() -> None:
        with psycopg.connect(url, autocommit=True) as pg:
            pg.execute("SET maintenance_work_mem = '1GB'")
            while True:
                with lock:
                    if not work:
                        return
                    table, statements = work.pop(0)
                started = time.monotonic()
                for sql in statements:
                    pg.execute(sql)
                with lock:
                    timings[table] = time.monotonic() - started

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def main() -> None:
    sqlite_path, name = Path(sys.argv[1]), sys.argv[2]
    if not sqlite_path.exists():
        raise SystemExit(f"{sqlite_path} does not exist")
    began = time.monotonic()
    pg_cluster.start("load")
    pg_cluster.create_database(name)
    url = pg_cluster.database_url(name)
    os.environ["DATABASE_URL"] = url
    import django

    django.setup()
    from django.apps import apps
    from django.core.management import call_command
    from django.core.management.color import no_style
    from django.db import connection

    step = time.monotonic()
    call_command("migrate", verbosity=0)
    print(f"migrate: {time.monotonic() - step:.1f} s", flush=True)

    lite = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True)
    lite.execute("PRAGMA cache_size=-262144")
    lite.execute("PRAGMA mmap_size=17179869184")
    lite_tables = {r[0] for r in lite.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    connection.ensure_connection()
    pg = connection.connection
    with pg.cursor() as cursor:
        pg_tables = set(connection.introspection.table_names(cursor)) - SKIP
        constraints, indexes = schema_objects(cursor)
    missing = sorted(pg_tables - lite_tables)
    if missing:
        raise SystemExit(f"tables missing in {sqlite_path.name} (migrate it first): {', '.join(missing)}")
    tables = sorted(pg_tables)

    step = time.monotonic()
    with pg.cursor() as cursor:
        for table, con, kind, _definition in constraints:
            if kind == "f":
                cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{con}"')
        for _table, index, _definition in indexes:
            cursor.execute(f'DROP INDEX "{index}"')
        for table, con, kind, _definition in constraints:
            if kind in "pu":
                cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{con}"')
    print(f"dropped {len(constraints)} constraints and {len(indexes)} indexes: {time.monotonic() - step:.1f} s")

    copied, rows_total = {}, 0
    copy_started = time.monotonic()
    sizes = {}
    for table in tables:
        step = time.monotonic()
        n = copy_table(pg, lite, table)
        copied[table] = (n, time.monotonic() - step)
        sizes[table] = n
        rows_total += n
        if n >= 10_000:
            print(f"  COPY {table}: {n:,} rows in {copied[table][1]:.1f} s", flush=True)
    copy_seconds = time.monotonic() - copy_started
    print(f"COPY: {rows_total:,} rows of {len(tables)} tables in {copy_seconds:.1f} s", flush=True)

    # Keys first, then unique constraints, then the other indexes; each table's in one worker.
    work: dict[str, list[str]] = {}
    for kind in "pu":
        for table, con, k, definition in constraints:
            if k == kind:
                work.setdefault(table, []).append(f'ALTER TABLE {table} ADD CONSTRAINT "{con}" {definition}')
    for table, _index, definition in indexes:
        work.setdefault(f'"{table}"' if table != table.lower() else table, []).append(definition)
    ordered = sorted(work.items(), key=lambda item: -sizes.get(item[0].strip('"'), 0))
    step = time.monotonic()
    index_timings: dict[str, float] = {}
    rebuild(url, ordered, index_timings)
    index_seconds = time.monotonic() - step
    for table, seconds in sorted(index_timings.items(), key=lambda kv: -kv[1])[:8]:
        print(f"  keys and indexes of {table}: {seconds:.1f} s")
    print(f"keys, unique constraints and {len(indexes)} indexes: {index_seconds:.1f} s", flush=True)

    step = time.monotonic()
    with pg.cursor() as cursor:
        for table, con, kind, definition in constraints:
            if kind == "f":
                cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{con}" {definition}')
    fk_seconds = time.monotonic() - step
    print(f"foreign keys (validated): {fk_seconds:.1f} s", flush=True)

    step = time.monotonic()
    statements = connection.ops.sequence_reset_sql(no_style(), apps.get_models(include_auto_created=True))
    with pg.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
        cursor.execute("VACUUM (ANALYZE)")
    vacuum_seconds = time.monotonic() - step
    print(f"sequences ({len(statements)}) and VACUUM ANALYZE: {vacuum_seconds:.1f} s", flush=True)
    total = time.monotonic() - began
    print(f"total: {total:.1f} s", flush=True)
    lite.close()
    summary = {
        "database": name,
        "rows": rows_total,
        "customers": copied.get("customers_customer", (0, 0))[0],
        "copy_seconds": round(copy_seconds, 1),
        "index_seconds": round(index_seconds, 1),
        "fk_seconds": round(fk_seconds, 1),
        "vacuum_seconds": round(vacuum_seconds, 1),
        "total_seconds": round(total, 1),
        "tables": {t: [n, round(s, 1)] for t, (n, s) in copied.items() if n},
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
