"""Helpers for the API tests: records made through the services, and JSON shortcuts."""

import pytest


@pytest.fixture
def contact_of():
    """Make a contact of a customer through the service: contact_of(customer, actor, name=..., **fields)."""
    from kehu.customers.services import contact_create

    def make(customer, actor=None, name="张伟", **fields):
        return contact_create(customer=customer, actor=actor or customer.owner, name=name, **fields)

    return make


@pytest.fixture
def activity_of():
    """Log an activity on a customer through the service: activity_of(customer, actor, subject=..., **fields)."""
    from kehu.activities.services import activity_log

    def make(customer, actor=None, subject="拜访采购部", **fields):
        return activity_log(customer=customer, actor=actor or customer.owner, subject=subject, **fields)

    return make


@pytest.fixture
def rep1_api(team, api_client):
    return api_client(team.rep1)
