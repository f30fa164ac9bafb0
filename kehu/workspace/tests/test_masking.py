"""Sensitive data (CUS-4): phones, the contacts' private file and level 3–4 facts are for the account team."""

import pytest

from kehu.customers.services import fact_create
from kehu.customers.tests.permissions import build_world
from kehu.users.models import User
from kehu.users.roles import Role

PHONE, PHONE_MASKED = "13812345678", "138****5678"
MOBILE, MOBILE_MASKED = "13900001111", "139****1111"
PRIVATE_HOBBY = "钓鱼和围棋"
LEVEL3 = "明年扩产预算"
LEVEL1 = "年报：营收增长"


@pytest.fixture
def world(team):
    w = build_world(team)
    fact_create(customer=w.customer, actor=team.rep1, level=1, title=LEVEL1)
    return w


def _detail(client, world, user):
    client.force_login(user)
    response = client.get(f"/customers/{world.customer.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def test_outsider_with_scope_all_sees_the_customer(client, world):
    page = _detail(client, world, world.team.marketing1)
    assert world.customer.name in page


def test_outsider_sees_customer_phone_masked(client, world):
    page = _detail(client, world, world.team.marketing1)
    assert PHONE_MASKED in page
    assert PHONE not in page


def test_outsider_sees_contact_mobile_masked(client, world):
    page = _detail(client, world, world.team.marketing1)
    assert MOBILE_MASKED in page
    assert MOBILE not in page


def test_outsider_does_not_see_the_contact_private_file(client, world):
    page = _detail(client, world, world.team.marketing1)
    assert "张伟" in page
    assert PRIVATE_HOBBY not in page


def test_outsider_sees_level_1_facts_but_not_level_3(client, world):
    page = _detail(client, world, world.team.marketing1)
    assert LEVEL1 in page
    assert LEVEL3 not in page


def test_outsider_gets_masked_phone_in_the_customer_list(client, world):
    client.force_login(world.team.marketing1)
    page = client.get("/customers/").content.decode()
    assert PHONE_MASKED in page
    assert PHONE not in page


@pytest.mark.parametrize("insider", ["rep1", "manager1", "gm"])
def test_account_team_sees_phone_private_file_and_level_3(client, world, insider):
    page = _detail(client, world, getattr(world.team, insider))
    assert PHONE in page
    assert MOBILE in page
    assert PRIVATE_HOBBY in page
    assert LEVEL3 in page


def test_audit_trail_does_not_reveal_a_masked_phone(client, world):
    """A CRM specialist sees every customer but not phones: nothing on the page, audit trail included, shows one."""
    crm = User.objects.create(
        username="crm1", email="crm1@example.com", role=Role.CRM_SPECIALIST, department=world.team.hq
    )
    page = _detail(client, world, crm)
    assert PHONE_MASKED in page
    assert PHONE not in page
