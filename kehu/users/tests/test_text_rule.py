"""The text rule at the users' doors: departments, user names, API token names, company settings."""

import pytest
from django.core.exceptions import ValidationError

from kehu.users.models import ApiToken, CompanySettings, Department
from kehu.users.services import api_token_create, department_create, user_update


def test_services_refuse_control_characters(team):
    with pytest.raises(ValidationError) as exc:
        department_create(name="华东\x07销售部", parent=None, actor=team.admin)
    assert list(exc.value.message_dict) == ["name"]
    with pytest.raises(ValidationError) as exc:
        user_update(user=team.rep2, actor=team.admin, first_name="芳\x00")
    assert list(exc.value.message_dict) == ["first_name"]
    with pytest.raises(ValidationError) as exc:
        api_token_create(user=team.rep1, name="x" * 101)
    assert list(exc.value.message_dict) == ["name"]
    assert not Department.objects.filter(name__contains="\x07").exists()


def test_pages_show_a_refused_value_on_the_form(client, team):
    client.force_login(team.admin)
    response = client.post("/accounts/settings/", {"company_name": "华星\x1b机械"})
    assert response.status_code == 200 and "company_name" in response.context["form"].errors
    assert "\x1b" not in CompanySettings.load().company_name
    before = ApiToken.objects.count()
    response = client.post("/accounts/profile/", {"name": "手机\x07"})
    assert response.status_code == 200 and "name" in response.context["form"].errors
    assert ApiToken.objects.count() == before
