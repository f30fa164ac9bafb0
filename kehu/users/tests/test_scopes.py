"""Data scopes (ACC-3): own, own + subordinates, department, department tree, all."""

import pytest

from kehu.customers.models import Customer
from kehu.customers.selectors import customer_qs_visible_to
from kehu.users.models import User
from kehu.users.roles import DataScope, Role
from kehu.users.scopes import is_in_team_of, scope_for, scope_q, subordinate_ids
from kehu.users.services import department_create


def _user(username, role, department=None, manager=None, **extra):
    return User.objects.create(
        username=username, email=f"{username}@example.com", role=role, department=department, manager=manager, **extra
    )


@pytest.fixture
def org(team, customer_of):
    """team plus: 华东一组 under 华东销售部 with rep_sub; one customer per person, named after the owner."""
    team.east_sub = department_create(name="华东一组", parent=team.east, actor=None)
    team.rep_sub = _user("rep_sub", Role.SALES_REP, team.east_sub, team.manager1)
    for name in ("rep1", "rep2", "rep3", "manager1", "manager2", "gm", "rep_sub"):
        customer_of(getattr(team, name), name=f"customer-of-{name}")
    return team


def visible(user) -> set[str]:
    fresh = User.objects.get(pk=user.pk)  # scopes are cached per user object, as per request
    return {
        n.removeprefix("customer-of-") for n in Customer.objects.filter(scope_q(fresh)).values_list("name", flat=True)
    }


def test_own_scope_sees_only_own_customers(org):
    assert visible(org.rep1) == {"rep1"}


def test_own_and_subordinates_scope_follows_the_reporting_chain(org, customer_of):
    lead = _user("lead", Role.ACCOUNT_MANAGER, org.east)
    User.objects.filter(pk=org.rep1.pk).update(manager=lead)
    junior = _user("junior", Role.SALES_REP, org.east, org.rep1)
    customer_of(lead, name="customer-of-lead")
    customer_of(junior, name="customer-of-junior")
    assert visible(lead) == {"lead", "rep1", "junior"}


def test_subordinate_ids_survive_a_reporting_cycle(team):
    User.objects.filter(pk=team.manager1.pk).update(manager=team.rep1)
    assert sorted(subordinate_ids(team.manager1)) == sorted([team.rep1.pk, team.rep2.pk])


def test_department_scope_sees_own_department_but_not_sub_departments(org):
    User.objects.filter(pk=org.rep2.pk).update(data_scope_override=DataScope.DEPARTMENT)
    assert visible(org.rep2) == {"rep1", "rep2", "manager1"}


def test_department_tree_scope_includes_sub_departments(org):
    assert visible(org.manager1) == {"rep1", "rep2", "manager1", "rep_sub"}


def test_department_tree_scope_excludes_sibling_departments(org):
    assert visible(org.manager2) == {"rep3", "manager2"}


def test_all_scope_sees_every_customer(org):
    assert visible(org.gm) == {"rep1", "rep2", "rep3", "manager1", "manager2", "gm", "rep_sub"}


def test_data_scope_override_wins_over_the_role(org):
    User.objects.filter(pk=org.rep2.pk).update(data_scope_override=DataScope.ALL)
    assert visible(org.rep2) == {"rep1", "rep2", "rep3", "manager1", "manager2", "gm", "rep_sub"}


def test_override_can_narrow_a_manager_to_own(org):
    User.objects.filter(pk=org.manager1.pk).update(data_scope_override=DataScope.OWN)
    assert visible(org.manager1) == {"manager1"}


@pytest.mark.parametrize("role", [Role.SALES_MANAGER, Role.SALES_REP])
def test_user_without_department_falls_back_to_own(org, customer_of, role):
    loner = _user("loner", role)
    customer_of(loner, name="customer-of-loner")
    assert scope_for(User.objects.get(pk=loner.pk)).kind == DataScope.OWN
    assert visible(loner) == {"loner"}


def test_department_scope_without_department_falls_back_to_own(org, customer_of):
    loner = _user("loner", Role.SALES_REP, data_scope_override=DataScope.DEPARTMENT)
    customer_of(loner, name="customer-of-loner")
    assert visible(loner) == {"loner"}


def test_superuser_sees_all_whatever_the_role(org):
    boss = _user("boss", Role.SALES_REP, is_superuser=True)
    assert scope_for(boss).kind == DataScope.ALL
    assert len(visible(boss)) == 7


def test_inactive_user_sees_nothing(org):
    User.objects.filter(pk=org.gm.pk).update(is_active=False)
    assert visible(org.gm) == set()


def test_customer_selector_applies_the_scope_and_hides_deleted(org):
    from kehu.customers.services import customer_delete

    customer_delete(customer=Customer.objects.get(name="customer-of-rep2"), actor=org.rep2)
    names = set(customer_qs_visible_to(User.objects.get(pk=org.manager1.pk)).values_list("name", flat=True))
    assert names == {"customer-of-rep1", "customer-of-manager1", "customer-of-rep_sub"}


@pytest.mark.parametrize(
    ("viewer", "owner", "expected"),
    [
        ("rep1", "rep1", True),
        ("rep1", "rep2", False),
        ("manager1", "rep1", True),
        ("manager1", "rep_sub", True),
        ("manager1", "rep3", False),
        ("manager2", "rep1", False),
        ("gm", "rep3", True),
    ],
)
def test_is_in_team_of_agrees_with_the_scope(org, viewer, owner, expected):
    assert is_in_team_of(User.objects.get(pk=getattr(org, viewer).pk), getattr(org, owner)) is expected
