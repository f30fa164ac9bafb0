"""The service-levels settings pages: who may open them, the policy table in working hours and
minutes, the forms' errors, and that a denied write changes nothing."""

from datetime import time

import pytest
from django.urls import reverse

from kehu.core.models import AuditEntry
from kehu.support.models import ServiceSettings, SlaPolicy, TicketCategory

PAGES = ["support:setup", "support:policy-new", "support:hours"]


@pytest.fixture
def setup_data(db):
    repair = TicketCategory.objects.create(name="维修")
    TicketCategory.objects.create(name="咨询", is_active=False)
    SlaPolicy.objects.create(priority="urgent", first_response_minutes=30, resolution_minutes=240)
    SlaPolicy.objects.create(category=repair, priority="urgent", first_response_minutes=15, resolution_minutes=90)
    return repair


@pytest.mark.parametrize("username", ["admin", "service1"])
def test_managers_of_service_open_the_pages(client, team, setup_data, username, django_assert_max_num_queries):
    client.force_login(getattr(team, username))
    with django_assert_max_num_queries(12):
        page = client.get(reverse("support:setup"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "30 min / 4 h" in html and "15 min / 1 h 30 min" in html
    assert "Switched off" in html
    for name in PAGES[1:]:
        assert client.get(reverse(name)).status_code == 200


@pytest.mark.parametrize("username", ["gm", "manager1", "rep1", "marketing1"])
def test_others_are_refused_and_change_nothing(client, team, setup_data, username):
    client.force_login(getattr(team, username))
    for name in PAGES:
        assert client.get(reverse(name)).status_code == 403
    assert client.post(reverse("support:category-add"), {"name": "新"}).status_code == 403
    assert client.post(reverse("support:category-edit", args=[setup_data.pk]), {"name": "x"}).status_code == 403
    policy = SlaPolicy.objects.get(category=None)
    assert client.post(reverse("support:policy-delete", args=[policy.pk])).status_code == 403
    assert client.post(reverse("support:hours"), {"day_starts": "06:00"}).status_code == 403
    assert sorted(TicketCategory.objects.values_list("name", flat=True)) == ["咨询", "维修"]
    assert SlaPolicy.objects.count() == 2 and ServiceSettings.load().day_starts == time(8, 30)
    assert AuditEntry.objects.count() == 0


def test_anonymous_visitors_are_sent_to_sign_in(client, setup_data):
    for name in PAGES:
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_policy_is_entered_in_hours_and_minutes(client, team, setup_data):
    client.force_login(team.service1)
    url = reverse("support:policy-new")
    form = {"category": setup_data.pk, "priority": "high", "first_response_hours": "1", "first_response_mins": "0"}
    bad = client.post(url, {**form, "resolution_hours": "0", "resolution_mins": "30"}).content.decode()
    assert "The resolution target cannot be shorter than the first response target." in bad
    zero = client.post(url, {**form, "first_response_hours": "0", "resolution_hours": "0", "resolution_mins": "0"})
    assert "Enter a time longer than zero." in zero.content.decode()
    clash = client.post(url, {**form, "priority": "urgent", "resolution_hours": "8", "resolution_mins": "0"})
    assert "There is a policy for this category and priority already" in clash.content.decode()
    ok = client.post(url, {**form, "resolution_hours": "8", "resolution_mins": "15"})
    assert ok.status_code == 302
    policy = SlaPolicy.objects.get(category=setup_data, priority="high")
    assert (policy.first_response_minutes, policy.resolution_minutes) == (60, 495)
    edit = client.get(reverse("support:policy-edit", args=[policy.pk])).content.decode()
    assert 'name="resolution_hours" value="8"' in edit and 'name="resolution_mins" value="15"' in edit


def test_categories_are_added_renamed_and_switched_off(client, team, setup_data):
    client.force_login(team.service1)
    assert client.post(reverse("support:category-add"), {"name": "安装调试"}).status_code == 302
    page = client.post(reverse("support:category-add"), {"name": "维修"}, follow=True).content.decode()
    assert "A category with this name exists already." in page
    url = reverse("support:category-edit", args=[setup_data.pk])
    assert client.post(url, {"name": "维修服务"}).status_code == 302  # the box unticked: switched off
    setup_data.refresh_from_db()
    assert (setup_data.name, setup_data.is_active) == ("维修服务", False)
    assert client.get(reverse("support:category-edit", args=[99999])).status_code == 404


def test_the_hours_form_shows_the_models_rule(client, team):
    client.force_login(team.service1)
    data = {"day_starts": "08:30", "lunch_starts": "13:30", "lunch_ends": "13:00", "day_ends": "17:30"}
    bad = client.post(reverse("support:hours"), {**data, "warn_before_minutes": "60"}).content.decode()
    assert "The working day must start before the lunch break, which must end before the day ends." in bad
    assert ServiceSettings.load().lunch_starts == time(12, 0)
    data["lunch_starts"] = "12:00"
    assert client.post(reverse("support:hours"), {**data, "warn_before_minutes": "30"}).status_code == 302
    hours = ServiceSettings.load()
    assert (hours.lunch_starts, hours.warn_before_minutes) == (time(12, 0), 30)


def test_the_settings_page_lists_service_levels(client, team):
    client.force_login(team.service1)
    html = client.get("/settings/").content.decode()
    assert 'id="settings-service-levels"' in html and 'href="/service/setup/"' in html
