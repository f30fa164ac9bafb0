"""Open complaints outside the complaint pages: the banner on the customer's sales views (OPEN_SERVICE)
lists them beside the open tickets, late ones marked; the daily quality-anomaly report carries the
day's complaints and the open ones past their step deadline."""

import json
from dataclasses import asdict
from datetime import date

import pytest

from kehu.core import lookups
from kehu.support.complaint_report import quality_section
from kehu.support.models_complaints import Complaint
from kehu.support.tests.complaints_setup import ComplaintDesk, at

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(team, customer_of):
    return ComplaintDesk(team, customer_of)


def test_open_complaints_are_in_the_banner_and_closed_ones_are_not(desk):
    first = desk.register(now=at(21, 9))
    Complaint.objects.filter(pk=first.pk).update(due_on=date(2099, 1, 1))
    late = desk.register(now=at(22, 9))
    Complaint.objects.filter(pk=late.pk).update(due_on=date(2020, 1, 1))
    gone = desk.register(now=at(23, 9))
    Complaint.objects.filter(pk=gone.pk).update(state="withdrawn")
    items = [i for i in lookups.ask_items(lookups.OPEN_SERVICE, [desk.mine.pk])[desk.mine.pk] if i.kind == "complaint"]
    # The earliest step deadline first, as on the 360° page.
    assert [(i.reference, i.is_late, i.perm) for i in items] == [
        (late.number, True, "support.view_complaint"),
        (first.number, False, "support.view_complaint"),
    ]
    assert items[1].link == f"/service/complaints/{first.pk}/"


def test_the_opportunity_page_shows_an_open_complaint(client, desk, team):
    from kehu.sales.tests.factories import make_opportunity

    complaint = desk.register()
    deal = make_opportunity(desk.mine, team.rep1)
    client.force_login(team.rep1)
    html = client.get(f"/sales/opportunities/{deal.pk}/").content.decode()
    box = html[html.index('id="open-service"') :]
    assert f'href="/service/complaints/{complaint.pk}/">{complaint.number}</a>' in box


def test_the_daily_report_counts_the_days_complaints(desk):
    desk.register(now=at(25, 9, 9), category="quality")
    desk.register(now=at(25, 9, 11), category="quality")
    other = desk.register(now=at(24, 9, 9), category="delivery")
    Complaint.objects.filter(pk=other.pk).update(due_on=date(2026, 9, 24))
    section = quality_section(date(2026, 9, 25))
    assert section.key == "complaints"
    json.dumps(asdict(section))  # stored with the report as JSON
    counted = [row for row in section.rows if row[2] != ""]
    assert [row[2] for row in counted] == [2]
    assert [row[1] for row in section.rows if row[2] == ""] == [f"{other.number} (2026-09-24)"]
    assert quality_section(date(2026, 9, 20)) is None


def test_the_lists_badge_a_customer_with_an_open_complaint(client, desk, team):
    from kehu.sales.tests.factories import make_opportunity

    desk.register()
    make_opportunity(desk.mine, team.rep1)
    client.force_login(team.rep1)
    for url in ("/customers/", "/sales/opportunities/"):
        html = client.get(url).content.decode()
        row = html[html.index(desk.mine.name) :]
        assert "badge bg-pink-lt" in row[: row.index("</td>")], url
