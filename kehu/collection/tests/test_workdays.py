"""The 2-working-day rule on a controlled clock: weekends and holidays are skipped, make-up days count."""

from datetime import date, datetime

import pytest
from django.utils import timezone

from kehu.collection.models import CalendarDay, InfoFormStatus
from kehu.collection.services import infoform_transition
from kehu.collection.workdays import add_working_days, working_days_between

pytestmark = pytest.mark.django_db

FRI = date(2026, 11, 20)  # a Friday


def test_two_working_days_after_a_friday_is_the_tuesday():
    assert add_working_days(FRI, 2) == date(2026, 11, 24)


def test_a_holiday_on_monday_moves_the_deadline_to_wednesday():
    CalendarDay.objects.create(day=date(2026, 11, 23), is_working_day=False, name="假日")
    assert add_working_days(FRI, 2) == date(2026, 11, 25)
    assert working_days_between(FRI, date(2026, 11, 25)) == 2


def test_a_make_up_saturday_counts_as_a_working_day():
    CalendarDay.objects.create(day=date(2026, 11, 21), is_working_day=True, name="调休")
    assert add_working_days(FRI, 2) == date(2026, 11, 23)


def _at(day):
    return timezone.make_aware(datetime(day.year, day.month, day.day, 10))


@pytest.mark.parametrize(
    ("filed_on", "late"),
    [
        (date(2026, 11, 24), False),  # Tuesday: the second working day
        (date(2026, 11, 25), True),  # Wednesday: too late
    ],
)
def test_filing_is_late_after_two_working_days_across_a_weekend(team, info_of, clock, filed_on, late):
    clock(_at(FRI))
    form = info_of(team.rep1, draft=True, collected_on=FRI)
    assert form.filing_deadline == date(2026, 11, 24)
    clock(_at(filed_on))
    form = infoform_transition(form=form, actor=team.rep1, to=InfoFormStatus.FILED)
    assert form.filed_late is late


def test_filing_on_the_wednesday_is_in_time_when_monday_is_a_holiday(team, info_of, clock):
    CalendarDay.objects.create(day=date(2026, 11, 23), is_working_day=False, name="假日")
    clock(_at(FRI))
    form = info_of(team.rep1, draft=True, collected_on=FRI)
    clock(_at(date(2026, 11, 25)))
    form = infoform_transition(form=form, actor=team.rep1, to=InfoFormStatus.FILED)
    assert (form.filing_deadline, form.filed_late) == (date(2026, 11, 25), False)
    # The manager's review is due the next working day.
    assert form.due_on == date(2026, 11, 26)
