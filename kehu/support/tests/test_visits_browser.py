"""The engineer's visit on a phone (390 px) in Chromium, on a poor connection: the engineer opens
today's visit, fills the form (a part from the typeahead, a signature drawn with the pointer), the
phone goes offline, "Finish" keeps the report on the phone and says so; the text survives a reload
(kept in the browser); back online the report is sent by itself and arrives on the server once."""

import io

import pytest
from PIL import Image
from playwright.sync_api import expect

from kehu.support.models import ServiceVisit, Ticket, TicketState, VisitPart, VisitPhoto, VisitState
from kehu.support.tests.field_setup import Field
from tests.browser.conftest import (  # noqa: F401 (the browser tests' fixtures)
    browser_context_args,
    browser_type_launch_args,
    content_policy_refusals,
    make_context,
)
from tests.browser.helpers import no_horizontal_overflow, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


@pytest.fixture
def visit(team, customer_of, settings, tmp_path):
    from django.utils import timezone

    from kehu.support import visit_services

    settings.MEDIA_ROOT = tmp_path
    field = Field(team, customer_of)
    engineer = field.make_engineer("zhang", regions=[("浙江", "宁波")])
    engineer.set_password("kehu-test-pw")
    engineer.save()
    return visit_services.visit_plan(
        ticket=field.ticket, engineer=engineer, actor=team.service1, planned_for=timezone.now()
    )


def test_an_engineers_visit_offline_then_online(live_server, make_context, visit):  # noqa: F811
    context = make_context(**PHONE)
    page = context.new_page()
    sign_in(page, live_server.url, "zhang", "kehu-test-pw")
    page.goto(f"{live_server.url}/service/visits/")
    expect(page.locator("#visits")).to_contain_text("宁波海天精工股份有限公司")
    expect(page.locator(f"#visit-{visit.pk}")).to_contain_text("Today")
    assert no_horizontal_overflow(page)
    page.locator(f"#visit-{visit.pk}").click()
    expect(page.locator("h1")).to_have_text("宁波海天精工股份有限公司")
    assert no_horizontal_overflow(page), page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")

    page.fill("#work_done", "更换主轴轴承，试车正常")
    page.check("#fixed-yes")
    page.fill("#minutes_spent", "95")
    page.fill("#travel_km", "42.5")
    page.fill("#part-search", "CK6140")
    page.locator("#part-results button", has_text="CK6140-B").click()
    expect(page.locator("#parts-table")).to_contain_text("CK6140-B")
    page.locator("#parts-table input[type=number]").fill("2")
    # The customer signs with a finger (pointer events from the mouse here).
    page.locator("#signature-pad").scroll_into_view_if_needed()
    box = page.locator("#signature-pad").bounding_box()
    page.mouse.move(box["x"] + 30, box["y"] + 60)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(box["x"] + 30 + step * 25, box["y"] + 60 + (step % 3) * 15)
    page.mouse.up()
    # A photo from the camera (a file here): scaled and kept on the phone with the report.
    out = io.BytesIO()
    Image.new("RGB", (2000, 1000), "gray").save(out, "PNG")
    page.set_input_files("#photos", files=[{"name": "spindle.png", "mimeType": "image/png", "buffer": out.getvalue()}])
    expect(page.locator("#photo-count")).to_have_text("1 photos ready")
    page.fill("#confirmed_by", "王工")
    page.select_option("#satisfaction", "5")

    # The text is kept in the browser: a reload (online) brings it back.
    page.reload()
    expect(page.locator("#work_done")).to_have_value("更换主轴轴承，试车正常")
    expect(page.locator("#parts-table input[type=number]")).to_have_value("2")
    assert (
        page.evaluate(
            "JSON.parse(localStorage.getItem('kehu-visit-draft-' + document.querySelector('#visit-form').dataset.token)).strokes.length"
        )
        == 1
    )

    context.set_offline(True)
    page.locator("#visit-submit").click()
    expect(page.locator("#visit-status")).to_have_text("Saved on this phone; it will be sent when online.")
    assert ServiceVisit.objects.get(pk=visit.pk).state == VisitState.PLANNED

    context.set_offline(False)  # the 'online' event sends it
    expect(page.locator("#visit-summary")).to_be_visible(timeout=15_000)
    expect(page.locator("#visit-fixed")).to_have_text("Fixed")
    done = ServiceVisit.objects.get(pk=visit.pk)
    assert (done.state, done.work_done, done.fixed, done.minutes_spent, done.confirmed_by, done.satisfaction) == (
        VisitState.DONE,
        "更换主轴轴承，试车正常",
        True,
        95,
        "王工",
        5,
    )
    assert done.confirmation == "signature" and done.signature.name.endswith(".png")
    assert list(VisitPart.objects.filter(visit=done).values_list("specification__code", "quantity")) == [
        ("CK6140-B", 2)
    ]
    assert Ticket.objects.get(pk=visit.ticket_id).state == TicketState.RESOLVED
    # Sent once: the outbox on the phone is empty, and nothing waits to be sent again.
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('kehu-visit-')).length") == 0
    page.wait_for_timeout(500)
    assert ServiceVisit.objects.filter(ticket_id=visit.ticket_id, state=VisitState.DONE).count() == 1
    assert VisitPart.objects.count() == 1
    photo = VisitPhoto.objects.get()
    assert Image.open(photo.image.open("rb")).size == (1600, 800)
    expect(page.locator("#signature-image")).to_be_visible()
    assert no_horizontal_overflow(page)
