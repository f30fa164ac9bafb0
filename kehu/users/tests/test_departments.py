import pytest
from django.core.exceptions import ValidationError

from kehu.customers.selectors import customer_qs_visible_to
from kehu.users.models import Department, User
from kehu.users.services import department_create, department_update


@pytest.mark.django_db
def test_moving_a_department_moves_its_sub_departments_and_their_customers_into_the_new_managers_scope(
    client, team, customer_of
):
    """华东销售部 gets a sub-team; moving 华东 under 华南 puts its people's customers in manager2's scope."""
    east_team = department_create(name="苏州小组", parent=team.east, actor=team.admin)
    team.rep2.department = east_team
    team.rep2.save()
    customer = customer_of(team.rep2, name="苏州宏达机电有限公司")
    assert not customer_qs_visible_to(team.manager2).filter(pk=customer.pk).exists()

    client.force_login(team.admin)
    response = client.post(f"/accounts/departments/{team.east.pk}/", {"name": "华东区", "parent": team.south.pk})
    assert response.status_code == 302
    paths = dict(Department.objects.values_list("name", "path"))
    assert paths["华东区"] == f"{team.south.path}{team.east.pk}/"
    assert paths["苏州小组"] == f"{team.south.path}{team.east.pk}/{east_team.pk}/"
    # A new request: the scope is read once per request (cached on the user object).
    manager2 = User.objects.get(pk=team.manager2.pk)
    assert customer_qs_visible_to(manager2).filter(pk=customer.pk).exists()


@pytest.mark.django_db
def test_a_department_cannot_move_under_its_own_sub_department(team):
    with pytest.raises(ValidationError) as excinfo:
        department_update(department=team.sales, actor=team.admin, name="销售中心", parent=team.east)
    assert "parent" in excinfo.value.message_dict
    team.sales.refresh_from_db()
    assert team.sales.parent == team.hq


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["rep1", "manager1", "gm"])
def test_only_administrators_edit_departments(client, team, who):
    client.force_login(getattr(team, who))
    response = client.post(f"/accounts/departments/{team.east.pk}/", {"name": "改名", "parent": ""})
    assert response.status_code == 403
    team.east.refresh_from_db()
    assert team.east.name == "华东销售部"
