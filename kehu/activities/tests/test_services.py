"""Activity services: each activity lands on the customer's timeline (SAL-7, CUS-6)."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kehu.activities.events import ActivityEvent
from kehu.activities.models import Activity
from kehu.activities.services import activity_delete, activity_log, activity_update, commitment_mark_done
from kehu.core.exceptions import ConcurrentEditError
from kehu.customers.events import CustomerEvent
from kehu.customers.models import Customer, TimelineEntry
from kehu.customers.services import contact_create


@pytest.fixture
def customer(team, customer_of):
    return customer_of(team.rep1)


@pytest.fixture
def commitment(team, customer):
    return activity_log(
        customer=customer, actor=team.rep1, kind="commitment", subject="周五前报价", due_on=date(2030, 1, 10)
    )


def _entries(customer):
    return list(
        TimelineEntry.objects.filter(customer=customer).exclude(kind=CustomerEvent.CUSTOMER_CREATED).order_by("id")
    )


def test_logged_visit_appends_a_visit_entry(team, customer):
    visit = activity_log(
        customer=customer,
        actor=team.rep1,
        kind="visit",
        subject="拜访采购部",
        content="谈了新设备",
        duration_minutes=60,
    )
    (entry,) = _entries(customer)
    assert (entry.kind, entry.summary, entry.actor, entry.subject_id) == ("visit", "拜访采购部", team.rep1, visit.pk)
    assert entry.payload == {"content": "谈了新设备", "duration_minutes": 60}


def test_logged_activity_moves_the_customer_up_recently_updated(team, customer):
    before = Customer.objects.get(pk=customer.pk).updated_at
    activity_log(customer=customer, actor=team.rep1, kind="call", subject="电话")
    assert Customer.objects.get(pk=customer.pk).updated_at > before


def test_commitment_entry_carries_its_due_date(team, customer, commitment):
    (entry,) = _entries(customer)
    assert (entry.kind, entry.payload["due_on"]) == ("commitment", "2030-01-10")


def test_commitment_done_appends_commitment_done(team, customer, commitment):
    commitment_mark_done(activity=commitment, actor=team.manager1)
    assert [e.kind for e in _entries(customer)] == ["commitment", ActivityEvent.COMMITMENT_DONE]
    assert Activity.objects.get(pk=commitment.pk).is_done


def test_marking_done_twice_appends_once(team, customer, commitment):
    commitment_mark_done(activity=commitment, actor=team.rep1)
    commitment_mark_done(activity=Activity.objects.get(pk=commitment.pk), actor=team.rep1)
    assert len(_entries(customer)) == 2


def test_only_commitments_can_be_marked_done(team, customer):
    visit = activity_log(customer=customer, actor=team.rep1, kind="visit", subject="拜访")
    with pytest.raises(ValidationError):
        commitment_mark_done(activity=visit, actor=team.rep1)


def test_commitment_needs_a_due_date(team, customer):
    with pytest.raises(ValidationError) as exc:
        activity_log(customer=customer, actor=team.rep1, kind="commitment", subject="尽快报价")
    assert "due_on" in exc.value.message_dict
    assert not Activity.objects.exists()


def test_contact_of_another_customer_is_refused(team, customer, customer_of):
    other = customer_of(team.rep1, name="另一家公司")
    stranger = contact_create(customer=other, actor=team.rep1, name="李四")
    with pytest.raises(ValidationError) as exc:
        activity_log(customer=customer, actor=team.rep1, kind="call", subject="电话", contact=stranger)
    assert "contact" in exc.value.message_dict


def test_logging_needs_add_permission(team, customer):
    from kehu.users.models import User
    from kehu.users.roles import Role

    viewer = User.objects.create(username="quality", role=Role.SERVICE_QUALITY)
    with pytest.raises(PermissionDenied):
        activity_log(customer=customer, actor=viewer, kind="note", subject="备注")


def test_editing_an_activity_rewrites_its_timeline_entry(team, customer):
    visit = activity_log(customer=customer, actor=team.rep1, kind="visit", subject="拜访")
    activity_update(activity=visit, actor=team.rep1, expected_version=1, kind="meeting", subject="技术交流会")
    (entry,) = _entries(customer)
    assert (entry.kind, entry.summary) == ("meeting", "技术交流会")


def test_editing_with_a_stale_version_is_refused(team, customer):
    visit = activity_log(customer=customer, actor=team.rep1, kind="visit", subject="拜访")
    activity_update(activity=Activity.objects.get(pk=visit.pk), actor=team.rep1, expected_version=1, subject="拜访一")
    with pytest.raises(ConcurrentEditError):
        activity_update(
            activity=Activity.objects.get(pk=visit.pk), actor=team.manager1, expected_version=1, subject="拜访二"
        )
    assert Activity.objects.get(pk=visit.pk).subject == "拜访一"


def test_deleting_an_activity_removes_its_timeline_entries(team, customer, commitment):
    commitment_mark_done(activity=commitment, actor=team.rep1)
    activity_delete(activity=commitment, actor=team.rep1)
    assert _entries(customer) == []
    assert Activity.objects.get(pk=commitment.pk).deleted_at is not None
