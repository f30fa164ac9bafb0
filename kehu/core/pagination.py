"""One pagination shape for every list, in pages and in the API.

A page is `items` (at most `limit` rows from `offset`), `count` (exact up to COUNT_CAP, then capped
with `count_is_capped`, so nobody counts a million rows to print "10,000+") and `has_next`. The API
takes `limit` and `offset` query parameters with the same bounds everywhere; a list that reaches
further than MAX_OFFSET is narrowed with filters (or walked with the list's own keyset cursor).
"""

from dataclasses import dataclass
from typing import Annotated

from annotated_types import Interval
from django.db import connection
from django.db.models import QuerySet

COUNT_CAP = 10_000
MAX_LIMIT = 200
MAX_OFFSET = 100_000

# The API's bounds, as plain constraints that pydantic reads: the pages import this module without
# loading pydantic.
Limit = Annotated[int, Interval(ge=1, le=MAX_LIMIT)]
Offset = Annotated[int, Interval(ge=0, le=MAX_OFFSET)]


@dataclass
class PageOf:
    rows: list
    count: int
    count_is_capped: bool
    has_next: bool

    def as_dict(self) -> dict:
        return {
            "items": self.rows,
            "count": self.count,
            "count_is_capped": self.count_is_capped,
            "has_next": self.has_next,
        }


def capped_count(qs: QuerySet, cap: int = COUNT_CAP) -> tuple[int, bool]:
    """Exact up to `cap`; beyond it the list says "10,000+" instead of counting a million rows."""
    n = qs.order_by().values("pk")[: cap + 1].count()
    return min(n, cap), n > cap


def slice_page(qs, offset: int, limit: int) -> tuple[list, bool]:
    """The rows of one page and whether another follows (one row more is read, never counted)."""
    rows = list(qs[offset : offset + limit + 1])
    return rows[:limit], len(rows) > limit


def page_of(qs: QuerySet, *, offset: int, limit: int, cap: int = COUNT_CAP) -> PageOf:
    rows, has_next = slice_page(qs, offset, limit)
    return PageOf(rows, *capped_count(qs, cap), has_next)


# SQLite refuses a compound statement of more than 500 parts (SQLITE_MAX_COMPOUND_SELECT).
PARTS_PER_STATEMENT = 400


def top_ids(parts: list[QuerySet], order: tuple[str, ...], *, offset: int, top: int) -> list[int]:
    """Rows offset … top-1 of the UNION ALL of each part's first `top` rows in `order` (each part
    walks its own index and stops), where one ORDER BY over everything the parts cover would sort
    all of it. Django cannot slice the parts of a union on SQLite, so the statement is put together
    from each part's own SQL and parameters; many parts go in several statements, merged here."""
    names = [name.lstrip("-") for name in order]
    columns = ["id", *(name for name in names if name != "id")]
    quote = connection.ops.quote_name
    by = ", ".join(f"{quote(n.lstrip('-'))} {'DESC' if n.startswith('-') else 'ASC'}" for n in order)
    chunked = len(parts) > PARTS_PER_STATEMENT
    found = []
    for first in range(0, len(parts), PARTS_PER_STATEMENT):
        sqls, params = [], []
        for i, part in enumerate(parts[first : first + PARTS_PER_STATEMENT]):
            sql, part_params = part.order_by(*order).values_list(*columns)[:top].query.sql_with_params()
            sqls.append(f"SELECT * FROM ({sql}) {quote(f'part{i}')}")
            params.extend(part_params)
        # One statement answers the ids alone (the planner then sorts only them); several answer
        # their sort values too, for the merge below.
        fields = ", ".join(quote(c) for c in (columns if chunked else ["id"]))
        statement = f"SELECT {fields} FROM ({' UNION ALL '.join(sqls)}) {quote('page')} ORDER BY {by} LIMIT %s"
        with connection.cursor() as cursor:
            cursor.execute(statement, [*params, top])
            found.extend(cursor.fetchall())
    if chunked:
        for position in reversed(range(len(order))):  # stable sorts, last key first
            column = columns.index(names[position])
            found.sort(key=lambda row: row[column], reverse=order[position].startswith("-"))
    return [row[0] for row in found[offset:top]]
