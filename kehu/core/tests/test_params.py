"""kehu.core.params: values from the address, parsed and bounded, with a warning when one is ignored."""

from datetime import UTC, date, datetime

import pytest
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.test import RequestFactory
from django.utils import timezone

from kehu.core import params


def request_for(query: str = "", htmx: bool = False):
    request = RequestFactory().get(f"/x/?{query}")
    request.session = {}
    request._messages = FallbackStorage(request)
    request.htmx = htmx
    return request


def warnings_of(request) -> list[str]:
    return [str(m) for m in get_messages(request)]


@pytest.mark.parametrize(
    ("query", "expected", "warned"),
    [
        ("", 1, False),
        ("page=", 1, False),
        ("page=3", 3, False),
        ("page=%203%20", 3, False),  # spaces around a number are forgiven
        ("page=0", 1, True),
        ("page=-1", 1, True),
        ("page=x", 1, True),
        ("page=1.5", 1, True),
        ("page=%D9%A1%D9%A2", 1, True),  # Arabic-Indic digits, which int() would accept
        ("page=1_0", 1, True),
        ("page=400", 400, False),
        ("page=401", 400, True),
        (f"page={10**20}", 400, True),
        ("page=" + "9" * 5000, 400, True),
    ],
)
def test_page_param(query, expected, warned):
    request = request_for(query)
    assert params.page_param(request, last=400) == expected
    assert bool(warnings_of(request)) is warned


def test_a_warning_names_the_value_shortened():
    request = request_for("page=" + "x" * 500)
    params.page_param(request)
    (message,) = warnings_of(request)
    assert message == "There is no page “" + "x" * 39 + "…”; this is page 1."


def test_an_htmx_fragment_gets_no_warning_that_would_surface_on_the_next_page():
    request = request_for("page=0", htmx=True)
    assert params.page_param(request) == 1
    assert warnings_of(request) == []


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-03-09", date(2026, 3, 9)),
        ("1900-01-01", date(1900, 1, 1)),
        ("2999-12-31", date(2999, 12, 31)),
        ("9999-12-31", None),
        ("0001-01-01", None),
        ("1899-12-31", None),
        ("3000-01-01", None),
        ("2026-02-30", None),
        ("2026-13-01", None),
        ("20260309", None),  # fromisoformat would take it; links always write the dashes
        ("2026-W10-1", None),
        ("abc", None),
        ("２０２６-03-09", None),
    ],
)
def test_parse_date(raw, expected):
    assert params.parse_date(raw) == expected


def test_date_param_falls_back_to_the_default_with_a_warning():
    today = date(2026, 3, 9)
    request = request_for("week=9999-12-31")
    assert params.date_param(request, "week", today) == today
    assert warnings_of(request) == ["“9999-12-31” is not a date Kehu can show; showing 2026-03-09 instead."]
    assert params.date_param(request_for("week="), "week", today) == today
    assert params.date_param(request_for("week=2026-01-05"), "week", today) == date(2026, 1, 5)
    request = request_for("from=abc")
    assert params.date_param(request, "from") is None
    assert warnings_of(request) == ["“abc” is not a date Kehu can show and is ignored."]


def test_parse_moment():
    assert params.parse_moment("2026-03-09T10:00:00+00:00") == datetime(2026, 3, 9, 10, tzinfo=UTC)
    naive = params.parse_moment("2026-03-09T10:00")
    assert naive is not None and timezone.is_aware(naive)
    assert params.parse_moment("2999-12-31T23:00-14:00") == datetime(3000, 1, 1, 13, tzinfo=UTC)
    for raw in ("0001-01-01T00:00", "9999-12-31T23:59:59", "1899-12-31T23:00", "x", "2026-03-09T25:00", ""):
        assert params.parse_moment(raw) is None, raw


@pytest.mark.parametrize(
    ("query", "expected", "warned"),
    [
        ("", 2026, False),
        ("year=2030", 2030, False),
        ("year=1999", 2026, True),
        ("year=2101", 2026, True),
        ("year=9999", 2026, True),
        ("year=twenty", 2026, True),
    ],
)
def test_year_param(query, expected, warned):
    request = request_for(query)
    assert params.year_param(request, default=2026, earliest=2000, latest=2100) == expected
    assert bool(warnings_of(request)) is warned


def test_year_param_defaults_to_this_year_within_1900_to_2999():
    assert params.year_param(request_for()) == timezone.localdate().year
    assert params.year_param(request_for("year=1900")) == 1900
    assert params.year_param(request_for("year=3000")) == timezone.localdate().year


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", 1), ("42", 42), (str(2**53), 2**53), (str(2**53 + 1), None), ("0", None), ("-3", None), ("x", None)],
)
def test_parse_id_and_id_param(raw, expected):
    assert params.parse_id(raw) == expected
    request = request_for(f"user={raw}")
    assert params.id_param(request, "user") == expected
    assert bool(warnings_of(request)) is (expected is None)


def test_int_param_bounds():
    assert params.int_param(request_for("n=-5"), "n", 0, minimum=-10, maximum=10) == -5
    assert params.int_param(request_for("n=11"), "n", 0, minimum=-10, maximum=10) == 0
    assert params.parse_int(None) is None
    assert params.parse_int("-") is None


def test_free_text_loses_control_characters_and_is_cut():
    assert params.clean_text(" 华星\x00机械\x1f\x7f ", 100) == "华星机械"
    assert params.clean_text("第一行\n第二行\t完", 100) == "第一行\n第二行\t完"
    assert params.clean_text("x" * 500, 300) == "x" * 300
    assert params.clean_text(None, 10) == ""
    assert params.text_param(request_for("q=%00%E5%8D%8E%E6%98%9F"), "q") == "华星"
