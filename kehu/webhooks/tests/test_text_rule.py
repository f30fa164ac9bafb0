"""Webhook targets are http(s) addresses; descriptions are one clean line."""

import pytest

from kehu.webhooks.models import WebhookSubscription


@pytest.mark.parametrize(
    ("url", "description", "field"),
    [
        ("javascript:alert(1)", "", "url"),
        ("ftp://hooks.example.com/kehu", "", "url"),
        ("https://hooks.example.com/kehu", "ERP\x07同步", "description"),
        ("https://hooks.example.com/kehu", "ERP\n同步", "description"),
    ],
)
def test_the_subscription_form_refuses_bad_targets_and_text(client, team, url, description, field):
    client.force_login(team.admin)
    response = client.post("/webhooks/", {"url": url, "events": ["lead.created"], "description": description})
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not WebhookSubscription.objects.exists()


def test_an_unclosed_ipv6_bracket_is_an_error_not_a_crash(api_client, team):
    response = api_client(team.admin).post(
        "/api/v1/webhooks/subscriptions", {"url": "http://[::1/hook", "events": ["lead.created"]}
    )
    assert response.status_code in (400, 422)
