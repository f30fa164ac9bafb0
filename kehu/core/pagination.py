"""One pagination shape for every list, in pages and in the API.

A page is `items` (at most `limit` rows from `offset`), `count` (exact up to COUNT_CAP, then capped
with `count_is_capped`, so nobody counts a million rows to print "10,000+") and `has_next`. The API
takes `limit` and `offset` query parameters with the same bounds everywhere; a list that reaches
further than MAX_OFFSET is narrowed with filters (or walked with the list's own keyset cursor).
"""

from dataclasses import dataclass
from typing import Annotated

from annotated_types import Interval
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
