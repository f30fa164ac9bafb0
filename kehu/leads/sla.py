"""The first-response clock: working hours on working days (the collection calendar decides
holidays and make-up days), in the company's time zone."""

from datetime import datetime, timedelta

from django.utils import timezone

from kehu.collection.workdays import _exceptions, is_working_day
from kehu.leads.models import LeadSettings, SlaRule


def add_working_hours(start: datetime, hours: float, *, settings: LeadSettings | None = None) -> datetime:
    """The moment `hours` working hours after `start` (one calendar query)."""
    settings = settings or LeadSettings.current()
    local = timezone.localtime(start)
    tz = local.tzinfo
    exceptions = _exceptions(local.date(), local.date() + timedelta(days=60 + int(hours)))
    left = timedelta(hours=hours)
    day = local.date()
    cursor = local
    for _ in range(400):
        if is_working_day(day, exceptions):
            opens = datetime.combine(day, settings.work_start, tzinfo=tz)
            closes = datetime.combine(day, settings.work_end, tzinfo=tz)
            begin = max(cursor, opens)
            if begin < closes:
                available = closes - begin
                if left <= available:
                    return begin + left
                left -= available
        day += timedelta(days=1)
        cursor = datetime.combine(day, settings.work_start, tzinfo=tz)
    return cursor


def sla_due(source: str, start: datetime) -> datetime:
    rule = SlaRule.objects.filter(source=source).first()
    settings = LeadSettings.current()
    hours = rule.hours if rule else settings.default_sla_hours
    return add_working_hours(start, hours, settings=settings)
