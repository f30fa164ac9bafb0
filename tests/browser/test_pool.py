"""The public pool end to end: a rep claims a customer, logs a call, stops following up, and the
hourly recycle (run here with a controlled clock) returns the customer to the pool."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from .helpers import no_horizontal_overflow, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


def test_claim_follow_up_then_automatic_return_to_the_pool(live_server, page, make_user):
    from kehu.activities.models import ActivityKind
    from kehu.customers.models import Customer, TimelineEntry
    from kehu.pool.events import PoolEvent
    from kehu.pool.models import Pool
    from kehu.pool.tasks import recycle_pool_customers

    rep = make_user("zhangwei", last_name="张", first_name="伟")
    Pool.objects.create(name="华东公海", regions="江苏", followup_days_prospect=10, warn_days=3)
    customer = Customer.objects.create(name="苏州锦程电子科技有限公司", region="江苏", city="苏州")

    sign_in(page, live_server.url, rep.username)
    page.goto(f"{live_server.url}/pool/")
    row = page.locator(f"#pool-customer-{customer.pk}")
    expect(row).to_contain_text("苏州锦程电子科技有限公司")
    with page.expect_navigation():
        row.get_by_role("button", name="Claim").click()
    expect(page.locator("h1")).to_contain_text("苏州锦程电子科技有限公司")
    expect(page.locator(".alert-success")).to_contain_text("is now your customer")

    page.select_option("#id_kind", "call")
    page.fill("#id_subject", "电话回访采购部")
    page.get_by_role("button", name="Log", exact=True).click()
    expect(page.locator("#timeline-list")).to_contain_text("电话回访采购部")
    expect(page.locator("#timeline-list")).to_contain_text("Claimed from the public pool")

    # The hourly job, run as of nine days later: still the rep's (and warned). Eleven: back in the pool.
    def recycle(days):
        return recycle_pool_customers.enqueue(now=(timezone.now() + timedelta(days=days)).isoformat()).return_value

    assert recycle(9) == {"recycled": 0, "warned": 1}
    assert Customer.objects.get(pk=customer.pk).owner == rep
    assert recycle(11) == {"recycled": 1, "warned": 0}
    assert recycle(11) == {"recycled": 0, "warned": 0}

    response = page.goto(f"{live_server.url}/customers/{customer.pk}/")
    assert response.status == 404
    page.goto(f"{live_server.url}/pool/")
    row = page.locator(f"#pool-customer-{customer.pk}")
    expect(row).to_contain_text("苏州锦程电子科技有限公司")
    expect(row).to_contain_text("张伟")
    history = list(
        TimelineEntry.objects.filter(customer=customer).order_by("occurred_at", "id").values_list("kind", flat=True)
    )
    # Claimed, followed up, warned on day nine, returned on day eleven: every step on the timeline.
    assert {PoolEvent.POOL_CLAIMED, ActivityKind.CALL, PoolEvent.POOL_WARNED} <= set(history)
    assert history[-1] == PoolEvent.POOL_RECYCLED


def test_the_pool_fits_a_phone_and_claims_without_javascript(live_server, make_context, make_user):
    from kehu.customers.models import Customer

    rep = make_user("wangfang", last_name="王", first_name="芳")
    customer = Customer.objects.create(name="嘉兴新锐建材有限公司", region="浙江", city="嘉兴", tier="ordinary")
    page = make_context(**PHONE, java_script_enabled=False).new_page()
    sign_in(page, live_server.url, rep.username)
    page.goto(f"{live_server.url}/pool/")
    expect(page.locator(f"#pool-customer-{customer.pk}")).to_contain_text("嘉兴新锐建材有限公司")
    assert no_horizontal_overflow(page), page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    with page.expect_navigation():
        page.locator(f"#pool-customer-{customer.pk}").get_by_role("button", name="Claim").click()
    expect(page.locator("h1")).to_contain_text("嘉兴新锐建材有限公司")
    expect(page.locator("#pool")).to_contain_text("Release to the pool")
    assert no_horizontal_overflow(page)
    with page.expect_navigation():
        page.locator("#pool").get_by_role("button", name="Release to the pool").click()
    expect(page.locator(f"#pool-customer-{customer.pk}")).to_be_visible()
    assert Customer.objects.get(pk=customer.pk).owner_id is None
