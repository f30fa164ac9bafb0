"""The demo's after-sales service: categories, policies in working time, units from booked orders,
and fifteen tickets in varied states — some breached, some paused — owned by service staff."""

from io import StringIO

import pytest
from django.core.management import call_command

from kehu.support.models import PAUSED_STATES, InstalledUnit, SlaPolicy, Ticket, TicketCategory


@pytest.mark.django_db
def test_the_demo_has_service_data_in_every_state():
    call_command("demo_data", customers=30, seed=7, stdout=StringIO())
    assert sorted(TicketCategory.objects.values_list("name", flat=True)) == sorted(
        ["安装调试", "维修", "咨询", "投诉转办"]
    )
    defaults = dict(SlaPolicy.objects.filter(category=None).values_list("priority", "resolution_minutes"))
    assert defaults == {"urgent": 240, "high": 480, "normal": 960, "low": 2400}
    strict = SlaPolicy.objects.get(category__name="维修", priority="urgent")
    assert (strict.first_response_minutes, strict.resolution_minutes) == (15, 120)
    assert InstalledUnit.objects.filter(order_line__isnull=False).exists()
    assert InstalledUnit.objects.filter(order_line__isnull=True, serial_number="OLD-2023-0815").count() == 1
    tickets = Ticket.objects.all()
    assert tickets.count() == 15
    assert set(tickets.values_list("owner__username", flat=True)) == {"service1", "service2"}
    states = set(tickets.values_list("state", flat=True))
    assert {"new", "in_progress", "resolved", "closed", "cancelled"} <= states and states & PAUSED_STATES
    assert tickets.filter(resolution_breached=True).exists()
    assert tickets.filter(state__in=PAUSED_STATES, resolution_due_at__isnull=True).count() == 3
