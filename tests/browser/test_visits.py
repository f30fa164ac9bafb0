"""Checking in on a planned visit from a phone (SAL-7, SAL-12): position when allowed, time only without."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from .helpers import seed_sales_team, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


def _plan(rep, customer):
    from kehu.activities.services import visit_plan

    return visit_plan(
        customer=customer, actor=rep, planned_for=timezone.now() + timedelta(hours=1), subject="拜访设备部"
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
