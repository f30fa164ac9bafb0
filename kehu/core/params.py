"""Values a page reads from its address (the query string), parsed and bounded in one place.

The policy for pages: a bad value in the address never breaks a page. A value that is not a
number, a date or one of the choices, or that lies outside what Kehu can show (a year before 1900
or after 2999, page 0, an id beyond 2**53), is ignored; the page shows its default — page 1, this
week, this year — and says so in a warning at the top. An empty value means "not given" and is
ignored silently. Filter forms on list pages validate their own fields and show the errors next
to them; these helpers are for the values outside such forms (links, paging, the week shown).

The API refuses the same values instead: 422 from its schemas (`kehu.core.api.Id`, `Day`,
`Moment`), 400 from a service.
"""

import re
from datetime import date, datetime

from django.contrib import messages
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core.text import printable

MAX_ID = 2**53  # the largest id a page or the API accepts (JavaScript's safe integers)

EARLIEST = date(1900, 1, 1)  # the same bounds as kehu.core.models.validate_sane_year
LATEST = date(2999, 12, 31)
MAX_PAGE = 10_000
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# A value quoted back in a warning is cut to this length (the address may hold anything).
QUOTED = 40


def clean_text(raw, max_length: int) -> str:
    """Free text typed outside a form (a search, a short note): control characters removed — a
    database cannot store some, and no one types them — spaces trimmed, cut to `max_length`."""
    if not isinstance(raw, str):
        return ""
    return printable(raw).strip()[:max_length]


def text_param(request, name: str, max_length: int = 100) -> str:
    """Free text from the address, cleaned as `clean_text` does."""
    return clean_text(request.GET.get(name, ""), max_length)


def _raw(request, name: str) -> str:
    value = request.GET.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def _quote(raw: str) -> str:
    return raw if len(raw) <= QUOTED else raw[: QUOTED - 1] + "…"


def _warn(request, message: str) -> None:
    # An htmx fragment has no place for messages; they would surface on the next full page instead.
    if getattr(request, "htmx", False):
        return
    messages.warning(request, message)


def parse_int(raw) -> int | None:
    """An integer written in ASCII digits with an optional minus, at most 20 digits; else None.
    (int() would also take "١٢", "1_000" and " 12 ", and the database cannot hold 10**20.)"""
    if not isinstance(raw, str):
        return None
    body = raw[1:] if raw[:1] == "-" else raw
    if not body.isascii() or not body.isdigit() or len(body) > 20:
        return None
    return int(raw)


def int_param(request, name: str, default=None, *, minimum: int = 1, maximum: int = MAX_ID):
    """An integer from `minimum` to `maximum`, else `default` (with a warning if something was given)."""
    raw = _raw(request, name)
    if not raw:
        return default
    value = parse_int(raw)
    if value is None or not minimum <= value <= maximum:
        _warn(request, _("“%(value)s” in the address was not understood and is ignored.") % {"value": _quote(raw)})
        return default
    return value


def parse_id(raw) -> int | None:
    """The id of a record (1 … 2**53) written in ASCII digits, or None."""
    value = parse_int(raw.strip()) if isinstance(raw, str) else None
    return value if value is not None and 1 <= value <= MAX_ID else None


def id_param(request, name: str):
    """The id of a record (1 … 2**53), or None. Whether the record exists and may be seen is the
    selector's business (`…_get(user, pk)` answers 404)."""
    return int_param(request, name, None)


def page_param(request, name: str = "page", *, last: int = MAX_PAGE) -> int:
    """A page number from 1 to `last`; a bad one shows page 1, one beyond `last` shows `last`."""
    raw = _raw(request, name)
    if not raw:
        return 1
    value = parse_int(raw)
    if raw.isascii() and raw.isdigit() and (value is None or value > last):  # a number, only too large
        _warn(request, _("Only %(last)s pages can be shown; this is page %(last)s.") % {"last": last})
        return last
    if value is None or value < 1:
        _warn(request, _("There is no page “%(value)s”; this is page 1.") % {"value": _quote(raw)})
        return 1
    return value


def year_param(
    request, name: str = "year", default: int | None = None, *, earliest: int = EARLIEST.year, latest: int = LATEST.year
) -> int:
    """A year from `earliest` to `latest`, else `default` (this year when not given)."""
    if default is None:
        default = timezone.localdate().year
    raw = _raw(request, name)
    if not raw:
        return default
    value = parse_int(raw)
    if value is None or not earliest <= value <= latest:
        _warn(
            request,
            _("“%(value)s” is not a year Kehu can show (%(earliest)s–%(latest)s); this is %(year)s.")
            % {"value": _quote(raw), "earliest": earliest, "latest": latest, "year": default},
        )
        return default
    return value


def parse_date(raw: str) -> date | None:
    """An ISO date (2026-03-09) from 1900 to 2999, or None."""
    if not ISO_DATE.fullmatch(raw):
        return None
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        return None
    return value if EARLIEST <= value <= LATEST else None


def parse_moment(raw: str) -> datetime | None:
    """An ISO date and time from 1900 to 2999, in the current time zone when it names none; or None."""
    if not raw.isascii() or len(raw) > 40:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        return None
    if not EARLIEST.year <= value.year <= LATEST.year:  # far from the ends of datetime: no overflow
        return None
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def date_param(request, name: str, default: date | None = None) -> date | None:
    """An ISO date from 1900-01-01 to 2999-12-31, else `default`."""
    raw = _raw(request, name)
    if not raw:
        return default
    value = parse_date(raw)
    if value is None:
        if default is None:
            message = _("“%(value)s” is not a date Kehu can show and is ignored.") % {"value": _quote(raw)}
        else:
            message = _("“%(value)s” is not a date Kehu can show; showing %(date)s instead.") % {
                "value": _quote(raw),
                "date": default.isoformat(),
            }
        _warn(request, message)
        return default
    return value
