"""Two people edit the same customer at once: the second save is refused with a clear message (PLT-5)."""

import pytest
from django.test import Client

from kehu.customers.models import Customer

RACE_MESSAGE = "Someone else changed this record"


def form_data(response) -> dict:
    """What the browser would post back: each field's current value from the rendered form."""
    form = response.context["form"]
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None or value is False:
            continue
        data[name] = "on" if value is True else value
    return data


@pytest.fixture
def customer(customer_of, team):
    return customer_of(team.rep1, phone="13812345678")


@pytest.fixture
def race(team, customer):
    """rep1 and manager1 each open the edit form before either saves."""
    first, second = Client(), Client()
    first.force_login(team.rep1)
    second.force_login(team.manager1)
    url = f"/customers/{customer.pk}/edit/"
    return url, (first, form_data(first.get(url))), (second, form_data(second.get(url)))


def test_first_save_of_a_race_succeeds(race, customer):
    url, (first, data), _second = race
    response = first.post(url, {**data, "name": "苏州华星精密机械股份有限公司"})
    assert response.status_code == 302


def test_second_save_of_a_race_shows_the_concurrent_edit_message(race):
    url, (first, data1), (second, data2) = race
    first.post(url, {**data1, "name": "苏州华星精密机械股份有限公司"})
    response = second.post(url, {**data2, "phone": "0512-66668888"})
    assert response.status_code == 200
    assert RACE_MESSAGE in response.content.decode()


def test_database_keeps_the_first_save_of_a_race(race, customer):
    url, (first, data1), (second, data2) = race
    first.post(url, {**data1, "name": "苏州华星精密机械股份有限公司"})
    second.post(url, {**data2, "phone": "0512-66668888"})
    saved = Customer.objects.get(pk=customer.pk)
    assert (saved.name, saved.phone, saved.version) == ("苏州华星精密机械股份有限公司", "13812345678", 2)


def test_sequential_edits_with_a_fresh_form_both_succeed(race, team, customer):
    url, (first, data1), (second, _stale) = race
    first.post(url, {**data1, "name": "苏州华星精密机械股份有限公司"})
    fresh = form_data(second.get(url))
    response = second.post(url, {**fresh, "phone": "0512-66668888"})
    assert response.status_code == 302
    saved = Customer.objects.get(pk=customer.pk)
    assert (saved.name, saved.phone, saved.version) == ("苏州华星精密机械股份有限公司", "0512-66668888", 3)
