"""What every API router shares: safe string and id types, the page and error shapes."""

from datetime import date, datetime
from typing import Annotated

from django.utils.translation import gettext as _
from ninja import Schema
from ninja.params.models import ParamModel
from pydantic import AfterValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from kehu.core.params import MAX_ID
from kehu.core.text import TEXT_MAX_LENGTH, text_problem

# Each model builds its validator and serializer on first use, not when its module is imported: a
# worker holds those of the operations it serves (about 12 MiB less after the documentation page and three
# lists; the schema document, made once, still builds them all). Every router imports this module
# before defining its schemas; django-ninja's own models of each operation's answers derive from
# Schema, those of its parameters from the kinds of ParamModel (path, query, body, …).
for _base in (Schema, *ParamModel.__subclasses__()):
    _base.model_config["defer_build"] = True

# kehu.core.text's rule as a pattern of the schema (ECMA-262 syntax), less the lone surrogates (no
# UTF-8 request can carry one, and pattern engines refuse them in a character class).
_REFUSED = r"\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\ufffe\uffff"
MULTI_LINE = f"^[^{_REFUSED}]*$"
ONE_LINE = f"^[^\\t\\n\\r{_REFUSED}]*$"
# What Python's str.strip() removes (Django's form fields strip their input): a text of only these is
# blank. Written out, because a pattern's \s is not the same set in every engine.
_SPACES = "".join(f"\\u{code:04x}" for code in range(0x10000) if chr(code).isspace())
# The same characters, and at least one that is not a space.
FILLED_ONE_LINE = f"^[^\\t\\n\\r{_REFUSED}]*[^{_SPACES}{_REFUSED}][^\\t\\n\\r{_REFUSED}]*$"
FILLED_MULTI_LINE = f"^[^{_REFUSED}]*[^{_SPACES}{_REFUSED}][^{_REFUSED}]*$"


def _text_rule(max_length: int, multiline: bool, blank: bool):
    def check(value: str) -> str:
        # Same rule and message as the services' (kehu.core.text), in the caller's language; a 422
        # names the field. PostgreSQL cannot store NUL and refuses over-long strings: refused here first.
        problem = text_problem(value, multiline=multiline, max_length=max_length)
        if not problem and not blank and not value.strip():
            problem = _("This field cannot be blank.")
        if problem:
            raise PydanticCustomError("text", "{problem}", {"problem": problem})
        return value

    return check


def Text(max_length: int, *, multiline: bool = False, blank: bool = True):  # noqa: N802 - reads like a type
    """One line of text (no control character, no line break) of at most `max_length` characters;
    with `multiline`, tabs and line breaks are allowed; without `blank`, something besides spaces (a
    name, a subject). The schema states the length and the characters."""
    if blank:
        pattern = MULTI_LINE if multiline else ONE_LINE
    else:
        pattern = FILLED_MULTI_LINE if multiline else FILLED_ONE_LINE
    return Annotated[
        str,
        AfterValidator(_text_rule(max_length, multiline, blank)),
        Field(json_schema_extra={"maxLength": max_length, "pattern": pattern}),
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


class ValidationIssue(Schema):
    """One finding of a 422 (pydantic's): where (`loc`, e.g. ["body", "payload", "name"]), its kind, a message."""

    model_config = ConfigDict(extra="allow")
    type: str
    loc: list[str | int]
    msg: str


class Error(Schema):
    """The one error body of the API (every 4xx, see kehu.api.urls): a message, and with a 400 or 409 the
    refused fields (field → messages), with a 422 the schema's findings."""

    detail: str
    errors: dict[str, list[str]] | list[ValidationIssue] = {}


# The names the routers declare their error answers with: all the one shared body.
Message = FieldErrors = Error


def Keep(**field):  # noqa: N802 - reads like a field in schemas
    """A field of a change (PATCH) that may be left out but not cleared (a name, a state): typed without
    `| None`, so the schema does not call it nullable and a null is a 422 naming it; left out, it is not
    set (`exclude_unset`) and the value stays. `field`: Field's other arguments."""
    return Field(None, **field)


def _sane_year(value):
    # Far-away years overflow when converted between time zones; no CRM date lies there.
    if not 1900 <= value.year <= 2999:
        raise ValueError("must lie between the years 1900 and 2999")
    return value


# The schema states the years as a pattern of the ISO text (a format cannot bound them).
SANE_YEAR = "^(19[0-9]{2}|2[0-9]{3})-"
Moment = Annotated[datetime, AfterValidator(_sane_year), Field(json_schema_extra={"pattern": SANE_YEAR})]
Day = Annotated[date, AfterValidator(_sane_year), Field(json_schema_extra={"pattern": SANE_YEAR})]
