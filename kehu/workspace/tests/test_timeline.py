"""The 360° page reads the timeline one page at a time, with a keyset cursor ("Older entries")."""

from datetime import timedelta

import pytest
from django.utils import timezone

from kehu.activities.models import ActivityKind
from kehu.core import events
from kehu.customers.models import TimelineEntry
from kehu.workspace.views import TIMELINE_PAGE


@pytest.fixture
def customer(team, customer_of):
    """A customer with 44 notes besides its creation: 45 entries, several sharing a timestamp."""
    customer = customer_of(team.rep1)
    start = timezone.now() - timedelta(days=10)
    for i in range(44):
        # Pairs of notes share a timestamp, so the cursor must break ties by id.
        events.record(
            ActivityKind.NOTE,
            customer_id=customer.pk,
            actor=team.rep1,
            summary=f"note-{i:02d}",
            occurred_at=start + timedelta(hours=i // 2),
        )
    return customer


def _page(client, customer, before=None):
    response = client.get(f"/customers/{customer.pk}/", {"before": before} if before else None)
    assert response.status_code == 200
    return response


def test_first_page_holds_the_newest_entries_and_an_older_link(client, team, customer):
    client.force_login(team.rep1)
    response = _page(client, customer)
    newest = list(TimelineEntry.objects.filter(customer=customer).order_by("-occurred_at", "-id")[:TIMELINE_PAGE])
    assert response.context["timeline"] == newest
    assert "Older entries" in response.content.decode()


def test_following_older_entries_walks_every_entry_once_in_order(client, team, customer):
    client.force_login(team.rep1)
    seen, before = [], None
    for _ in range(5):
        response = _page(client, customer, before)
        seen += response.context["timeline"]
        before = response.context["older"]
        if before is None:
            break
    expected = list(TimelineEntry.objects.filter(customer=customer).order_by("-occurred_at", "-id"))
    assert [e.pk for e in seen] == [e.pk for e in expected]


def test_last_page_has_no_older_link(client, team, customer):
    client.force_login(team.rep1)
    older = _page(client, customer).context["older"]
    response = _page(client, customer, older)
    assert len(response.context["timeline"]) == 45 - TIMELINE_PAGE
    assert response.context["older"] is None
    assert "Older entries" not in response.content.decode()


def test_older_link_carries_the_cursor_of_the_last_row(client, team, customer):
    client.force_login(team.rep1)
    response = _page(client, customer)
    last = response.context["timeline"][-1]
    assert response.context["older"] == f"{last.occurred_at.isoformat()}_{last.pk}"


def test_htmx_request_for_older_entries_gets_only_the_rows(client, team, customer):
    client.force_login(team.rep1)
    older = _page(client, customer).context["older"]
    response = client.get(f"/customers/{customer.pk}/", {"before": older}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert "note-00" in body
    assert "<html" not in body


def test_a_malformed_cursor_shows_the_first_page(client, team, customer):
    client.force_login(team.rep1)
    first = _page(client, customer).context["timeline"]
    assert _page(client, customer, "yesterday_x").context["timeline"] == first


def test_short_timeline_has_no_older_link(client, team, customer_of):
    client.force_login(team.rep1)
    response = _page(client, customer_of(team.rep1, name="新客户"))
    assert len(response.context["timeline"]) == 1
    assert response.context["older"] is None
