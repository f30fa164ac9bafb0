"""Customer services: optimistic locking, the audit trail, the recycle bin, credit codes, the timeline."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kehu.core.exceptions import ConcurrentEditError
from kehu.core.models import AuditAction, AuditEntry
from kehu.customers.events import CustomerEvent
from kehu.customers.models import Customer, TimelineEntry
from kehu.customers.selectors import customer_qs_visible_to, deleted_customers_for
from kehu.customers.services import (
    contact_create,
    credit_code_is_valid,
    customer_create,
    customer_delete,
    customer_restore,
    customer_update,
    fact_create,
)

VALID_CODE = "91350100M000100Y43"


@pytest.fixture
def customer(team, customer_of):
    return customer_of(team.rep1, phone="13812345678")


def _audit(customer, action):
    return list(AuditEntry.objects.filter(target_type="customers.customer", target_id=customer.pk, action=action))


def _kinds(customer):
    return list(TimelineEntry.objects.filter(customer=customer).order_by("id").values_list("kind", flat=True))


# Optimistic locking


def test_update_bumps_the_version(team, customer):
    customer_update(customer=customer, actor=team.rep1, expected_version=1, name="苏州华星精密机械股份有限公司")
    assert Customer.objects.get(pk=customer.pk).version == 2


def test_update_with_a_stale_version_is_refused(team, customer):
    customer_update(customer=Customer.objects.get(pk=customer.pk), actor=team.rep1, expected_version=1, tier="key")
    with pytest.raises(ConcurrentEditError):
        customer_update(
            customer=Customer.objects.get(pk=customer.pk), actor=team.manager1, expected_version=1, name="被覆盖的名字"
        )


def test_refused_stale_update_keeps_the_first_save(team, customer):
    customer_update(customer=Customer.objects.get(pk=customer.pk), actor=team.rep1, expected_version=1, tier="key")
    with pytest.raises(ConcurrentEditError):
        customer_update(
            customer=Customer.objects.get(pk=customer.pk), actor=team.manager1, expected_version=1, name="被覆盖的名字"
        )
    saved = Customer.objects.get(pk=customer.pk)
    assert (saved.name, saved.tier, saved.version) == ("苏州华星精密机械有限公司", "key", 2)
    assert len(_audit(customer, AuditAction.UPDATE)) == 1


def test_update_without_changes_writes_nothing(team, customer):
    customer_update(customer=customer, actor=team.rep1, expected_version=1, name=customer.name)
    assert Customer.objects.get(pk=customer.pk).version == 1
    assert _audit(customer, AuditAction.UPDATE) == []


def test_update_refuses_fields_outside_the_form(team, customer):
    with pytest.raises(ValidationError) as exc:
        customer_update(customer=customer, actor=team.rep1, expected_version=1, search_text="x")
    assert "search_text" in exc.value.message_dict


def test_update_needs_change_permission(team, customer):
    with pytest.raises(PermissionDenied):
        customer_update(customer=customer, actor=team.marketing1, expected_version=1, name="改名")


# Audit trail


def test_create_is_audited_with_the_initial_values(team, customer):
    (entry,) = _audit(customer, AuditAction.CREATE)
    assert entry.actor == team.rep1
    assert entry.changes["name"] == [None, "苏州华星精密机械有限公司"]
    assert entry.changes["phone"] == [None, "13812345678"]


def test_update_is_audited_field_by_field_with_before_and_after(team, customer):
    customer_update(customer=customer, actor=team.manager1, expected_version=1, phone="0512-66668888", tier="key")
    (entry,) = _audit(customer, AuditAction.UPDATE)
    assert entry.actor == team.manager1
    assert entry.changes == {"phone": ["13812345678", "0512-66668888"], "tier": ["prospect", "key"]}


def test_owner_change_is_audited_by_name_and_on_the_timeline(team, customer):
    customer_update(customer=customer, actor=team.manager1, expected_version=1, owner=team.rep2)
    (entry,) = _audit(customer, AuditAction.UPDATE)
    assert entry.changes == {"owner": ["rep1", "rep2"]}
    assert TimelineEntry.objects.filter(customer=customer, kind=CustomerEvent.OWNER_CHANGED).count() == 1


def test_rep_may_not_hand_a_customer_to_another_rep(team, customer):
    with pytest.raises(ValidationError) as exc:
        customer_update(customer=customer, actor=team.rep1, expected_version=1, owner=team.rep2)
    assert "owner" in exc.value.message_dict
    assert Customer.objects.get(pk=customer.pk).owner_id == team.rep1.pk


def test_manager_may_not_assign_outside_the_team(team, customer):
    with pytest.raises(ValidationError):
        customer_update(customer=customer, actor=team.manager1, expected_version=1, owner=team.rep3)


def test_reassigning_moves_the_customer_into_the_new_owners_team(team, customer):
    customer_update(customer=customer, actor=team.gm, expected_version=1, owner=team.rep3)
    assert customer_qs_visible_to(team.manager2).filter(pk=customer.pk).exists()
    assert not customer_qs_visible_to(team.manager1).filter(pk=customer.pk).exists()


# Recycle bin


def test_delete_moves_the_customer_out_of_every_list(team, customer):
    customer_delete(customer=customer, actor=team.rep1)
    assert not customer_qs_visible_to(team.gm).filter(pk=customer.pk).exists()


def test_deleted_customer_is_in_its_owners_recycle_bin(team, customer):
    customer_delete(customer=customer, actor=team.manager1)
    assert list(deleted_customers_for(team.rep1)) == [customer]


def test_delete_is_audited_and_on_the_timeline(team, customer):
    customer_delete(customer=customer, actor=team.rep1)
    assert len(_audit(customer, AuditAction.DELETE)) == 1
    assert _kinds(customer)[-1] == CustomerEvent.CUSTOMER_DELETED


def test_deleting_twice_records_once(team, customer):
    customer_delete(customer=customer, actor=team.rep1)
    customer_delete(customer=customer, actor=team.rep1)
    assert len(_audit(customer, AuditAction.DELETE)) == 1


@pytest.mark.parametrize("actor", ["rep1", "admin"])
def test_owner_or_admin_restores_from_the_recycle_bin(team, customer, actor):
    customer_delete(customer=customer, actor=team.rep1)
    customer_restore(customer=Customer.objects.get(pk=customer.pk), actor=getattr(team, actor))
    assert customer_qs_visible_to(team.rep1).filter(pk=customer.pk).exists()
    assert len(_audit(customer, AuditAction.RESTORE)) == 1
    assert _kinds(customer)[-1] == CustomerEvent.CUSTOMER_RESTORED


@pytest.mark.parametrize("actor", ["manager1", "gm"])
def test_the_owners_managers_restore_a_deleted_customer(team, customer, actor):
    customer_delete(customer=customer, actor=team.rep1)
    customer_restore(customer=Customer.objects.get(pk=customer.pk), actor=getattr(team, actor))
    assert Customer.objects.get(pk=customer.pk).deleted_at is None
    assert _kinds(customer)[-1] == CustomerEvent.CUSTOMER_RESTORED


@pytest.mark.parametrize("actor", ["rep2", "rep3", "manager2", "service1", "marketing1"])
def test_restore_is_refused_for_anyone_else(team, customer, actor):
    customer_delete(customer=customer, actor=team.rep1)
    with pytest.raises(PermissionDenied):
        customer_restore(customer=Customer.objects.get(pk=customer.pk), actor=getattr(team, actor))
    assert Customer.objects.get(pk=customer.pk).deleted_at is not None


def test_delete_needs_delete_permission(team, customer):
    with pytest.raises(PermissionDenied):
        customer_delete(customer=customer, actor=team.marketing1)
    assert Customer.objects.get(pk=customer.pk).deleted_at is None


# Unified social credit code (GB 32100-2015)


def test_valid_credit_code_passes_the_check():
    assert credit_code_is_valid(VALID_CODE)


@pytest.mark.parametrize(
    "code",
    [
        "91350100M000100Y44",  # wrong check character
        "91350100M000100Y4",  # 17 characters
        "91350100M000100I43",  # I is not in the alphabet
        "",
    ],
)
def test_invalid_credit_codes_fail_the_check(code):
    assert not credit_code_is_valid(code)


def test_customer_keeps_a_valid_credit_code_normalised_to_upper_case(team):
    customer = customer_create(actor=team.rep1, name="福州某机械厂", credit_code=" 91350100m000100y43 ")
    assert Customer.objects.get(pk=customer.pk).credit_code == VALID_CODE


def test_customer_with_an_invalid_credit_code_is_refused(team):
    with pytest.raises(ValidationError) as exc:
        customer_create(actor=team.rep1, name="福州某机械厂", credit_code="91350100M000100Y44")
    assert list(exc.value.message_dict) == ["credit_code"]
    assert not Customer.objects.exists()


# Other validation


def test_customer_needs_a_name(team):
    with pytest.raises(ValidationError) as exc:
        customer_create(actor=team.rep1, name="   ")
    assert "name" in exc.value.message_dict


def test_latitude_without_longitude_is_refused(team):
    with pytest.raises(ValidationError) as exc:
        customer_create(actor=team.rep1, name="苏州某厂", latitude=Decimal("31.3"))
    assert "latitude" in exc.value.message_dict


def test_inactive_owner_is_refused(team):
    team.rep2.is_active = False
    team.rep2.save()
    with pytest.raises(ValidationError) as exc:
        customer_create(actor=team.manager1, owner=team.rep2, name="苏州某厂")
    assert "owner" in exc.value.message_dict


def test_create_needs_add_permission(team):
    with pytest.raises(PermissionDenied):
        customer_create(actor=team.service1, name="苏州某厂")


def test_customers_follow_their_owner_to_a_new_department(team, customer):
    from kehu.users.models import User
    from kehu.users.services import user_update

    user_update(user=User.objects.get(pk=team.rep1.pk), actor=team.admin, department=team.south, manager=team.manager2)
    assert customer_qs_visible_to(User.objects.get(pk=team.manager2.pk)).filter(pk=customer.pk).exists()
    assert not customer_qs_visible_to(User.objects.get(pk=team.manager1.pk)).filter(pk=customer.pk).exists()


# Timeline


def test_create_appends_customer_created_to_the_timeline(team, customer):
    entry = TimelineEntry.objects.get(customer=customer)
    assert (entry.kind, entry.actor, entry.summary) == (CustomerEvent.CUSTOMER_CREATED, team.rep1, customer.name)


def test_update_appends_customer_changed_naming_the_fields(team, customer):
    customer_update(customer=customer, actor=team.rep1, expected_version=1, tier="key")
    entry = TimelineEntry.objects.filter(customer=customer).latest("id")
    assert (entry.kind, entry.payload) == (CustomerEvent.CUSTOMER_CHANGED, {"fields": ["tier"]})


def test_contact_added_appears_on_the_timeline(team, customer):
    contact_create(customer=customer, actor=team.rep1, name="张伟")
    assert _kinds(customer) == [CustomerEvent.CUSTOMER_CREATED, CustomerEvent.CONTACT_ADDED]


def test_level_3_fact_leaves_no_title_on_the_timeline(team, customer):
    fact_create(customer=customer, actor=team.rep1, level=3, title="明年扩产预算")
    entry = TimelineEntry.objects.filter(customer=customer).latest("id")
    assert (entry.kind, entry.summary, entry.payload) == (CustomerEvent.FACT_ADDED, "", {"level": 3})


def test_a_tier_change_on_the_form_is_a_tier_change_on_the_timeline(team, customer):
    customer_update(customer=customer, actor=team.rep1, expected_version=1, tier="key")
    tier_changes = TimelineEntry.objects.filter(customer=customer, kind=CustomerEvent.TIER_CHANGED)
    assert [(e.payload, e.actor_id) for e in tier_changes] == [({"from": "prospect", "to": "key"}, team.rep1.pk)]
