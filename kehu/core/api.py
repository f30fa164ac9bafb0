"""What every API router shares: safe string and id types, the page and error shapes."""

from datetime import date, datetime
from typing import Annotated

from ninja import Schema
from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from kehu.core.params import MAX_ID
from kehu.core.text import TEXT_MAX_LENGTH, text_problem


def _text_rule(max_length: int, multiline: bool):
    def check(value: str) -> str:
        # Same rule and message as the services' (kehu.core.text), in the caller's language; a 422
        # names the field. PostgreSQL cannot store NUL and refuses over-long strings: refused here first.
        problem = text_problem(value, multiline=multiline, max_length=max_length)
        if problem:
            raise PydanticCustomError("text", "{problem}", {"problem": problem})
        return value

    return check


def Text(max_length: int, *, multiline: bool = False):  # noqa: N802 - reads like a type in schemas
    """One line of text (no control character, no line break) of at most `max_length` characters;
    with `multiline`, tabs and line breaks are allowed. The schema states the length."""
    return Annotated[
        str,
        AfterValidator(_text_rule(max_length, multiline)),
        Field(json_schema_extra={"maxLength": max_length}),
    ]


def LongText(max_length: int = TEXT_MAX_LENGTH):  # noqa: N802
    """Free text (notes, contents, reasons): several lines, at most 10,000 characters by default."""
    return Text(max_length, multiline=True)


Id = Annotated[int, Field(ge=1, le=MAX_ID)]


class Page(Schema):
    """The one list shape of the API (kehu.core.pagination): `items` plus these."""

    count: int
    count_is_capped: bool = False
    has_next: bool = False


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
