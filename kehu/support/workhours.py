"""Working time for service SLAs: the company's working days (Monday–Friday, except the holidays
and with the make-up days (调休) of the company calendar, `kehu.collection.models.CalendarDay`) and
the service hours of a working day (morning and afternoon, the lunch break between), in the
company's time zone.

`WorkCalendar.seconds_between(start, end)` is the working time inside [start, end);
`WorkCalendar.add(start, seconds)` is the moment that much working time after `start`. Calendar
exceptions are read one year at a time, on demand, so one calendar serves a scan of many tickets."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from kehu.collection.models import CalendarDay

# A deadline never lies further than this many days ahead (a month-long holiday calendar would need
# a policy of years to get there): stop instead of looping on a calendar without working days.
MAX_DAYS = 3 * 366


@dataclass(frozen=True)
class ServiceHours:
    periods: tuple[tuple[time, time], ...]

    @classmethod
    def from_settings(cls, settings) -> "ServiceHours":
        return cls(((settings.day_starts, settings.lunch_starts), (settings.lunch_ends, settings.day_ends)))


class WorkCalendar:
    def __init__(self, hours: ServiceHours, tz=None, exceptions: dict[date, bool] | None = None):
        self.hours = hours
        self.tz = tz or timezone.get_current_timezone()
        self._exceptions: dict[date, bool] = dict(exceptions or {})
        self._years: set[int] = set() if exceptions is None else {-1}  # -1: given, never read

    @classmethod
    def load(cls) -> "WorkCalendar":
        from kehu.support.models import ServiceSettings

        return cls(ServiceHours.from_settings(ServiceSettings.load()))

    def is_working_day(self, day: date) -> bool:
        if -1 not in self._years and day.year not in self._years:
            self._years.add(day.year)
            self._exceptions.update(CalendarDay.objects.filter(day__year=day.year).values_list("day", "is_working_day"))
        found = self._exceptions.get(day)
        return found if found is not None else day.weekday() < 5

    def _periods(self, day: date) -> Iterator[tuple[datetime, datetime]]:
        if self.is_working_day(day):
            for begin, end in self.hours.periods:
                yield (
                    datetime.combine(day, begin, tzinfo=self.tz),
                    datetime.combine(day, end, tzinfo=self.tz),
                )

    def _local_day(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    def intervals(self, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The working intervals inside [start, end)."""
        if end <= start:
            return
        day, last = self._local_day(start), self._local_day(end)
        while day <= last:
            for begin, finish in self._periods(day):
                low, high = max(begin, start), min(finish, end)
                if low < high:
                    yield low, high
            day += timedelta(days=1)

    def seconds_between(self, start: datetime, end: datetime) -> float:
        first, last = self._local_day(start), self._local_day(end)
        if end <= start or (last - first).days < 2:
            return sum((high - low).total_seconds() for low, high in self.intervals(start, end))
        # The whole days between the first and the last count a working day's length each: the scan
        # asks this of every open ticket's history, so whole days come from a running count.
        next_day, day_before_last = first + timedelta(days=1), last - timedelta(days=1)
        end_of_first = datetime.combine(next_day, time(0), tzinfo=self.tz)
        start_of_last = datetime.combine(last, time(0), tzinfo=self.tz)
        before_next = self._working_days_before(next_day)  # the earlier day first: it may move the epoch
        whole = self._working_days_before(last) - before_next
        return (
            sum((high - low).total_seconds() for low, high in self.intervals(start, end_of_first))
            + whole * self._day_length(day_before_last)
            + sum((high - low).total_seconds() for low, high in self.intervals(start_of_last, end))
        )

    def _day_length(self, day: date) -> float:
        return sum(
            (datetime.combine(day, end) - datetime.combine(day, begin)).total_seconds()
            for begin, end in self.hours.periods
        )

    def _working_days_before(self, day: date) -> int:
        """How many working days lie between an epoch and `day` (exclusive), extended as asked."""
        if (
            not hasattr(self, "_count_from") or day < self._count_from
        ):  # an earlier day than any asked before: count again from there
            self._count_from, self._counts = day - timedelta(days=31), [0]
        counts = self._counts
        while len(counts) <= (day - self._count_from).days:
            counted = self._count_from + timedelta(days=len(counts) - 1)
            counts.append(counts[-1] + self.is_working_day(counted))
        return counts[(day - self._count_from).days]

    def add(self, start: datetime, seconds: float) -> datetime:
        """The moment `seconds` of working time after `start` (`start` itself for none, moved to the
        next working moment only when there is time to count)."""
        if seconds <= 0:
            return start
        left = seconds
        day = self._local_day(start)
        for _offset in range(MAX_DAYS):
            for begin, finish in self._periods(day):
                low = max(begin, start)
                if low >= finish:
                    continue
                available = (finish - low).total_seconds()
                if available >= left:
                    return low + timedelta(seconds=left)
                left -= available
            day += timedelta(days=1)
        raise ValueError("no working time within three years: check the company calendar")
