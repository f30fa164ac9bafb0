"""What every API router shares: safe string and id types, the page and error shapes."""

from datetime import date, datetime
from typing import Annotated

from ninja import Schema
from pydantic import AfterValidator, Field, StringConstraints

MAX_ID = 2**53


def _no_nul(value: str) -> str:
    # PostgreSQL cannot store NUL characters in text; refuse them up front.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def Text(max_length: int):  # noqa: N802 - reads like a type in schemas
    return Annotated[str, StringConstraints(max_length=max_length), AfterValidator(_no_nul)]


Id = Annotated[int, Field(ge=1, le=MAX_ID)]


class Page(Schema):
    count: int
    count_is_capped: bool = False


class Message(Schema):
    detail: str


class FieldErrors(Schema):
    detail: str
    errors: dict[str, list[str]] = {}


def _sane_year(value):
    # Far-away years overflow when converted between time zones; no CRM date lies there.
    if not 1900 <= value.year <= 2999:
        raise ValueError("must lie between the years 1900 and 2999")
    return value


Moment = Annotated[datetime, AfterValidator(_sane_year)]
Day = Annotated[date, AfterValidator(_sane_year)]
