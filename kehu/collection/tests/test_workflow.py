"""The information form's lifecycle (CUS-3): each allowed move, each refused one, routing of new
customers by region, duplicates, timeline and audit."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kehu.collection.events import InfoFormEvent
from kehu.collection.models import InfoForm, InfoFormStatus, InfoFormStep
from kehu.collection.services import TRANSITIONS, infoform_transition, infoform_update, region_route_set
from kehu.core.models import AuditEntry
from kehu.customers.events import CustomerEvent
from kehu.customers.models import Customer, TimelineEntry

pytestmark = pytest.mark.django_db
S = InfoFormStatus


def _row(form):
    return InfoForm.objects.filter(pk=form.pk).values().get()


def test_every_status_has_its_allowed_moves_and_archived_is_final():
    assert set(TRANSITIONS) == set(S.values)
    assert TRANSITIONS[S.ARCHIVED] == frozenset()


def test_rep_files_a_draft(team, info_of):
    form = info_of(team.rep1, draft=True)
    form = infoform_transition(form=form, actor=team.rep1, to=S.FILED)
    assert form.status == S.FILED and form.filed_at is not None
    assert list(form.steps.values_list("from_status", "to_status")) == [("", S.DRAFT), (S.DRAFT, S.FILED)]
    assert AuditEntry.objects.filter(target_type="collection.infoform", target_id=form.pk).count() == 2


def test_manager_approves_a_new_customer_which_goes_to_the_collector_without_a_route(team, info_of):
    form = info_of(team.rep1, contact_name="周明")
    form = infoform_transition(form=form, actor=team.manager1, to=S.APPROVED)
    customer = form.customer
    assert form.status == S.APPROVED and customer.owner == team.rep1 and customer.region == "江苏"
    assert customer.contacts.get().name == "周明"
    kinds = set(TimelineEntry.objects.filter(customer=customer).values_list("kind", flat=True))
    assert {CustomerEvent.CUSTOMER_CREATED, InfoFormEvent.INFO_FORM_APPROVED} <= kinds


def test_new_customer_is_routed_to_the_rep_of_its_region(team, info_of):
    region_route_set(actor=team.admin, region="广东", rep=team.rep3)
    form = info_of(team.rep1, name="深圳海川照明有限公司", region="广东")
    form = infoform_transition(form=form, actor=team.manager1, to=S.APPROVED)
    assert form.customer.owner == team.rep3
    # manager1 may not assign to rep3 (another team): the routed rep is recorded as creator.
    assert form.customer.created_by == team.rep3


def test_routed_within_the_team_is_created_by_the_approver(team, info_of):
    region_route_set(actor=team.manager1, region="浙江", rep=team.rep2)
    form = infoform_transition(form=info_of(team.rep1, region="浙江"), actor=team.manager1, to=S.APPROVED)
    assert (form.customer.owner, form.customer.created_by) == (team.rep2, team.manager1)


def test_a_form_marketing_filed_goes_to_the_regions_rep_or_else_to_the_approver(team, info_of):
    """Marketing owns no customers: without a route the approving manager takes the new customer."""
    region_route_set(actor=team.admin, region="广东", rep=team.rep3)
    routed = info_of(team.marketing1, name="深圳海川照明有限公司", region="广东")
    unrouted = info_of(team.marketing1, name="常州天宁机电有限公司", region="江苏")
    routed = infoform_transition(form=routed, actor=team.gm, to=S.APPROVED)
    unrouted = infoform_transition(form=unrouted, actor=team.gm, to=S.APPROVED)
    assert (routed.customer.owner, unrouted.customer.owner) == (team.rep3, team.gm)
    assert not Customer.objects.filter(owner=team.marketing1).exists()


def test_likely_duplicate_must_be_linked_or_confirmed(team, info_of, customer_of):
    existing = customer_of(team.rep2, name="无锡新光电子科技有限公司")
    form = info_of(team.rep1)
    with pytest.raises(ValidationError) as exc:
        infoform_transition(form=form, actor=team.manager1, to=S.APPROVED)
    assert "customer" in exc.value.message_dict
    assert _row(form)["status"] == S.FILED and Customer.objects.count() == 1
    linked = infoform_transition(form=form, actor=team.manager1, to=S.APPROVED, link_customer=existing)
    assert linked.customer == existing and Customer.objects.count() == 1


def test_duplicate_confirmed_as_new_creates_another_customer(team, info_of, customer_of):
    customer_of(team.rep2, name="无锡新光电子科技有限公司")
    form = infoform_transition(form=info_of(team.rep1), actor=team.manager1, to=S.APPROVED, create_anyway=True)
    assert Customer.objects.count() == 2 and form.customer.owner == team.rep1


def test_return_needs_a_reason_then_the_rep_corrects_and_refiles(team, info_of):
    form = info_of(team.rep1)
    with pytest.raises(ValidationError):
        infoform_transition(form=form, actor=team.manager1, to=S.RETURNED, reason="  ")
    assert _row(form)["status"] == S.FILED
    form = infoform_transition(form=form, actor=team.manager1, to=S.RETURNED, reason="缺少联系人电话")
    assert form.status == S.RETURNED and form.return_reason == "缺少联系人电话"
    form = infoform_update(form=form, actor=team.rep1, expected_version=form.version, phone="0510-88886666")
    form = infoform_transition(form=form, actor=team.rep1, to=S.FILED)
    assert form.status == S.FILED and form.phone == "0510-88886666"


def test_archivist_archives_an_approved_form(team, info_of, archivist):
    form = infoform_transition(form=info_of(team.rep1), actor=team.manager1, to=S.APPROVED)
    form = infoform_transition(form=form, actor=archivist, to=S.ARCHIVED)
    assert form.status == S.ARCHIVED and form.due_on is None and form.archived_by == archivist
    assert TimelineEntry.objects.filter(customer=form.customer, kind=InfoFormEvent.INFO_FORM_ARCHIVED).exists()


def test_existing_customer_timeline_gets_filed_and_returned(team, info_of, customer_of):
    customer = customer_of(team.rep1)
    form = info_of(team.rep1, name=customer.name, customer=customer)
    infoform_transition(form=form, actor=team.manager1, to=S.RETURNED, reason="补充预算")
    kinds = list(TimelineEntry.objects.filter(customer=customer).values_list("kind", flat=True))
    assert InfoFormEvent.INFO_FORM_FILED in kinds and InfoFormEvent.INFO_FORM_RETURNED in kinds


# ---- refused moves: each raises and changes nothing ----

REFUSED_BY_STATUS = [
    (S.DRAFT, S.APPROVED),
    (S.DRAFT, S.RETURNED),
    (S.DRAFT, S.ARCHIVED),
    (S.FILED, S.FILED),
    (S.FILED, S.ARCHIVED),
    (S.RETURNED, S.APPROVED),
    (S.RETURNED, S.ARCHIVED),
    (S.APPROVED, S.FILED),
    (S.APPROVED, S.APPROVED),
    (S.APPROVED, S.RETURNED),
    (S.ARCHIVED, S.FILED),
    (S.ARCHIVED, S.APPROVED),
    (S.ARCHIVED, S.RETURNED),
    (S.ARCHIVED, S.ARCHIVED),
]


def _form_in(status, team, info_of, archivist):
    form = info_of(team.rep1, draft=status == S.DRAFT)
    if status == S.RETURNED:
        form = infoform_transition(form=form, actor=team.manager1, to=S.RETURNED, reason="x")
    if status in (S.APPROVED, S.ARCHIVED):
        form = infoform_transition(form=form, actor=team.manager1, to=S.APPROVED)
    if status == S.ARCHIVED:
        form = infoform_transition(form=form, actor=archivist, to=S.ARCHIVED)
    return form


def _right_actor(to, team, archivist):
    return {S.FILED: team.rep1, S.APPROVED: team.manager1, S.RETURNED: team.manager1, S.ARCHIVED: archivist}[to]


@pytest.mark.parametrize(("start", "to"), REFUSED_BY_STATUS)
def test_move_not_allowed_from_this_status_is_refused(team, info_of, archivist, start, to):
    form = _form_in(start, team, info_of, archivist)
    before, steps = _row(form), InfoFormStep.objects.count()
    with pytest.raises(ValidationError):
        infoform_transition(form=form, actor=_right_actor(to, team, archivist), to=to, reason="r")
    assert _row(form) == before and InfoFormStep.objects.count() == steps


@pytest.mark.parametrize(
    ("start", "to", "actor"),
    [
        (S.DRAFT, S.FILED, "rep2"),  # someone else's draft
        (S.DRAFT, S.FILED, "manager1"),
        (S.FILED, S.APPROVED, "rep1"),  # own form
        (S.FILED, S.APPROVED, "rep2"),  # a rep cannot approve
        (S.FILED, S.APPROVED, "manager2"),  # another team's manager
        (S.FILED, S.RETURNED, "manager2"),
        (S.FILED, S.APPROVED, "marketing1"),
        (S.APPROVED, S.ARCHIVED, "rep1"),
        (S.APPROVED, S.ARCHIVED, "manager1"),
        (S.RETURNED, S.FILED, "manager1"),
    ],
)
def test_move_by_the_wrong_person_is_refused(team, info_of, archivist, start, to, actor):
    form = _form_in(start, team, info_of, archivist)
    before, customers = _row(form), Customer.objects.count()
    with pytest.raises(PermissionDenied):
        infoform_transition(form=form, actor=getattr(team, actor), to=to, reason="r")
    assert _row(form) == before and Customer.objects.count() == customers


def test_manager_cannot_approve_their_own_form_but_their_manager_can(team, info_of):
    form = info_of(team.manager1)
    with pytest.raises(PermissionDenied):
        infoform_transition(form=form, actor=team.manager1, to=S.APPROVED)
    assert infoform_transition(form=form, actor=team.gm, to=S.APPROVED).status == S.APPROVED


def test_only_drafts_and_returned_forms_can_be_corrected(team, info_of):
    form = info_of(team.rep1)
    with pytest.raises(ValidationError):
        infoform_update(form=form, actor=team.rep1, expected_version=form.version, phone="1")
    draft = info_of(team.rep1, draft=True)
    with pytest.raises(PermissionDenied):
        infoform_update(form=draft, actor=team.rep2, expected_version=draft.version, phone="1")


def test_future_collection_date_is_refused(team, info_of):
    from datetime import date, timedelta

    with pytest.raises(ValidationError) as exc:
        info_of(team.rep1, collected_on=date.today() + timedelta(days=3))
    assert "collected_on" in exc.value.message_dict


def test_routes_only_to_people_in_reach(team):
    with pytest.raises(PermissionDenied):
        region_route_set(actor=team.rep1, region="江苏", rep=team.rep1)
    with pytest.raises(ValidationError):
        region_route_set(actor=team.manager1, region="广东", rep=team.rep3)
    with pytest.raises(ValidationError):
        region_route_set(actor=team.admin, region="广东", rep=team.service1)  # may not own customers
    route = region_route_set(actor=team.admin, region="广东", rep=team.rep3)
    with pytest.raises(PermissionDenied):  # manager1 cannot take over manager2's region
        region_route_set(actor=team.manager1, region="广东", rep=team.rep1)
    route.refresh_from_db()
    assert route.rep == team.rep3
