"""Merging duplicate customers (CUS-5): nothing lost, all or nothing, only within one's scope."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kehu.activities.models import Activity
from kehu.activities.services import activity_log
from kehu.core import events
from kehu.core.models import AuditEntry
from kehu.customers.merge import customer_merge, customer_relations
from kehu.customers.models import Contact, Customer, CustomerFact, CustomerMerge, TimelineEntry
from kehu.customers.services import contact_create, customer_restore, fact_create
from kehu.customers.tests.permissions import db_state


def filled(customer_of, owner, name, *, contacts=1, visits=1, **fields):
    customer = customer_of(owner, name, **fields)
    for i in range(contacts):
        contact_create(customer=customer, actor=owner, name=f"联系人{i}", mobile=f"1390000{customer.pk:02d}{i:02d}")
    fact_create(customer=customer, actor=owner, level=3, title=f"{name}的预算")
    for i in range(visits):
        activity_log(customer=customer, actor=owner, kind="visit", subject=f"拜访{i}")
    activity_log(customer=customer, actor=owner, kind="commitment", subject="报价", due_on=date(2030, 1, 1))
    return customer


def counts(*customers):
    ids = [c.pk for c in customers]
    return {
        "contacts": Contact.objects.filter(customer_id__in=ids).count(),
        "facts": CustomerFact.objects.filter(customer_id__in=ids).count(),
        "activities": Activity.objects.filter(customer_id__in=ids).count(),
        "timeline": TimelineEntry.objects.filter(customer_id__in=ids).count(),
    }


@pytest.fixture
def three(team, customer_of):
    target = filled(customer_of, team.rep1, "苏州华星精密机械有限公司", contacts=2, city="")
    a = filled(customer_of, team.rep1, "苏州华星精密机械股份有限公司", city="苏州", email="a@hx.cn", visits=3)
    b = filled(customer_of, team.rep1, "苏州 华星精密机械", city="无锡", website="www.hx.cn", phone="0512-66668888")
    return target, a, b


def test_merge_keeps_every_related_row_on_the_target(team, three):
    target, a, b = three
    before = counts(target, a, b)
    audit_before = AuditEntry.objects.count()
    record = customer_merge(target=target, sources=[a, b], actor=team.rep1)
    after = counts(target)
    assert after["contacts"] == before["contacts"] == 4
    assert after["facts"] == before["facts"] == 3
    assert after["activities"] == before["activities"] == 8
    assert after["timeline"] == before["timeline"] + 2  # plus "merged from …" for each source
    assert counts(a, b) == {"contacts": 0, "facts": 0, "activities": 0, "timeline": 0}
    assert AuditEntry.objects.count() == audit_before + 3  # nothing of the trail is lost, three added
    assert record.sources == [{"id": a.pk, "name": a.name}, {"id": b.pk, "name": b.name}]
    assert record.moved["customers.contact.customer"] == 2
    assert record.moved["activities.activity.customer"] == 6


def test_blank_fields_are_filled_from_the_sources_in_order(team, three):
    target, a, b = three
    record = customer_merge(target=target, sources=[a, b], actor=team.rep1)
    target.refresh_from_db()
    assert (target.city, target.email, target.website, target.phone) == (
        "苏州",
        "a@hx.cn",
        "http://www.hx.cn",  # a bare host is stored as a web address
        "0512-66668888",
    )
    assert target.name == "苏州华星精密机械有限公司"
    assert record.fields["city"] == {"from": a.pk, "before": "", "after": "苏州"}
    assert target.version == 2


def test_chosen_fields_are_applied(team, three):
    target, a, b = three
    customer_merge(target=target, sources=[a, b], actor=team.rep1, field_choices={"name": a.pk, "city": b.pk})
    target.refresh_from_db()
    assert (target.name, target.city, target.name_key) == (a.name, "无锡", "苏州华星精密机械")


def test_search_finds_the_merged_contacts_phones_on_the_target(team, three):
    target, a, b = three
    customer_merge(target=target, sources=[a, b], actor=team.rep1)
    target.refresh_from_db()
    assert "51266668888" in target.search_text.split()
    for contact in Contact.objects.filter(customer=target):
        assert contact.mobile in target.search_text


def test_sources_sit_in_the_recycle_bin_and_cannot_be_restored(team, three):
    target, a, b = three
    customer_merge(target=target, sources=[a, b], actor=team.rep1)
    a.refresh_from_db()
    assert a.deleted_at is not None and a.merged_into_id == target.pk
    with pytest.raises(ValidationError) as exc:
        customer_restore(customer=a, actor=team.admin)
    assert "merged into" in exc.value.messages[0]
    a.refresh_from_db()
    assert a.deleted_at is not None


def test_a_target_merged_later_passes_its_history_on(team, three, customer_of):
    target, a, b = three
    customer_merge(target=a, sources=[b], actor=team.rep1)
    customer_merge(target=target, sources=[a], actor=team.rep1)
    b.refresh_from_db()
    assert b.merged_into_id == target.pk
    assert CustomerMerge.objects.filter(target=target).count() == 2
    assert counts(target)["contacts"] == 4


def test_relations_include_every_domain_pointing_at_customers():
    labels = {f"{m._meta.label_lower}.{f}" for m, f in customer_relations()}
    assert {
        "customers.contact.customer",
        "customers.customerfact.customer",
        "customers.timelineentry.customer",
        "activities.activity.customer",
        "customers.customer.merged_into",
        "customers.customermerge.target",
    } <= labels


@pytest.mark.parametrize("actor", ["rep2", "manager2", "service1", "marketing1"])
def test_merge_is_refused_outside_scope_or_without_permission(team, three, actor):
    target, a, b = three
    state = db_state()
    with pytest.raises(PermissionDenied):
        customer_merge(target=target, sources=[a, b], actor=getattr(team, actor))
    assert db_state() == state


def test_the_manager_may_merge_the_teams_customers(team, three, customer_of):
    target, a, _b = three
    other = customer_of(team.rep2, "苏州华星精密机械集团")
    customer_merge(target=target, sources=[a, other], actor=team.manager1)
    assert Customer.objects.get(pk=other.pk).merged_into_id == target.pk


def test_a_rep_cannot_merge_in_another_reps_customer(team, three, customer_of):
    target, _a, _b = three
    theirs = customer_of(team.rep2, "苏州华星精密机械集团")
    state = db_state()
    with pytest.raises(PermissionDenied):
        customer_merge(target=target, sources=[theirs], actor=team.rep1)
    assert db_state() == state


@pytest.mark.parametrize(
    ("choices", "field"),
    [({"search_text": 1}, "search_text"), ({"city": 999999}, "city"), ({"longitude": 1}, "longitude")],
)
def test_bad_choices_are_field_errors(team, three, choices, field):
    target, a, _b = three
    state = db_state()
    with pytest.raises(ValidationError) as exc:
        customer_merge(target=target, sources=[a], actor=team.rep1, field_choices=choices)
    assert list(exc.value.message_dict) == [field]
    assert db_state() == state


@pytest.mark.parametrize("sources", ["none", "self", "twice"])
def test_bad_sources_are_refused(team, three, sources):
    target, a, _b = three
    chosen = {"none": [], "self": [target], "twice": [a, a]}[sources]
    with pytest.raises(ValidationError):
        customer_merge(target=target, sources=chosen, actor=team.rep1)


def test_the_merge_is_all_or_nothing(team, three, monkeypatch):
    target, a, b = three
    state = db_state()

    def fail(recorded):
        raise RuntimeError("audit store unavailable")

    # The merge's events are its last writes: a failing sink must undo everything before them.
    monkeypatch.setattr(events, "_in_transaction", [*events._in_transaction, fail])
    with pytest.raises(RuntimeError):
        customer_merge(target=target, sources=[a, b], actor=team.rep1)
    assert db_state() == state
    assert CustomerMerge.objects.count() == 0
