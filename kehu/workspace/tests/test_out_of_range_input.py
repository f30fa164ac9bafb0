"""Pages answer 4xx (or ignore the value), never 500, to ids and numbers far out of range."""

import pytest

HUGE = 2**70


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        f"/customers/{HUGE}/",
        f"/customers/{HUGE}/edit/",
        f"/customers/contacts/{HUGE}/edit/",
        f"/activities/{HUGE}/edit/",
        f"/accounts/users/{HUGE}/",
        f"/accounts/departments/{HUGE}/",
        f"/customers/?page={HUGE}",
        f"/customers/?owner={HUGE}",
        f"/activities/?customer={HUGE}",
        f"/customers/1/?before=x_{HUGE}",
        f"/accounts/audit/?before={HUGE}",
        f"/accounts/audit/?actor={HUGE}",
        f"/accounts/invitation/{'x' * 500}/",
    ],
)
def test_pages_survive_huge_numbers(client, team, path):
    client.force_login(team.admin)
    r = client.get(path)
    assert r.status_code < 500, (path, r.status_code)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        f"/customers/{HUGE}/delete/",
        f"/customers/{HUGE}/restore/",
        f"/activities/{HUGE}/done/",
        f"/accounts/users/{HUGE}/approve/",
        f"/accounts/tokens/{HUGE}/revoke/",
        f"/customers/contacts/{HUGE}/restore/",
        f"/customers/{HUGE}/log/",
    ],
)
def test_writes_survive_huge_ids(client, team, path):
    client.force_login(team.admin)
    r = client.post(path, {})
    assert r.status_code < 500, (path, r.status_code)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/customers/new/", {"name": "测试", "owner": HUGE, "latitude": "1e300", "longitude": "-1e300"}),
        (
            "/customers/new/",
            {
                "name": "测试",
                "kind": "company",
                "segment": "industrial",
                "tier": "key",
                "status": "active",
                "latitude": "91",
                "longitude": "200",
            },
        ),
        (
            "/customers/{pk}/log/",
            {
                "kind": "visit",
                "subject": "拜访",
                "occurred_at": "0001-01-01T00:00",
                "duration_minutes": HUGE,
                "contact": HUGE,
            },
        ),
        ("/customers/{pk}/facts/new/", {"level": HUGE, "title": "信息", "cost": "1e30", "obtained_on": "9999-12-31"}),
        ("/customers/{pk}/contacts/new/", {"name": "张三", "birthday": "0001-01-01", "email": "x" * 300}),
        (
            "/accounts/users/invite/",
            {"email": "new@example.com", "role": "sales_rep", "department": HUGE, "manager": HUGE},
        ),
    ],
)
def test_forms_answer_huge_or_absurd_values_with_field_errors(client, team, customer_of, path, data):
    customer = customer_of(team.rep1)
    client.force_login(team.admin)
    response = client.post(path.format(pk=customer.pk), data)
    assert response.status_code == 200  # the form again, with its errors
    assert "invalid-feedback" in response.content.decode()
