from io import StringIO

import pytest
from django.core.management import call_command

from kehu.collection.models import InfoForm, InfoFormStatus, RegionRoute
from kehu.collection.selectors import overdue_for
from kehu.customers.models import Customer
from kehu.users.models import User


@pytest.mark.django_db
def test_demo_has_forms_in_every_state_a_routing_table_and_map_gaps():
    call_command("demo_data", customers=80, seed=3, stdout=StringIO())
    assert set(InfoForm.objects.values_list("status", flat=True)) == set(InfoFormStatus.values)
    assert RegionRoute.objects.filter(region="广东", rep__username="rep3").exists()
    users = {u.username: u for u in User.objects.all()}
    assert overdue_for(users["rep1"]).filing and overdue_for(users["manager1"]).approval
    assert overdue_for(users["marketing1"]).archiving
    without = Customer.objects.filter(latitude__isnull=True).count()
    assert 0 < without < Customer.objects.count() * 0.2
