import pytest


@pytest.fixture
def lead_of(team):
    """Make a lead owned by a user, through the service."""
    from kehu.leads.services import lead_create

    def make(owner, company_name="宁波恒达机电有限公司", **fields):
        fields.setdefault("phone", "057488881234")
        fields.setdefault("contact_name", "王经理")
        return lead_create(actor=owner, owner=owner, company_name=company_name, **fields)

    return make
