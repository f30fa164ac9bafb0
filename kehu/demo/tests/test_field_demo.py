"""The demo's dispatch data: three engineers with profiles, first-time-fix rates that differ, the
one on leave ranked last, and engineer1's visits for today; a second load adds nothing."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone, translation

from kehu.demo import field_demo
from kehu.support.dispatch import first_time_fixes, rank_engineers
from kehu.support.models import EngineerProfile, ServiceVisit, Ticket, VisitState
from kehu.users.models import User


@pytest.mark.django_db
def test_the_demo_has_engineers_with_different_records_and_todays_visits():
    call_command("demo_data", customers=30, seed=7, stdout=StringIO())
    engineers = {u.username: u for u in User.objects.filter(username__startswith="engineer")}
    assert set(engineers) == {"engineer1", "engineer2", "engineer3"}
    assert EngineerProfile.objects.count() == 3
    assert engineers["engineer1"].check_password("kehu-demo")
    now = timezone.now()
    fixes = first_time_fixes([u.pk for u in engineers.values()], now)
    assert fixes[engineers["engineer1"].pk] == (1, 3)
    assert fixes[engineers["engineer2"].pk] == (1, 1)
    assert fixes[engineers["engineer3"].pk] == (0, 1)
    planned = ServiceVisit.objects.filter(engineer=engineers["engineer1"], state=VisitState.PLANNED)
    days = sorted(timezone.localdate(v.planned_for) - timezone.localdate(now) for v in planned)
    assert [d.days for d in days] == [0, 0, 1]
    ticket = Ticket.objects.get(subject="导轨润滑不足报警")
    with translation.override("en"):
        ranked = rank_engineers(ticket, now=now)
    assert [c.engineer.username for c in ranked][-1] == "engineer3" and ranked[-1].excluded
    assert field_demo.seed() == {"engineers": 0, "visits": 0}
