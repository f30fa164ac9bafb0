from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from kehu.activities.models import Activity
from kehu.activities.plausibility import distance_text


@pytest.mark.django_db
def test_the_demo_has_visits_to_check_in_today_this_week_and_next():
    call_command("demo_data", verbosity=0)
    today = timezone.localdate()
    planned = Activity.objects.filter(kind="visit", planned_for__isnull=False, is_done=False).select_related(
        "customer", "owner"
    )
    assert {a.owner.username for a in planned} == {"rep1", "rep2", "rep3"}
    for login in ("rep1", "rep2", "rep3"):
        mine = [a for a in planned if a.owner.username == login]
        days = {timezone.localdate(a.planned_for) for a in mine}
        assert today in days
        assert any(today + timedelta(days=7) <= d <= today + timedelta(days=13) for d in days)  # next week too
        # Some customers have coordinates; some only a city, placed by the offline table.
        assert any(a.customer.latitude is not None for a in mine)
        city_only = [a for a in mine if a.customer.latitude is None]
        assert city_only and all(a.customer.city for a in city_only)
        assert all(a.checked_in_at is None for a in mine)


@pytest.mark.django_db
def test_the_demo_has_check_ins_a_manager_would_review():
    call_command("demo_data", verbosity=0)
    checked = Activity.objects.filter(checked_in_at__isnull=False)
    warnings = {code for a in checked for code in a.check_in_warning_codes}
    assert warnings == {"far", "off_day", "no_position"}
    assert checked.filter(check_in_warnings="").exists()  # and ones in order
    assert all(distance_text(a) for a in checked if a.check_in_latitude is not None)
