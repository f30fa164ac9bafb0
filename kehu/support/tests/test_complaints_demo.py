"""The demo's complaints: complaint1 (a complaint specialist), 25 complaints over the last months in
every state, overdue open steps told, and the report's figures over them."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from kehu.demo import complaints_demo
from kehu.support import complaint_report as report
from kehu.support.models_complaints import Complaint, ComplaintState, ComplaintStep
from kehu.users.models import User
from kehu.users.roles import Role


@pytest.mark.django_db
def test_the_demo_has_complaints_in_every_state():
    call_command("demo_data", customers=20, seed=7, stdout=StringIO())
    specialist = User.objects.get(username="complaint1")
    assert specialist.role == Role.COMPLAINT_SPECIALIST and specialist.check_password("kehu-demo")
    complaints = Complaint.objects.all()
    assert complaints.count() == 25
    assert set(complaints.values_list("state", flat=True)) == set(ComplaintState.values)
    assert complaints.filter(state=ComplaintState.CLOSED).count() == 6
    assert ComplaintStep.objects.filter(is_late=True).exists()
    assert ComplaintStep.objects.filter(overdue_told_at__isnull=False).exists()
    assert not complaints.filter(registered_on__gt=timezone.localdate()).exists()
    stats = report.complaint_stats(
        first=timezone.localdate().replace(year=timezone.localdate().year - 1), last=timezone.localdate()
    )
    assert stats.total == 25 and sum(r.count for r in stats.by_cause) == 25
    assert complaints_demo.seed() == 0  # once only
