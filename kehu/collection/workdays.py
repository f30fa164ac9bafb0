"""Working days for the collection deadlines (DESIGN rule 5: "Working days for SLAs come from a
calendar model"). Monday–Friday are working days, except the holidays recorded in `CalendarDay`;
a weekend day recorded there as a working day (调休, make-up day) counts as one."""

from datetime import date, timedelta

from kehu.collection.models import CalendarDay

# Long enough for the Spring Festival and National Day weeks with their make-up days.
_LOOKAHEAD = 60


def _exceptions(start: date, end: date) -> dict[date, bool]:
    return dict(CalendarDay.objects.filter(day__gte=start, day__lte=end).values_list("day", "is_working_day"))


def is_working_day(day: date, exceptions: dict[date, bool] | None = None) -> bool:
    if exceptions is None:
        exceptions = _exceptions(day, day)
    if day in exceptions:
        return exceptions[day]
    return day.weekday() < 5


def add_working_days(start: date, n: int) -> date:
    """The n-th working day after `start` (one query). `add_working_days(Friday, 2)` is Tuesday."""
    if n <= 0:
        return start
    horizon = _LOOKAHEAD + 2 * n
    exceptions = _exceptions(start, start + timedelta(days=horizon))
    day, left = start, n
    while left:
        day += timedelta(days=1)
        if is_working_day(day, exceptions):
            left -= 1
    return day


def working_days_between(start: date, end: date) -> int:
    """How many working days lie after `start` up to and including `end` (0 if end <= start)."""
    if end <= start:
        return 0
    exceptions = _exceptions(start, end)
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        count += is_working_day(day, exceptions)
    return count
