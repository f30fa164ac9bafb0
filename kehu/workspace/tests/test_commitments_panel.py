from datetime import date, timedelta

import pytest

from kehu.activities.services import activity_log


@pytest.mark.django_db
def test_the_360_page_shows_the_soonest_20_open_commitments_and_counts_the_rest(client, team, customer_of):
    customer = customer_of(team.rep1)
    start = date(2026, 12, 1)
    for i in range(22):
        activity_log(
            customer=customer,
            actor=team.rep1,
            kind="commitment",
            subject=f"承诺第{i:02d}项",
            due_on=start + timedelta(days=i),
        )
    client.force_login(team.rep1)
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    panel = page.split("Open commitments", 1)[1].split('id="contacts"', 1)[0]
    assert [f"承诺第{i:02d}项" in panel for i in range(22)] == [True] * 20 + [False] * 2
    assert "2 more open commitments" in panel
    listed = client.get(f"/activities/?customer={customer.pk}&open_commitments=on").content.decode()
    assert all(f"承诺第{i:02d}项" in listed for i in range(22))
