import pytest
from django.core.management import call_command

from kehu.leads.models import Lead, LeadStatus
from kehu.sales.models import ForecastRow, Opportunity, StageKind


@pytest.mark.django_db
def test_the_demo_has_deals_at_every_kind_of_stage_and_leads_in_each_state():
    call_command("demo_data", verbosity=0)
    kinds = set(Opportunity.objects.values_list("stage__kind", flat=True))
    assert kinds == {StageKind.OPEN, StageKind.WON, StageKind.LOST}
    assert set(Opportunity.objects.values_list("owner__username", flat=True)) == {"rep1", "rep2", "rep3"}
    statuses = set(Lead.objects.values_list("status", flat=True))
    assert statuses == {LeadStatus.NEW, LeadStatus.CONTACTED, LeadStatus.QUALIFIED, LeadStatus.DISQUALIFIED}
    assert Lead.objects.filter(owner__isnull=True).count() == 2
    assert ForecastRow.objects.exists()
