"""Checking in on a planned visit from a phone (SAL-7, SAL-12): position when allowed, time only without."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from .helpers import seed_sales_team, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


def _plan(rep, customer, at=None):
    from kehu.activities.services import visit_plan

    return visit_plan(
        customer=customer, actor=rep, planned_for=at or timezone.now() + timedelta(hours=1), subject="拜访设备部"
    )


def test_check_in_sends_the_phone_position(live_server, make_context):
    from kehu.activities.models import Activity

    _manager, rep, featured = seed_sales_team()
    plan = _plan(rep, featured)
    context = make_context(
        **PHONE, permissions=["geolocation"], geolocation={"latitude": 31.2989, "longitude": 120.5853, "accuracy": 25}
    )
    page = context.new_page()
    sign_in(page, live_server.url, rep.username)
    page.goto(f"{live_server.url}/activities/{plan.pk}/visit/")
    page.get_by_role("button", name="Check in").click()
    expect(page.locator("#checked-in")).to_contain_text("31.298900, 120.585300")
    plan = Activity.objects.get(pk=plan.pk)
    assert (str(plan.check_in_latitude), plan.check_in_accuracy_m) == ("31.298900", 25)

    page.fill("#id_duration_minutes", "40")
    page.fill("#id_outcome", "同意下月试样")
    page.fill("#id_next_step", "寄送样品")
    page.get_by_role("button", name="Log the visit").click()
    expect(page.locator("h1")).to_contain_text(featured.name)
    assert Activity.objects.get(pk=plan.pk).is_done


def test_check_in_without_javascript_keeps_the_time_only(live_server, make_context):
    from kehu.activities.models import Activity

    _manager, rep, featured = seed_sales_team()
    plan = _plan(rep, featured)
    page = make_context(**PHONE, java_script_enabled=False).new_page()
    sign_in(page, live_server.url, rep.username)
    page.goto(f"{live_server.url}/activities/{plan.pk}/visit/")
    page.get_by_role("button", name="Check in").click()
    expect(page.locator("#checked-in")).to_be_visible()
    plan = Activity.objects.get(pk=plan.pk)
    assert plan.checked_in_at is not None and plan.check_in_latitude is None


PHONE_390 = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 3}


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_check_in_from_the_week_on_a_phone_shows_the_distance(live_server, make_context, locale):
    from kehu.activities.models import Activity
    from kehu.customers.models import Customer

    from .helpers import no_horizontal_overflow

    _manager, rep, featured = seed_sales_team()
    Customer.objects.filter(pk=featured.pk).update(latitude="31.316000", longitude="120.672000")
    plan = _plan(rep, featured, at=timezone.now())  # today, whatever the hour: the week offers today's check-ins
    # 0.005° north of the customer: 556 m.
    context = make_context(
        **PHONE_390,
        locale=locale,
        permissions=["geolocation"],
        geolocation={"latitude": 31.321, "longitude": 120.672, "accuracy": 15},
    )
    page = context.new_page()
    sign_in(page, live_server.url, rep.username)
    page.goto(f"{live_server.url}/activities/week/")
    assert no_horizontal_overflow(page)
    button = page.locator(f'[data-activity="{plan.pk}"] button[type=submit]')
    expect(button).to_be_visible()
    button.click()
    page.wait_for_url(f"**/activities/{plan.pk}/visit/")
    distance = "556 m from the customer" if locale == "en-US" else "距客户 556 米"
    expect(page.locator("#checked-in .check-in-distance")).to_have_text(distance)
    expect(page.locator(".alert").first).to_contain_text(distance)
    assert no_horizontal_overflow(page)
    plan = Activity.objects.get(pk=plan.pk)
    assert (plan.check_in_distance_m, plan.check_in_basis, plan.check_in_warnings) == (556, "customer", "")


def test_a_far_check_in_warns_the_rep_and_reaches_the_managers_list(live_server, make_context):
    from kehu.customers.models import Customer

    manager, rep, featured = seed_sales_team()
    Customer.objects.filter(pk=featured.pk).update(latitude="31.316000", longitude="120.672000")
    plan = _plan(rep, featured)
    context = make_context(
        **PHONE_390, permissions=["geolocation"], geolocation={"latitude": 31.366, "longitude": 120.672, "accuracy": 15}
    )
    page = context.new_page()
    sign_in(page, live_server.url, rep.username)
    page.goto(f"{live_server.url}/activities/{plan.pk}/visit/")
    page.get_by_role("button", name="Check in").click()
    expect(page.locator("#checked-in")).to_contain_text("5.6 km from the customer")
    expect(page.locator("#checked-in .check-in-warning")).to_contain_text("Far from the customer: more than 2 km")

    manager_page = make_context(**PHONE_390).new_page()
    sign_in(manager_page, live_server.url, manager.username)
    manager_page.goto(f"{live_server.url}/activities/check-ins/")
    row = manager_page.locator(f'[data-visit="{plan.pk}"]')
    expect(row).to_contain_text("5.6 km from the customer")
    row.click()
    expect(manager_page.locator("#checked-in")).to_contain_text("Far from the customer")
