"""A fresh install: the first visitor sets up the company and its administrator (ACC-1)."""

import pytest
from django.test import Client

from kehu.users.models import CompanySettings, User
from kehu.users.roles import Role

SETUP = {
    "company_name": "苏州华星精密机械有限公司",
    "last_name": "陈",
    "first_name": "静",
    "username": "chenjing",
    "email": "chenjing@example.com",
    "password1": "Huaxing-setup-2026",
    "password2": "Huaxing-setup-2026",
}


@pytest.mark.django_db
def test_login_page_of_a_fresh_install_sends_to_set_up(client):
    response = client.get("/accounts/login/")
    assert (response.status_code, response.url) == (302, "/accounts/setup/")


@pytest.mark.django_db
def test_register_page_of_a_fresh_install_sends_to_set_up(client):
    response = client.get("/accounts/register/")
    assert (response.status_code, response.url) == (302, "/accounts/setup/")


@pytest.mark.django_db
def test_set_up_page_opens_on_a_fresh_install(client):
    assert client.get("/accounts/setup/").status_code == 200


@pytest.mark.django_db
def test_set_up_creates_an_administrator(client):
    client.post("/accounts/setup/", SETUP)
    admin = User.objects.get()
    assert (admin.username, admin.email, admin.role, admin.is_superuser, admin.is_active) == (
        "chenjing",
        "chenjing@example.com",
        Role.ADMINISTRATOR,
        True,
        True,
    )
    assert admin.check_password("Huaxing-setup-2026")


@pytest.mark.django_db
def test_set_up_records_the_company(client):
    client.post("/accounts/setup/", SETUP)
    company = CompanySettings.load()
    assert (company.company_name, company.is_set_up) == ("苏州华星精密机械有限公司", True)


@pytest.mark.django_db
def test_set_up_signs_the_administrator_in_and_opens_user_admin(client):
    response = client.post("/accounts/setup/", SETUP)
    assert (response.status_code, response.url) == (302, "/accounts/users/")
    assert client.get("/accounts/users/").status_code == 200


@pytest.mark.django_db
def test_set_up_with_differing_passwords_creates_nothing(client):
    response = client.post("/accounts/setup/", {**SETUP, "password2": "something-else-2026"})
    assert response.status_code == 200
    assert "password2" in response.context["form"].errors
    assert not User.objects.exists()


@pytest.mark.django_db
def test_set_up_with_a_weak_password_creates_nothing(client):
    response = client.post("/accounts/setup/", {**SETUP, "password1": "12345678", "password2": "12345678"})
    assert "password1" in response.context["form"].errors
    assert not User.objects.exists()


@pytest.mark.django_db
def test_after_set_up_the_set_up_page_sends_to_login(client):
    client.post("/accounts/setup/", SETUP)
    response = Client().get("/accounts/setup/")
    assert (response.status_code, response.url) == (302, "/accounts/login/")


@pytest.mark.django_db
def test_after_set_up_posting_set_up_again_creates_nothing(client):
    client.post("/accounts/setup/", SETUP)
    Client().post("/accounts/setup/", {**SETUP, "username": "intruder", "email": "intruder@example.com"})
    assert list(User.objects.values_list("username", flat=True)) == ["chenjing"]


@pytest.mark.django_db
def test_after_set_up_the_login_page_opens(client):
    client.post("/accounts/setup/", SETUP)
    assert Client().get("/accounts/login/").status_code == 200
