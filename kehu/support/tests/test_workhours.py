"""Working time for service SLAs: the lunch break, a weekend, a holiday, a make-up working day
(调休), moments outside the service hours (default 08:30–12:00 and 13:00–17:30)."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from kehu.collection.models import CalendarDay
from kehu.support.models import ServiceSettings
from kehu.support.workhours import ServiceHours, WorkCalendar

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def at(day: int, month: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SH)


@pytest.fixture
def calendar():
    # 1–2 October (Thu, Fri) are holidays; Saturday 10 October is a make-up working day.
    CalendarDay.objects.create(day="2026-10-01", is_working_day=False, name="国庆节")
    CalendarDay.objects.create(day="2026-10-02", is_working_day=False, name="国庆节")
    CalendarDay.objects.create(day="2026-10-10", is_working_day=True, name="国庆调休")
    return WorkCalendar(ServiceHours.from_settings(ServiceSettings.load()), tz=SH)


def test_the_lunch_break_does_not_count(calendar):
    assert calendar.seconds_between(at(28, 9, 11), at(28, 9, 14)) == 2 * 3600
    assert calendar.add(at(28, 9, 11, 30), 60 * 60) == at(28, 9, 13, 30)
    assert calendar.add(at(28, 9, 12, 15), 10 * 60) == at(28, 9, 13, 10)  # asked in the break


def test_a_weekend_does_not_count(calendar):
    assert calendar.add(at(25, 9, 16, 30), 120 * 60) == at(28, 9, 9, 30)  # Fri 16:30 → Mon 09:30
    assert calendar.seconds_between(at(25, 9, 17), at(28, 9, 9)) == 60 * 60
    assert calendar.add(at(26, 9, 10), 10 * 60) == at(28, 9, 8, 40)  # asked on Saturday


def test_a_holiday_does_not_count(calendar):
    # Wed 17:00 + 1 h: half an hour on Wednesday, the holidays and the weekend skipped, Monday 09:00.
    assert calendar.add(at(30, 9, 17), 60 * 60) == at(5, 10, 9)
    assert calendar.seconds_between(at(1, 10, 9), at(2, 10, 17)) == 0


def test_a_make_up_working_day_counts(calendar):
    assert calendar.add(at(9, 10, 17), 60 * 60) == at(10, 10, 9)  # Fri 17:00 → make-up Saturday 09:00
    assert calendar.seconds_between(at(10, 10, 0), at(11, 10, 23)) == 8 * 3600  # Saturday only


def test_before_and_after_the_service_hours(calendar):
    assert calendar.add(at(28, 9, 6), 30 * 60) == at(28, 9, 9)
    assert calendar.add(at(28, 9, 20), 30 * 60) == at(29, 9, 9)
    assert calendar.seconds_between(at(28, 9, 0), at(29, 9, 0)) == 8 * 3600
    assert calendar.add(at(28, 9, 20), 0) == at(28, 9, 20)


def test_the_service_hours_come_from_the_settings():
    settings = ServiceSettings.load()
    settings.day_starts, settings.lunch_starts, settings.lunch_ends, settings.day_ends = (
        time(9),
        time(12),
        time(13, 30),
        time(18),
    )
    settings.save()
    calendar = WorkCalendar.load()
    assert calendar.seconds_between(at(28, 9, 0), at(29, 9, 0)) == (3 + 4.5) * 3600
    assert calendar.add(at(28, 9, 11), 90 * 60) == at(28, 9, 14)


def test_reads_the_calendar_once_per_year(calendar, django_assert_num_queries):
    fresh = WorkCalendar(calendar.hours, tz=SH)
    with django_assert_num_queries(1):
        fresh.add(at(25, 9, 16), 40 * 3600)  # September into October: one year, one query


def test_long_spans_count_whole_days_as_the_day_by_day_sum_does(calendar):
    """seconds_between takes whole days from a running count; it must agree with adding up every
    working interval, across the holidays, the make-up day and year ends, whichever span is asked first."""
    import random

    rnd = random.Random(5)
    base = datetime(2026, 9, 1, tzinfo=SH)
    spans = []
    for _ in range(300):
        start = base + timedelta(minutes=rnd.randrange(0, 200 * 24 * 60))
        spans.append((start, start + timedelta(minutes=rnd.randrange(0, 60 * 24 * 60))))
    for start, end in spans:
        slow = sum((high - low).total_seconds() for low, high in calendar.intervals(start, end))
        assert calendar.seconds_between(start, end) == slow, (start, end)
    # Wed 17:00–17:30, the holidays 1–2 Oct and the weekend, Mon–Thu whole, Fri 08:30–09:00.
    assert calendar.seconds_between(at(30, 9, 17), at(9, 10, 9)) == 4 * 8 * 3600 + 3600
