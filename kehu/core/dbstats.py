"""Planner statistics. SQLite keeps none until ANALYZE runs, and a migration that rebuilds a table
drops that table's; with statistics for some tables and not others the planner can pick a plan
that reads a million rows for a 25-row page. So: after every migrate, and daily."""

from django.db import connection


def refresh_statistics(using_connection=None) -> list[str]:
    """ANALYZE each table on its own (short write transactions); returns the tables analysed."""
    conn = using_connection or connection
    with conn.cursor() as cursor:
        tables = conn.introspection.table_names(cursor)
        if conn.vendor == "sqlite":
            # Full statistics: a sampling limit underestimates how many rows one owner holds.
            cursor.execute("PRAGMA analysis_limit = 0")
            tables = [t for t in tables if not t.startswith("sqlite_")]
        for table in tables:
            cursor.execute(f"ANALYZE {conn.ops.quote_name(table)}")
    return tables
